"""addin/functions.js in a bare JavaScript context, as Excel desktop's JavaScript-only runtime runs it: no
page, no DOM, no `location`, no localStorage, no modules, no URL class; only fetch, setTimeout and
OfficeRuntime.storage beside the language itself. Node's `vm` builds that context; the functions call
the live server found in OfficeRuntime.storage, as the pane leaves it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = r"""
const vm = require("node:vm");
const fs = require("node:fs");
const [script, server, calls] = [process.argv[1], process.argv[2], JSON.parse(process.argv[3])];
const registry = {};
class CustomError { constructor(code, message) { this.code = code; this.message = message; } }
const storage = { "chronos-excel.serverUrl": server };
const sandbox = {
  CustomFunctions: { associate: (id, f) => { registry[id] = f; }, Error: CustomError,
                     ErrorCode: { invalidValue: "#VALUE!", notAvailable: "#N/A", invalidNumber: "#NUM!",
                                  divisionByZero: "#DIV/0!" } },
  OfficeRuntime: { storage: { getItem: async (k) => storage[k] ?? null } },
  fetch, setTimeout,
};
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(script, "utf8"), sandbox, { filename: script });
const call = async ([id, args]) => {
  try { return { value: await registry[id](...args) }; }
  catch (e) { return e instanceof CustomError ? { error: e.code, message: e.message } : { thrown: String(e) }; }
};
Promise.all(calls.map(call)).then((results) => console.log(JSON.stringify({ names: Object.keys(registry), results })));
"""
VALUES = [[float(10 + k % 7)] for k in range(40)]


@pytest.mark.node
def test_functions_run_without_a_page(live_server):
    calls = [
        ["FORECAST", [VALUES, None, 3, None]],
        ["INTERVAL", [VALUES, None, 2, 0.5]],
        ["BACKTEST", [VALUES, None, 3, 2, "MAE"]],
        ["FORECAST", [[[1, 2], [3, 4]], None, None, None]],
    ]
    result = subprocess.run(
        ["node", "-e", RUN, str(ROOT / "addin" / "functions.js"), f"{live_server}/", json.dumps(calls)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert sorted(answer["names"]) == ["ANOMALIES", "BACKTEST", "FORECAST", "FORECAST.AT", "INTERVAL"]
    forecast, interval, backtest, bad = answer["results"]
    assert len(forecast["value"]) == 3 and all(isinstance(r[0], float) for r in forecast["value"])
    assert [len(r) for r in interval["value"]] == [3, 3]
    assert isinstance(backtest["value"], float)
    assert bad["error"] == "#VALUE!" and "single row or column" in bad["message"]
