"""Small builders and assertions shared by the API tests."""

from __future__ import annotations

from typing import Any

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(response: Any, status: int, loc: list | None = None, match: str | None = None) -> dict:
    """Assert an RFC 9457 problem with ``status``; optionally that an error sits at ``loc`` and says ``match``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert PROBLEM_KEYS <= body.keys()
    assert body["status"] == status
    assert "Traceback" not in body["detail"]
    if loc is not None:
        locs = [err["loc"] for err in body["errors"]]
        assert loc in locs, f"{loc} not in {locs}"
        if match is not None:
            msg = next(err["msg"] for err in body["errors"] if err["loc"] == loc)
            assert match in msg, msg
    elif match is not None:
        assert match in body["detail"], body["detail"]
    return body


def series(values: list, timestamps: list | None = None, name: str | None = None) -> dict:
    """One request series."""
    item: dict[str, Any] = {"values": values}
    if timestamps is not None:
        item["timestamps"] = timestamps
    if name is not None:
        item["name"] = name
    return item


def post_ok(client: Any, path: str, body: dict, response_model: type) -> dict:
    """POST ``body``; assert a 200 whose JSON has no NaN/Infinity and validates against ``response_model``."""
    response = client.post(path, json=body)
    assert response.status_code == 200, response.get_json()
    text = response.get_data(as_text=True)
    assert "NaN" not in text and "Infinity" not in text
    data = response.get_json()
    response_model.model_validate(data)
    return data
