"""addin/functions.js in a bare JavaScript context, as Excel desktop's JavaScript-only runtime runs it: no
page, no DOM, no `location`, no localStorage, no modules, no URL class; only fetch, setTimeout and
OfficeRuntime.storage beside the language itself. Node's `vm` builds that context; the functions call
the live server found in OfficeRuntime.storage, as the pane leaves it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

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
const revive = (v) => Array.isArray(v) ? v.map(revive)
  : v && typeof v === "object" && "__error__" in v ? new CustomError(v.__error__, "") : v;
const call = async ([id, args]) => {
  try { return { value: await registry[id](...revive(args)) }; }
  catch (e) { return e instanceof CustomError ? { error: e.code, message: e.message } : { thrown: String(e) }; }
};
Promise.all(calls.map(call)).then((results) => console.log(JSON.stringify({ names: Object.keys(registry), results })));
"""
VALUES = [[float(10 + k % 7)] for k in range(40)]


def run_in_bare_runtime(server: str, calls: list, whole: bool = False) -> Any:
    """Run the calls in the bare runtime against the server: their results (``whole``: also the names the
    script associated)."""
    result = subprocess.run(
        ["node", "-e", RUN, str(ROOT / "addin" / "functions.js"), f"{server}/", json.dumps(calls)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    return answer if whole else answer["results"]


@pytest.mark.node
def test_functions_run_without_a_page(live_server):
    calls = [
        ["FORECAST", [VALUES, None, 3, None]],
        ["INTERVAL", [VALUES, None, 2, 0.5]],
        ["BACKTEST", [VALUES, None, 3, 2, "MAE"]],
        ["FORECAST", [[[1, 2], [3, 4]], None, None, None]],
    ]
    answer = run_in_bare_runtime(live_server, calls, whole=True)
    assert sorted(answer["names"]) == ["ANOMALIES", "BACKTEST", "FORECAST", "FORECAST.AT", "INTERVAL"]
    forecast, interval, backtest, bad = answer["results"]
    assert len(forecast["value"]) == 3 and all(isinstance(r[0], float) for r in forecast["value"])
    assert [len(r) for r in interval["value"]] == [3, 3]
    assert isinstance(backtest["value"], float)
    assert bad["error"] == "#VALUE!" and "single row or column" in bad["message"]


# How Excel hands an error cell to an `any` parameter once functions.json sets allowErrorForDataTypeAny:
# a CustomFunctions.Error, a data-types ErrorCellValue, or (older hosts) the error's text.
NA_AS_ERROR = {"__error__": "#N/A"}
NA_AS_CELL_VALUE = {"type": "Error", "basicType": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}


@pytest.mark.node
def test_na_cells_are_missing_values_as_in_the_pane(live_server):
    """=CHRONOS.FORECAST(B2:B145, A2:A145, 12) over a range holding #N/A: those cells are missing values."""
    dates = [[float(d)] for d in range(45292, 45292 + 40)]  # 40 days from 2024-01-01
    holes = {5, 17, 30}
    blanks = [[None] if k in holes else row for k, row in enumerate(VALUES)]
    forms = [NA_AS_ERROR, NA_AS_CELL_VALUE, "#N/A"]
    with_na = [[forms[sorted(holes).index(k)]] if k in holes else row for k, row in enumerate(VALUES)]
    calls = [
        ["FORECAST", [blanks, dates, 12, None]],
        ["FORECAST", [with_na, dates, 12, None]],
        ["INTERVAL", [with_na, dates, 4, 0.8]],
        ["FORECAST", [[*VALUES[:10], [{"__error__": "#DIV/0!"}]], None, 3, None]],
    ]
    blank_answer, na_answer, interval, div0 = run_in_bare_runtime(live_server, calls)
    assert "value" in na_answer, na_answer
    assert len(na_answer["value"]) == 12
    assert na_answer["value"] == blank_answer["value"]
    assert [len(row) for row in interval["value"]] == [3] * 4
    assert div0["error"] == "#VALUE!" and "#DIV/0! at position 11" in div0["message"]


@pytest.mark.node
def test_the_adapter_argument_runs_the_adapted_model(live_server, client):
    """=CHRONOS.FORECAST(B2:B41, , 3, , "name"): the adapter's forecast; the same cells without it, the base
    model's, even when Excel recalculates both at once."""
    from tests.adapting import sawtooth, start, wait_for

    history = sawtooth(60, seed=2, period=6)
    job = start(client, "formula-adapter", [{"values": history}], steps=10)
    assert wait_for(client, job["id"])["state"] == "succeeded"
    cells = [[v] for v in history]
    calls = [
        ["FORECAST", [cells, None, 3, None, "formula-adapter"]],
        ["FORECAST", [cells, None, 3, None, None]],
        ["FORECAST", [cells, None, 3, None, "no-such-adapter"]],
        ["FORECAST", [cells, None, 3, None, "bad name!"]],
    ]
    adapted, base, unknown, bad = run_in_bare_runtime(live_server, calls)
    answers = {}
    for name in ("formula-adapter", None):
        body = {"series": [{"values": history}], "horizon": 16, **({"adapter": name} if name else {})}
        answers[name] = client.post("/api/v1/forecast", json=body).get_json()["forecasts"][0]["median"][:3]
    assert [row[0] for row in adapted["value"]] == answers["formula-adapter"]
    assert [row[0] for row in base["value"]] == answers[None] != answers["formula-adapter"]
    assert unknown["error"] == "#VALUE!" and "no adapter named 'no-such-adapter'" in unknown["message"]
    assert bad["error"] == "#VALUE!" and "adapter must be the name" in bad["message"]
