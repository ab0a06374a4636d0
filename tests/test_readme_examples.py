"""Every curl example in the README works, and every answer the README shows is what the bundled model
really answers to the command above it (``python -m tests.readme_examples --write`` regenerates them)."""

from __future__ import annotations

import json

import pytest

from chronos_excel import create_app

from .readme_examples import APP_CONFIG, README, call, differences, examples, rounded

EXAMPLES = examples(README.read_text())


@pytest.fixture(scope="module")
def bundled():
    return create_app(APP_CONFIG).test_client()


def test_the_readme_has_examples_for_every_route_with_answers_shown():
    paths = {e.path for e in EXAMPLES}
    assert {"/api/v1/forecast", "/api/v1/anomalies", "/api/v1/backtest", "/api/v1/health"} <= paths
    assert sum(e.shown is not None for e in EXAMPLES) >= 4


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.method} {e.path} #{k}" for k, e in enumerate(EXAMPLES)])
def test_each_example_answers_what_the_readme_shows(bundled, example):
    status, answer = call(bundled, example)
    assert status < 300, answer
    if example.shown is None:
        return
    problems = differences(json.loads(example.shown), rounded(answer))
    assert not problems, "README.md is out of date (python -m tests.readme_examples --write):\n" + "\n".join(
        problems[:10]
    )


def test_the_comparison_catches_a_wrong_number_a_missing_field_and_a_wrong_label():
    shown = {"model": {"id": "bundled"}, "median": [130.1, 131.7]}
    assert differences(shown, {"model": {"id": "bundled"}, "median": [130.2, 131.6]}) == []
    assert differences(shown, {"model": {"id": "bundled"}, "median": [140.0, 131.7]})
    assert differences(shown, {"model": {"id": "bundled"}, "median": [130.1]})
    assert differences(shown, {"model": {"id": "amazon/chronos-2"}, "median": [130.1, 131.7]})
    assert differences(shown, {"median": [130.1, 131.7], "model": {"id": "bundled"}})
