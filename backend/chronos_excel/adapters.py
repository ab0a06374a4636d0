"""Adapt the model to a user's data: LoRA fine-tuning with the library's own ``Chronos2Pipeline.fit``, run in a
child process by ``jobs``, proven on held-out windows before anyone relies on it.

The last ``validation_windows`` windows of ``horizon`` points of every series are never trained on: the
adapter learns from the rest, then the zero-shot and the adapted model forecast those windows (the
backtest's machinery and metrics) and the adapter's ``skill`` = 1 − MASE_adapted / MASE_zero_shot says
whether it helps. Only the LoRA weights are kept, as peft saves them.
"""

from __future__ import annotations

import os
import shutil
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import torch
from chronos.chronos2 import Chronos2Pipeline, preprocess
from transformers import TrainerCallback, set_seed

from .backtest import run_backtests, summarize
from .predictor import Predictor
from .problems import InputError
from .series import PreparedSeries

BATCH_SIZE = 32  # series per training batch: 200 LoRA steps of the bundled model take ~25 s on 2 cores
DEFAULT_LEARNING_RATE = 1e-3  # LoRA learns at rates full fine-tuning would diverge at
MIN_TRAIN_CONTEXT = 16  # points of context a training window needs besides its horizon (one patch)
DEFAULT_SEED = 42  # the trainer's own default: an adapter trained twice on the same data is the same
DECILES = [round(0.1 * k, 1) for k in range(1, 10)]  # WQL over the nine deciles, as fev scores it


def min_points(horizon: int, validation_windows: int) -> int:
    """The fewest points a series needs: the held-out windows, then at least one training window (the
    library trains on windows of ``horizon`` points after at least ``horizon`` points of context)."""
    return horizon * validation_windows + horizon + max(horizon, MIN_TRAIN_CONTEXT)


def check_trainable(prepared: list[PreparedSeries], horizon: int, validation_windows: int) -> None:
    """Every series must be long enough to hold out its validation windows and still train: a located
    ``InputError`` saying the minimum otherwise."""
    needed = min_points(horizon, validation_windows)
    context = max(horizon, MIN_TRAIN_CONTEXT)
    for i, series in enumerate(prepared):
        if len(series.values) < needed:
            raise InputError(
                ("series", i, "values"),
                f"{series.name!r} has {len(series.values)} points; adapting needs at least {needed}: "
                f"{validation_windows} held-out window(s) of horizon {horizon}, then {horizon + context} to train on "
                f"(a window of {horizon} after at least {context} points of context)",
            )


def training_inputs(prepared: list[PreparedSeries], cut: int, horizon: int, joint: bool) -> list:
    """What ``fit`` trains on: every series up to ``len - cut`` (the held-out windows left out), as the
    library takes them. Without drivers, the plain arrays; with drivers, each series prepared by the
    library's own ``preprocess`` (one at a time: it prepares a list only when all share one schema), with
    known-future drivers marked as such (their values come from the history)."""
    units = [prepared] if joint else [[s] for s in prepared]
    tasks = []
    for unit in units:
        end = len(unit[0].values) - cut
        target = np.stack([s.values[:end] for s in unit]) if joint else unit[0].values[:end]
        covariates = unit[0].covariates
        task = {"target": target}
        if covariates:
            task["past_covariates"] = {c.name: c.values[:end] for c in covariates}
            task["future_covariates"] = {c.name: None for c in covariates if c.future}
        tasks.append(task)
    if all(len(task) == 1 for task in tasks):
        return [task["target"] for task in tasks]
    return [preprocess.from_list_of_dicts([task], prediction_length=horizon)[0] for task in tasks]


class Progress(TrainerCallback):
    """Sends (step, loss) to the parent after every optimisation step."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.loss: float | None = None

    def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
        if logs and "loss" in logs:
            self.loss = float(logs["loss"])

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.connection.send(("progress", state.global_step, self.loss))


def train(payload: dict[str, Any], connection: Connection) -> None:
    """The child process: fine-tune, validate, save the LoRA weights; report on ``connection``.

    Messages: ``("started",)``, ``("progress", step, loss)`` after each step, then ``("done", result)`` or
    ``("error", message)``. ``payload`` holds the base model's location and device, the prepared series,
    ``horizon``, ``steps``, ``learning_rate``, ``validation_windows``, ``seed``, ``joint``, ``threads`` and
    ``out`` (the directory that gets the adapter's files).
    """
    try:
        if payload.get("threads"):
            torch.set_num_threads(payload["threads"])
        if hasattr(os, "nice"):
            os.nice(10)  # serving requests come first
        connection.send(("started",))
        result = _train(payload, connection)
    except BaseException as exc:  # every failure must reach the job, not only this process's stderr
        traceback.print_exc()
        connection.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    connection.send(("done", result))


def _train(payload: dict[str, Any], connection: Connection) -> dict[str, Any]:
    started = time.perf_counter()
    prepared: list[PreparedSeries] = payload["series"]
    horizon, windows, joint = payload["horizon"], payload["validation_windows"], payload["joint"]
    base = Chronos2Pipeline.from_pretrained(payload["location"], device_map=payload["device"], dtype=torch.float32)
    base.model.eval()
    work = Path(payload["out"]).with_name(Path(payload["out"]).name + ".work")
    progress = Progress(connection)
    seed = payload["seed"]
    set_seed(seed)  # the LoRA weights are drawn before the trainer seeds itself: seed them too
    adapted = base.fit(
        training_inputs(prepared, horizon * windows, horizon, joint),
        prediction_length=horizon,
        finetune_mode="lora",
        learning_rate=payload["learning_rate"],
        num_steps=payload["steps"],
        batch_size=BATCH_SIZE,
        output_dir=work,
        callbacks=[progress],
        remove_printer_callback=True,
        disable_tqdm=True,
        logging_steps=max(1, payload["steps"] // 50),
        seed=seed,
    )
    trained_seconds = time.perf_counter() - started
    validation = validate(base, adapted, prepared, horizon, windows, joint)
    out = Path(payload["out"])
    shutil.move(work / "finetuned-ckpt", out)
    shutil.rmtree(work, ignore_errors=True)
    (out / "README.md").unlink(missing_ok=True)  # peft's model card template, not ours
    return {
        "validation": validation,
        "size_bytes": sum(f.stat().st_size for f in out.rglob("*") if f.is_file()),
        "train_seconds": round(trained_seconds, 2),
        "loss": progress.loss,
    }


def validate(
    base: Chronos2Pipeline,
    adapted: Chronos2Pipeline,
    prepared: list[PreparedSeries],
    horizon: int,
    windows: int,
    joint: bool,
) -> dict[str, Any]:
    """MASE and WQL of the zero-shot and the adapted model on the held-out windows (means over the series)."""
    scores = {}
    for name, pipeline in (("zero_shot", base), ("adapted", adapted)):
        predictor = Predictor(model="adapter-validation", state="ready", pipeline=pipeline, gather_seconds=0)
        results = run_backtests(
            predictor,
            prepared,
            horizon=horizon,
            windows=windows,
            step=horizon,
            quantile_levels=DECILES,
            level=0.8,
            seasonality=None,
            joint=joint,
        )
        summary = summarize(results)["metrics"]
        scores[name] = {"MASE": summary["MASE"], "WQL": summary["WQL"]}
    zero, adapted_mase = scores["zero_shot"]["MASE"], scores["adapted"]["MASE"]
    skill = None if zero is None or adapted_mase is None or zero == 0 else 1 - adapted_mase / zero
    return {
        "windows": windows,
        "horizon": horizon,
        **scores,
        "skill": skill,
        "recommended": skill is not None and skill > 0,
    }
