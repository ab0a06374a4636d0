"""Every curl example in the README works, and every answer the README shows is what the bundled model
really answers to the command above it (``python -m tests.readme_examples --write`` regenerates them)."""

from __future__ import annotations

import json

from chronos_excel import create_app

from .readme_examples import README, Session, app_config, differences, examples, rounded

EXAMPLES = examples(README.read_text())


def test_the_readme_has_examples_for_every_route_with_answers_shown():
    routes = {(e.method, e.path) for e in EXAMPLES}
    for route in [
        ("POST", "/api/v1/forecast"),
        ("POST", "/api/v1/anomalies"),
        ("POST", "/api/v1/backtest"),
        ("GET", "/api/v1/health"),
        ("POST", "/api/v1/adapters"),
        ("GET", "/api/v1/jobs/JOB_ID"),
        ("GET", "/api/v1/adapters"),
        ("DELETE", "/api/v1/adapters/sales"),
    ]:
        assert route in routes, route
    assert sum(e.shown is not None for e in EXAMPLES) >= 8


def test_every_example_answers_what_the_readme_shows():
    """The examples in order, as a reader would paste them: the adapter one makes is used by the next."""
    session = Session(create_app(app_config()).test_client())
    problems = []
    for k, example in enumerate(EXAMPLES):
        status, answer = session.call(example)
        assert status < 300, (example.method, example.path, answer)
        if example.shown is not None:
            found = differences(json.loads(example.shown), rounded(answer), f"example {k} ({example.path})")
            problems += found[:5]
    assert not problems, "README.md is out of date (python -m tests.readme_examples --write):\n" + "\n".join(problems)


def test_the_comparison_catches_a_wrong_number_a_missing_field_and_a_wrong_label():
    shown = {"model": {"id": "bundled"}, "median": [130.1, 131.7]}
    assert differences(shown, {"model": {"id": "bundled"}, "median": [130.2, 131.6]}) == []
    assert differences(shown, {"model": {"id": "bundled"}, "median": [140.0, 131.7]})
    assert differences(shown, {"model": {"id": "bundled"}, "median": [130.1]})
    assert differences(shown, {"model": {"id": "amazon/chronos-2"}, "median": [130.1, 131.7]})
    assert differences(shown, {"median": [130.1, 131.7], "model": {"id": "bundled"}})
