"""Declared = tested: the floors in pyproject.toml are the versions CI's second run installs, the README's
set-up commands are the ones CI runs, and the Python versions said are the ones declared."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
README = (ROOT / "README.md").read_text()
CI = (ROOT / ".ci" / "run").read_text()


def declared() -> list[Requirement]:
    """The runtime and test requirements (the bench extra is for benchmarks only, run by hand)."""
    project = PYPROJECT["project"]
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]


def pinned() -> dict[str, Requirement]:
    lines = (ROOT / ".ci" / "lowest.txt").read_text().splitlines()
    requirements = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    return {r.name.lower(): r for r in requirements}


def test_every_declared_dependency_has_a_floor_and_ci_installs_exactly_it():
    lowest = pinned()
    for requirement in declared():
        floors = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        assert floors, f"{requirement} declares no lower bound: its oldest version would be untested"
        pin = lowest.get(requirement.name.lower())
        assert pin is not None, f"{requirement.name} is missing from .ci/lowest.txt"
        [spec] = pin.specifier
        assert spec.operator == "==" and Version(spec.version) == max(floors), (
            f".ci/lowest.txt pins {pin}, but pyproject.toml declares {requirement}"
        )
        assert pin.marker == requirement.marker, f"{pin} and {requirement} differ in their environment markers"
    assert set(lowest) == {r.name.lower() for r in declared()}, "pins for packages pyproject.toml does not declare"


def test_ci_runs_the_readme_test_command_then_the_suite_on_the_floors():
    [command] = re.findall(r"Install the test tools and run the whole test suite.*?```bash\n(.+?)\n```", README, re.S)
    assert command in CI.splitlines(), "`.ci/run` must run the README's test command exactly"
    assert "-c .ci/lowest.txt" in CI and 'pytest -m "not browser"' in CI
    assert CI.index(command) < CI.index("-c .ci/lowest.txt")


def test_the_python_versions_said_are_the_ones_declared():
    floor = re.fullmatch(r">=3\.(\d+)", PYPROJECT["project"]["requires-python"])
    assert floor, PYPROJECT["project"]["requires-python"]
    minor = int(floor.group(1))
    assert minor >= 11, "Python 3.10 reached its end of life in October 2026"
    assert f"Python 3.{minor} or newer" in README
    assert PYPROJECT["tool"]["ruff"]["target-version"] == f"py3{minor}"
