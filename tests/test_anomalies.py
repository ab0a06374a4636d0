"""/api/v1/anomalies: every scored point is judged against the central band of a forecast made only from the
points before it, and flagged, scored and directed exactly as the issue says."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from chronos.chronos2 import Chronos2Pipeline
from chronos.utils import interpolate_quantiles

from chronos_excel.anomalies import MIN_CALIBRATION
from chronos_excel.schemas import AnomaliesResponse

from .helpers import assert_problem, post_ok, series

FIELDS = ["expected", "lower", "upper", "is_anomaly", "score", "direction"]


@pytest.fixture(scope="module")
def pipeline(tiny_model_dir):
    return Chronos2Pipeline.from_pretrained(str(tiny_model_dir), device_map="cpu")


def wave(n: int, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    return (40 + 6 * np.sin(np.arange(n) / 4) + rng.normal(0, 1, n)).round(3).tolist()


def scan(client, body: dict) -> list[dict]:
    """Post, check the answer is NaN-free JSON that validates against the response model, return the results."""
    return post_ok(client, "/api/v1/anomalies", body, AnomaliesResponse)["anomalies"]


def scored_indices(values: list, min_context: int, last: int | None) -> list[int]:
    """The points the issue says get a score, less those with no known point before them."""
    first = min_context if last is None else max(min_context, len(values) - last)
    return [i for i in range(first, len(values)) if values[i] is not None and any(v is not None for v in values[:i])]


def planned_windows(values: list, min_context: int, last: int | None, block: int) -> list[tuple[int, list[int]]]:
    """(cutoff, points): a window starts at the first scored point not yet covered and spans ``block`` steps."""
    todo, windows = scored_indices(values, min_context, last), []
    while todo:
        cutoff = todo[0]
        points = [i for i in todo if i < cutoff + block]
        windows.append((cutoff, points))
        todo = todo[len(points) :]
    return windows


def oracle_bands(pipeline, values: list, level: float, min_context: int, last: int | None, block: int, context: int):
    """Expected, lower and upper per point from direct pipeline calls on each window's earlier points only."""
    n = len(values)
    expected, lower, upper = [None] * n, [None] * n, [None] * n
    windows = planned_windows(values, min_context, last, block)
    padded = [None] * context + values  # every window reads exactly `context` points, NaN before the start
    contexts = [
        torch.tensor([math.nan if v is None else v for v in padded[c : c + context]], dtype=torch.float32)
        for c, _ in windows
    ]
    if not contexts:
        return expected, lower, upper
    grid = torch.cat(pipeline.predict(contexts, prediction_length=block), dim=0).transpose(1, 2).sort(dim=-1).values
    median = grid[..., pipeline.quantiles.index(0.5)].numpy()
    band = interpolate_quantiles([(1 - level) / 2, (1 + level) / 2], pipeline.quantiles, grid).numpy()
    for k, (cutoff, points) in enumerate(windows):
        for i in points:
            expected[i] = float(median[k, i - cutoff])
            lower[i], upper[i] = float(band[k, i - cutoff, 0]), float(band[k, i - cutoff, 1])
    return expected, lower, upper


def assert_rules_hold(result: dict) -> None:
    """The issue's flag, direction, score and count rules, point by point."""
    flags = 0
    for i, value in enumerate(result["values"]):
        lower, upper = result["lower"][i], result["upper"][i]
        if result["is_anomaly"][i] is None:
            assert value is None or lower is None
            assert [result[f][i] for f in FIELDS] == [None, None, None, None, None, 0], i
            continue
        assert lower <= result["expected"][i] <= upper, i
        outside = value < lower or value > upper
        assert result["is_anomaly"][i] is outside, i
        assert result["direction"][i] == (1 if value > upper else -1 if value < lower else 0), i
        if outside and upper == lower:  # a zero-width band (e.g. one known point before): scaled by the series
            assert result["score"][i] > 0, i
        elif outside:
            distance = value - upper if value > upper else lower - value
            assert result["score"][i] == pytest.approx(distance / (upper - lower), rel=1e-9), i
        else:
            assert result["score"][i] == 0, i
        flags += outside
    assert result["count"] == flags


@pytest.mark.parametrize(
    ("values", "options"),
    [
        (wave(70), {}),  # defaults: level 0.95, min_context 32; windows at 32, 48, 64
        (
            # level 0.5 and blanks: a blank where a window would start moves its cutoff to the next known point
            [None if i in (7, 12, 21, 22, 40) else v for i, v in enumerate(wave(60, 1))],
            {"level": 0.5, "min_context": 5},
        ),
        (wave(560, 2), {"level": 0.8, "last": 40}),  # long history: each window sees at most ANOMALY_CONTEXT points
        (
            # leading blanks: the first known point has no past and is not scored, the ones after it are
            [None] * 6 + wave(30, 3),
            {"level": 0.9, "min_context": 3},
        ),
        (wave(40, 4), {"level": 0.98, "min_context": 1, "last": 3}),  # the widest level allowed, last 3 points
    ],
)
def test_band_starts_as_the_central_interval_of_a_forecast_from_earlier_points(client, app, pipeline, values, options):
    """Until a series has MIN_CALIBRATION scores (and before its first flag re-anchors a window), each point's
    band is the model's own central ``level`` interval, forecast only from the points before its window."""
    [result] = scan(client, {"series": [series(values)], **options})
    block, context = app.config["ANOMALY_BLOCK"], app.config["ANOMALY_CONTEXT"]
    level, min_context, last = options.get("level", 0.95), options.get("min_context", 32), options.get("last")
    expected, lower, upper = oracle_bands(pipeline, values, level, min_context, last, block, context)
    scored = scored_indices(values, min_context, last)
    assert [i for i, flag in enumerate(result["is_anomaly"]) if flag is not None] == scored
    first_flag = next((i for i in scored if result["is_anomaly"][i]), len(values))
    uncalibrated = [i for i in scored[:MIN_CALIBRATION] if i <= first_flag]
    assert uncalibrated, "the case should check some points"
    for name, oracle in [("expected", expected), ("lower", lower), ("upper", upper)]:
        np.testing.assert_allclose(
            [result[name][i] for i in uncalibrated], [oracle[i] for i in uncalibrated], rtol=1e-5, err_msg=name
        )
    assert result["values"] == values
    assert_rules_hold(result)


def test_flags_scores_and_directions_point_by_point(client):
    values = wave(60, 5)
    body = {"series": [series(values)], "min_context": 20, "level": 0.8}

    def band(i: int) -> tuple[float, float, float]:
        [now] = scan(client, {**body, "series": [series(values)]})
        return now["expected"][i], now["lower"][i], now["upper"][i]

    # Each point is set against its band as scanned with every earlier point already set: a point's band
    # depends only on the points before it, so it stays put while later points change.
    crafted: dict[int, tuple] = {}
    for i, place in [(21, "median"), (22, "upper"), (23, "lower"), (24, "above"), (25, "below"), (26, "blank")]:
        expected, lower, upper = band(i)
        width = upper - lower
        values[i] = {"median": expected, "upper": upper, "lower": lower, "above": upper + 0.5 * width,
                     "below": lower - 2 * width, "blank": None}[place]  # fmt: skip
        crafted[i] = (expected, lower, upper)
    [result] = scan(client, body | {"series": [series(values)]})
    for i in range(21, 26):
        assert (result["expected"][i], result["lower"][i], result["upper"][i]) == crafted[i], i
    got = {i: (result["is_anomaly"][i], result["direction"][i], result["score"][i]) for i in crafted}
    assert got[21] == (False, 0, 0.0)
    assert got[22] == (False, 0, 0.0)
    assert got[23] == (False, 0, 0.0)
    assert got[24][:2] == (True, 1) and got[24][2] == pytest.approx(0.5, rel=1e-6)
    assert got[25][:2] == (True, -1) and got[25][2] == pytest.approx(2.0, rel=1e-6)
    assert got[26] == (None, 0, None)
    assert result["is_anomaly"][:20] == [None] * 20
    assert_rules_hold(result)


@pytest.mark.parametrize(
    "where",
    [
        "first scored point",  # a window's cutoff
        "inside the first window",
        "last point of the first window",
        "first point of the second window",
        "inside the second window",
        "second to last point",
    ],
)
def test_no_look_ahead_changing_later_values_leaves_earlier_results_alone(client, app, where):
    block = app.config["ANOMALY_BLOCK"]
    t = {
        "first scored point": 10,
        "inside the first window": 14,
        "last point of the first window": 10 + block - 1,
        "first point of the second window": 10 + block,
        "inside the second window": 10 + block + 7,
        "second to last point": 58,
    }[where]
    values = wave(60, 6)
    body = {"series": [series(values)], "min_context": 10}
    [before] = scan(client, body)
    changed = values[: t + 1] + [None if k % 7 == 3 else -3 * v + 500 for k, v in enumerate(values[t + 1 :])]
    [after] = scan(client, {**body, "series": [series(changed)]})
    for name in FIELDS:
        assert after[name][: t + 1] == before[name][: t + 1], name
    assert after["values"][t + 1 :] != before["values"][t + 1 :]
    assert after["is_anomaly"][t + 1 :] != before["is_anomaly"][t + 1 :] or after["score"] != before["score"]


@pytest.mark.parametrize(
    ("values", "options", "scored"),
    [
        (wave(40), {}, list(range(32, 40))),  # default min_context 32
        (wave(20), {"min_context": 12}, list(range(12, 20))),  # min_context
        (wave(20), {"min_context": 5, "last": 4}, [16, 17, 18, 19]),  # last N within a long history
        (wave(20), {"min_context": 18, "last": 10}, [18, 19]),  # min_context beats last
        (wave(20), {"min_context": 5, "last": 100}, list(range(5, 20))),  # last beyond the start
        (wave(20), {"min_context": 20}, []),  # min_context = length: nothing scored
        (wave(20), {"min_context": 50}, []),  # min_context beyond the length: nothing scored
        (
            # blanks count towards min_context, and a blank in the scored range is not scored
            [None, None, None, *wave(17)[3:9], None, *wave(17)[10:]],
            {"min_context": 6},
            [6, 7, 8, 10, 11, 12, 13, 14, 15, 16],
        ),
        (
            # last counts blanks too: the last 4 points are 13 .. 16, of which 14 is blank
            [*wave(17)[:14], None, *wave(17)[15:]],
            {"min_context": 2, "last": 4},
            [13, 15, 16],
        ),
    ],
)
def test_last_and_min_context_choose_the_scored_points(client, values, options, scored):
    [result] = scan(client, {"series": [series(values)], **options})
    assert [i for i, flag in enumerate(result["is_anomaly"]) if flag is not None] == scored
    assert len(result["values"]) == len(values)
    assert_rules_hold(result)


def test_blank_points_are_not_scored(client):
    values = wave(40, 7)
    for i in (33, 34, 38):
        values[i] = None
    [result] = scan(client, {"series": [series(values)], "min_context": 30})
    for i in (33, 34, 38):
        assert result["values"][i] is None
        assert [result[f][i] for f in FIELDS] == [None, None, None, None, None, 0]
    assert all(result["is_anomaly"][i] is not None for i in (30, 31, 32, 35, 36, 37, 39))


def test_points_with_no_known_past_are_not_scored(client):
    values = [None, None, None, None, 7.0, 8.0, 6.5, 9.0, 7.5]
    [result] = scan(client, {"series": [series(values)], "min_context": 1})
    assert result["is_anomaly"][:5] == [None] * 5  # 4 is the first known point: nothing before it to go on
    assert all(flag is not None for flag in result["is_anomaly"][5:])


def test_points_whose_looked_at_past_is_all_blank_are_not_scored(client, app):
    reach = app.config["ANOMALY_CONTEXT"]
    values = [5.0, 6.0, 5.5] + [None] * reach + [6.0, 5.0, 7.0, 6.5]
    [result] = scan(client, {"series": [series(values)], "min_context": 1})
    first_after_gap = 3 + reach
    assert result["is_anomaly"][first_after_gap] is None  # its last `reach` points are all blank
    assert all(flag is not None for flag in result["is_anomaly"][first_after_gap + 1 :])


def test_several_series_keep_their_names_order_and_own_results(client):
    items = [series(wave(45, 8), name="Sales"), series(wave(38, 9)), series(wave(50, 10), name="Costs")]
    results = scan(client, {"series": items, "min_context": 30})
    assert [r["name"] for r in results] == ["Sales", "Series 2", "Costs"]
    for item, result in zip(items, results, strict=True):
        assert result["values"] == item["values"]
        assert result["timestamps"] is None
        [alone] = scan(client, {"series": [item], "min_context": 30})
        for name in FIELDS:
            np.testing.assert_allclose(
                np.array(result[name], dtype=float), np.array(alone[name], dtype=float), rtol=1e-4, err_msg=name
            )
        assert result["count"] == alone["count"]


def test_filled_gaps_are_present_as_blank_unscored_points(client):
    days = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-06", "2024-01-07"]
    days += ["2024-01-10", "2024-01-11", "2024-01-12", "2024-01-13", "2024-01-14"]  # 8 and 9 January missing
    values = [5.0, 6.0, 5.5, 7.0, 6.0, 5.0, 6.5, 7.5, 6.0, 5.5, 6.5, 7.0]
    [result] = scan(client, {"series": [series(values, days)], "min_context": 3, "fill_missing": True})
    assert result["timestamps"] == [f"2024-01-{d:02d}" for d in range(1, 15)]
    assert result["values"] == values[:7] + [None, None] + values[7:]
    assert result["is_anomaly"][7:9] == [None, None] and result["direction"][7:9] == [0, 0]
    assert all(flag is not None for flag in result["is_anomaly"][3:7] + result["is_anomaly"][9:])
    assert_rules_hold(result)


def test_excel_serial_timestamps_come_back_as_serials(client):
    serials = [45292.0 + k for k in range(36)]
    [result] = scan(client, {"series": [series(wave(36, 11), serials)]})
    assert result["timestamps"] == serials
    assert [flag is not None for flag in result["is_anomaly"]] == [False] * 32 + [True] * 4


@pytest.mark.parametrize(
    ("change", "loc", "match"),
    [
        ({"level": 0.99}, ["level"], "less than or equal to 0.98"),  # above the widest band allowed
        ({"level": 1.0}, ["level"], "less than or equal to 0.98"),  # a band of everything
        ({"level": 0}, ["level"], "greater than 0"),  # an empty band
        ({"level": -0.5}, ["level"], "greater than 0"),  # negative
        ({"min_context": 0}, ["min_context"], "greater than or equal to 1"),  # no past at all
        ({"last": 0}, ["last"], "greater than or equal to 1"),  # nothing to score
        ({"horizon": 3}, ["horizon"], "Extra inputs"),  # a forecast field is named, not ignored
    ],
)
def test_invalid_parameters_are_named(client, change, loc, match):
    body = {"series": [series(wave(40))], **change}
    assert_problem(client.post("/api/v1/anomalies", json=body), 422, loc, match)


def test_widest_allowed_level_is_accepted(client):
    [result] = scan(client, {"series": [series(wave(36))], "level": 0.98})
    assert result["is_anomaly"][32:] != [None] * 4


def test_both_endpoints_are_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, request, response in [
        ("/api/v1/anomalies", "AnomaliesRequest", "AnomaliesResponse"),
        ("/api/v1/backtest", "BacktestRequest", "BacktestResponse"),
    ]:
        operation = document["paths"][path]["post"]
        assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(request)
        assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(response)
        assert "422" in operation["responses"]
    properties = document["components"]["schemas"]["AnomaliesRequest"]["properties"]
    assert {"series", "level", "min_context", "last"} <= properties.keys()
    properties = document["components"]["schemas"]["BacktestRequest"]["properties"]
    assert {"series", "horizon", "windows", "step", "quantile_levels", "level", "seasonality"} <= properties.keys()
