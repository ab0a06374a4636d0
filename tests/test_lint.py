"""The code base stays lint-clean and formatted (ruff; ESLint and tsc for the add-in), in the one test command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["backend", "tests", "bench"]


def test_ruff_finds_no_problems():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", *PATHS], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_ruff_formatted():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", *PATHS], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


# The add-in's JavaScript: ESLint and TypeScript's checker against Microsoft's typings (@types/office-js,
# @types/custom-functions-runtime), from the node tools that `npm ci` installs (package.json).
# (marked `node`: conftest stops the run with one line when Node.js or `npm ci` is missing)


def node_tool(name: str, *args: str) -> subprocess.CompletedProcess:
    """Run a tool from node_modules/.bin."""
    tool = ROOT / "node_modules" / ".bin" / name
    return subprocess.run([str(tool), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.node
def test_addin_javascript_is_eslint_clean():
    result = node_tool("eslint", "addin")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.node
def test_addin_javascript_type_checks_against_office_typings():
    result = node_tool("tsc", "--noEmit", "-p", ".")
    assert result.returncode == 0, result.stdout + result.stderr
