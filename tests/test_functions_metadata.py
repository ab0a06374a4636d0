"""addin/functions.json is what Microsoft's custom-functions-metadata generates from addin/functions.js."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ADDIN = ROOT / "addin"
# The contract of issue 11 (then 21: an optional adapter; 22: calibrate): names and argument orders users type.
SIGNATURES = {
    "FORECAST": ["values", "timeline", "horizon", "quantile", "adapter", "calibrate"],
    "FORECAST.AT": ["target_date", "values", "timeline", "quantile", "adapter"],
    "INTERVAL": ["values", "timeline", "horizon", "level", "adapter", "calibrate"],
    "ANOMALIES": ["values", "timeline", "level", "adapter"],
    "BACKTEST": ["values", "timeline", "horizon", "windows", "metric", "adapter"],
}


@pytest.mark.node
def test_committed_metadata_is_the_generators_output_plus_errors_as_inputs(tmp_path):
    """`npm run functions`: Microsoft's generator, then one documented key it cannot write itself,
    ``allowErrorForDataTypeAny`` (so that #N/A cells reach the functions instead of Excel answering #N/A)."""
    tool = ROOT / "node_modules" / ".bin" / "custom-functions-metadata"
    out = tmp_path / "functions.json"
    result = subprocess.run(
        [str(tool), "generate", str(ADDIN / "functions.js"), str(out)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0 and out.exists(), result.stdout + result.stderr
    generated = json.loads(out.read_text())
    assert "allowErrorForDataTypeAny" not in generated  # else the extra step is no longer needed
    functions = generated.pop("functions")
    expected = {**generated, "allowErrorForDataTypeAny": True, "functions": functions}
    committed = json.loads((ADDIN / "functions.json").read_text())
    assert committed == expected and list(committed) == list(expected), (
        "addin/functions.json is stale: run `npm run functions` and commit it"
    )


@pytest.mark.node
def test_npm_run_functions_writes_exactly_that(tmp_path):
    copy = tmp_path / "repo"
    (copy / "addin").mkdir(parents=True)
    (copy / "addin" / "functions.js").write_text((ADDIN / "functions.js").read_text())
    (copy / "package.json").write_text((ROOT / "package.json").read_text())
    (copy / "node_modules").symlink_to(ROOT / "node_modules")
    result = subprocess.run(["npm", "run", "--silent", "functions"], cwd=copy, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (copy / "addin" / "functions.json").read_text() == (ADDIN / "functions.json").read_text()


def test_metadata_declares_the_five_functions_with_their_arguments():
    functions = json.loads((ADDIN / "functions.json").read_text())["functions"]
    found = {f["name"]: [p["name"] for p in f["parameters"]] for f in functions}
    assert found == SIGNATURES
    assert all(f["id"] == f["name"] for f in functions)


def test_every_function_in_the_metadata_is_associated_in_the_script():
    script = (ADDIN / "functions.js").read_text()
    for name in SIGNATURES:
        assert f'CustomFunctions.associate("{name}", ' in script
