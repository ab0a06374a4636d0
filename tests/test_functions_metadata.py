"""addin/functions.json is what Microsoft's custom-functions-metadata generates from addin/functions.js."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ADDIN = ROOT / "addin"
# The contract of issue 11: names and argument orders users type.
SIGNATURES = {
    "FORECAST": ["values", "timeline", "horizon", "quantile"],
    "FORECAST.AT": ["target_date", "values", "timeline", "quantile"],
    "INTERVAL": ["values", "timeline", "horizon", "level"],
    "ANOMALIES": ["values", "timeline", "level"],
    "BACKTEST": ["values", "timeline", "horizon", "windows", "metric"],
}


@pytest.mark.node
def test_committed_metadata_is_what_the_generator_writes(tmp_path):
    tool = ROOT / "node_modules" / ".bin" / "custom-functions-metadata"
    out = tmp_path / "functions.json"
    result = subprocess.run(
        [str(tool), "generate", str(ADDIN / "functions.js"), str(out)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0 and out.exists(), result.stdout + result.stderr
    assert json.loads((ADDIN / "functions.json").read_text()) == json.loads(out.read_text()), (
        "addin/functions.json is stale: run `npm run functions` and commit it"
    )


def test_metadata_declares_the_five_functions_with_their_arguments():
    functions = json.loads((ADDIN / "functions.json").read_text())["functions"]
    found = {f["name"]: [p["name"] for p in f["parameters"]] for f in functions}
    assert found == SIGNATURES
    assert all(f["id"] == f["name"] for f in functions)


def test_every_function_in_the_metadata_is_associated_in_the_script():
    script = (ADDIN / "functions.js").read_text()
    for name in SIGNATURES:
        assert f'CustomFunctions.associate("{name}", ' in script
