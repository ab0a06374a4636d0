"""Train the small bundled Chronos-2 from scratch on synthetic data with the library's own `fit` loop."""

from __future__ import annotations

import json
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from chronos.chronos2 import Chronos2Model, Chronos2Pipeline, preprocess
from chronos.chronos2.config import Chronos2CoreConfig

from chronos_excel.synthetic import generate_corpus, generate_covariate_tasks, generate_growth_series

QUANTILES = [0.01, *[round(0.05 * i, 2) for i in range(1, 20)], 0.99]

# The real amazon/chronos-2 forecasting config: the service treats this checkpoint exactly like the real one.
CHRONOS_CONFIG = {
    "context_length": 8192,
    "input_patch_size": 16,
    "input_patch_stride": 16,
    "output_patch_size": 16,
    "max_output_patches": 64,
    "quantiles": QUANTILES,
    "time_encoding_scale": 8192,
    "use_arcsinh": True,
    "use_reg_token": True,
}


def build_config(
    d_model: int = 128,
    d_ff: int = 512,
    num_layers: int = 6,
    num_heads: int = 4,
    initializer_factor: float = 0.15,
) -> Chronos2CoreConfig:
    """Return a small `Chronos2CoreConfig` with the real `chronos_config` (21 quantiles, patch 16, context 8192)."""
    return Chronos2CoreConfig(
        d_model=d_model,
        d_kv=d_model // num_heads,
        d_ff=d_ff,
        num_layers=num_layers,
        num_heads=num_heads,
        dropout_rate=0.0,  # a few thousand steps on fresh synthetic windows: nothing to regularise
        # 0.15 rather than Chronos-2's 0.05: attention leaves its uniform start sooner in a short run
        initializer_factor=initializer_factor,
        feed_forward_proj="relu",
        architectures=["Chronos2Model"],
        chronos_pipeline_class="Chronos2Pipeline",
        chronos_config=dict(CHRONOS_CONFIG),
    )


@dataclass(frozen=True)
class Stage:
    """One `Chronos2Pipeline.fit` call: steps of ``batch_size`` rows (targets and covariates) cut to
    ``context_length`` points. With ``covariate_draws`` 0 the inputs are the univariate corpus; with k > 0
    they are the corpus, the growth series and every covariate task k times (inputs are drawn uniformly, so
    k covariate tasks per univariate series)."""

    steps: int
    batch_size: int
    context_length: int
    learning_rate: float
    covariate_draws: int = 0


# Most steps on short contexts (cheap), then a few on long ones so that the model also reads the
# 500-1000-point histories it meets in practice (attention does not extrapolate past trained lengths),
# then mostly covariate tasks so that it learns to read drivers and related series (short contexts: cheap),
# with univariate and smooth-growth series so that it keeps continuing trends, and again at long contexts.
STAGES = (
    Stage(3500, 32, 256, 2e-3),
    Stage(600, 16, 1024, 5e-4),
    Stage(13000, 32, 256, 3e-3, covariate_draws=3),
    Stage(1000, 16, 1024, 5e-4, covariate_draws=2),
)


def train_bundled(
    out: Path,
    seed: int = 0,
    *,
    n_series: int = 4000,
    n_covariate_tasks: int = 8000,
    n_growth_series: int = 1000,
    stages: tuple[Stage, ...] = STAGES,
    prediction_length: int = 64,
    d_model: int = 128,
    d_ff: int = 512,
    num_layers: int = 6,
    num_heads: int = 4,
    initializer_factor: float = 0.15,
    threads: int | None = None,
    start_stage: int = 1,
    init: Path | None = None,
) -> Path:
    """Train a small Chronos-2 from random initialisation on synthetic series and save it to ``out``.

    The run is deterministic given ``seed`` (and the number of threads): the corpora, the covariate tasks,
    the initial weights and the trainer's sampling all derive from it. With ``start_stage`` > 1, training
    continues from the checkpoint ``init`` (what stages 1..start_stage-1 saved with the same seed) and
    gives the same result as the whole run. Writes ``config.json``, ``model.safetensors`` and
    ``MODEL_CARD.md`` into ``out`` and returns ``out``.
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    if threads is not None:
        torch.set_num_threads(threads)
    if not 1 <= start_stage <= len(stages):
        raise ValueError(f"start_stage must be between 1 and {len(stages)}, got {start_stage}")
    if (start_stage > 1) != (init is not None):
        raise ValueError("init (the checkpoint of the earlier stages) goes with start_stage > 1, and only with it")
    out = Path(out)
    print(f"[train-bundled] generating {n_series} synthetic series (seed {seed})", flush=True)
    corpus = generate_corpus(n_series, seed=seed)
    points = sum(len(s) for s in corpus)
    print(f"[train-bundled] {points:,} points in {time.perf_counter() - started:.0f} s", flush=True)
    univariate, prepared = [], []
    if any(stage.covariate_draws for stage in stages):
        series = corpus + generate_growth_series(n_growth_series, seed=seed)
        univariate = preprocess.from_list_of_tensors(series, prediction_length=prediction_length)
        tasks = generate_covariate_tasks(n_covariate_tasks, seed=seed)
        # one task at a time: the library prepares a list of dicts only when they share one schema
        prepared = [preprocess.from_list_of_dicts([task], prediction_length=prediction_length)[0] for task in tasks]
        print(f"[train-bundled] {len(tasks)} covariate tasks at {time.perf_counter() - started:.0f} s", flush=True)

    torch.manual_seed(seed)
    model = Chronos2Model(build_config(d_model, d_ff, num_layers, num_heads, initializer_factor))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"[train-bundled] model: {n_params:,} parameters on {torch.get_num_threads()} threads", flush=True)

    pipeline = Chronos2Pipeline(model=model)
    if init is not None:
        pipeline = Chronos2Pipeline.from_pretrained(init, device_map="cpu")
    for i, stage in enumerate(stages):
        if i + 1 < start_stage:
            continue
        print(f"[train-bundled] stage {i + 1}/{len(stages)}: {stage}", flush=True)
        with tempfile.TemporaryDirectory() as scratch:
            pipeline = pipeline.fit(
                univariate + prepared * stage.covariate_draws if stage.covariate_draws else corpus,
                prediction_length=prediction_length,
                context_length=stage.context_length,
                min_past=16,  # short histories are common in spreadsheets
                learning_rate=stage.learning_rate,
                num_steps=stage.steps,
                batch_size=stage.batch_size,
                output_dir=scratch,
                seed=seed + i,
                warmup_steps=max(1, stage.steps // 20),
                logging_steps=max(1, stage.steps // 20),
                disable_tqdm=True,
                max_grad_norm=1.0,
            )
    out.mkdir(parents=True, exist_ok=True)
    pipeline.save_pretrained(out)
    minutes, cpu_minutes = (time.perf_counter() - started) / 60, (time.process_time() - cpu_started) / 60
    write_model_card(
        out,
        seed=seed,
        n_series=n_series,
        n_covariate_tasks=n_covariate_tasks,
        n_growth_series=n_growth_series,
        n_params=n_params,
        minutes=minutes,
        cpu_minutes=cpu_minutes,
        stages=stages,
        start_stage=start_stage,
    )
    print(f"[train-bundled] saved to {out} in {minutes:.1f} min ({cpu_minutes:.1f} min of CPU time)", flush=True)
    return out


def _markers(name: str) -> tuple[str, str]:
    """The HTML comments that open and close the ``name`` section of ``MODEL_CARD.md``."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def card_section(name: str, text: str) -> str:
    """A section of ``MODEL_CARD.md`` that a benchmark fills in: ``text`` between ``name``'s markers."""
    start, end = _markers(name)
    return f"{start}\n{text}\n{end}"


def fill_card_section(card_dir: str | Path, name: str, text: str) -> None:
    """Replace the ``name`` section of ``card_dir/MODEL_CARD.md`` with ``text``."""
    card = Path(card_dir) / "MODEL_CARD.md"
    old = card.read_text()
    start, end = _markers(name)
    card.write_text(old[: old.index(start)] + card_section(name, text) + old[old.index(end) + len(end) :])


def write_model_card(
    out: Path,
    *,
    seed: int,
    n_series: int,
    n_covariate_tasks: int,
    n_growth_series: int,
    n_params: int,
    minutes: float,
    cpu_minutes: float,
    stages: tuple[Stage, ...],
    start_stage: int = 1,
) -> None:
    """Write ``MODEL_CARD.md``; its accuracy sections are filled in by ``bench/quality.py --card DIR`` and
    ``bench/covariates.py --card DIR``."""
    card = out / "MODEL_CARD.md"
    quality = card_section("quality", f"Not measured yet: run `python bench/quality.py --card {out}`.")
    drivers = card_section("covariates", f"Not measured yet: run `python bench/covariates.py --card {out}`.")
    arch = json.loads((out / "config.json").read_text())
    size_mb = (out / "model.safetensors").stat().st_size / 1e6
    schedule = "\n".join(
        f"  {i + 1}. {s.steps} steps of {s.batch_size} rows, context {s.context_length}, "
        f"peak learning rate {s.learning_rate:g}, "
        + (f"{s.covariate_draws} covariate tasks per univariate series" if s.covariate_draws else "univariate series")
        for i, s in enumerate(stages)
    )
    timed = (
        "the whole run" if start_stage == 1 else f"stages {start_stage}-{len(stages)} only, from the earlier checkpoint"
    )
    card.write_text(f"""# chronos-excel bundled model: a small Chronos-2 trained offline

**This is not Amazon's `amazon/chronos-2`.** It is a {n_params / 1e6:.1f} M-parameter model with the
Chronos-2 architecture, trained from random initialisation by this project, on synthetic data only, in
under an hour on two CPU cores, so that the service works offline and the tests have a model that really
forecasts, with and without drivers. It is a demo model: use `amazon/chronos-2` (about 120 M parameters,
trained on large real and synthetic corpora) for real work.

## Model
- Architecture: `Chronos2Model` with the real `chronos_config` (patch 16, 21 quantiles 0.01-0.99, context
  up to 8192, `use_arcsinh`, `use_reg_token`); d_model {arch["d_model"]}, d_ff {arch["d_ff"]},
  {arch["num_layers"]} layers, {arch["num_heads"]} heads.
- Parameters: {n_params:,}; `model.safetensors` is {size_mb:.1f} MB (float32).

## Training
- Command: `chronos-excel train-bundled --out DIR --seed {seed}` (`chronos_excel.training.train_bundled`);
  deterministic given the seed and the number of CPU threads.
- Univariate data: {n_series:,} synthetic series from `chronos_excel.synthetic`: KernelSynth Gaussian-process
  samples (random sums and products of linear, RBF, periodic (periods 4 to 365), rational-quadratic,
  white-noise and constant kernels), trend + seasonality + noise mixtures, random walks, AR(1) processes and
  smooth trends, level shifts, occasional 4-10 sigma spikes and intermittent (mostly-zero) demand; lengths
  64 to 1024 and scales over four orders of magnitude.
- Covariate data: {n_covariate_tasks:,} synthetic tasks (`generate_covariate_tasks`, dicts in
  `Chronos2Pipeline.fit`'s input format, lengths 128 to 1024) whose targets depend on drivers: a shelf price
  with discounts (negative elasticity, lag 0-1), a temperature (linear, V-shaped or hinge response, lag
  0-2), 0/1 promotions lifting the level by 2-6 units of the base series (sometimes with a dip after, or
  with a price), categorical regimes given as text (target-encoded by the library), a past-only leading
  indicator (lag 1-16), and groups of 2-4 related series sharing factors (a 2-d target). Most drivers are
  known in the future, some past-only; 30% of tasks also carry one or two irrelevant covariates. The part
  the drivers do not explain is a seasonal, Gaussian-process, random-walk or flat noisy series, half the
  time on a linear or exponential trend.
- Growth data (from stage 3 on, with the univariate series): {n_growth_series:,} smooth economic-indicator-like
  series (`generate_growth_series`: a level compounding at -0.5% to 3% per step with small persistent shocks
  to the rate), so that the model keeps continuing smooth trends while it learns drivers.
- Loop: `Chronos2Pipeline.fit` (chronos-forecasting's own Hugging Face `Trainer` loop and quantile loss),
  horizon 64, AdamW with 5% warm-up then linear decay, gradient clipping 1.0, in stages, each continuing
  from the one before:
{schedule}
- Wall time: {minutes:.1f} min ({timed}), {cpu_minutes:.1f} min of CPU time, on {torch.get_num_threads()} CPU
  threads ({platform.machine()}, torch {torch.__version__}, chronos-forecasting
  {_version("chronos-forecasting")}), synthetic data generation included; the machine was shared, so the
  CPU time is the steadier figure.

## Accuracy
{quality}

### With drivers
{drivers}

`tests/test_bundled_model.py` checks its behaviour through the API: 8-sigma spikes in a noisy seasonal series
are flagged by `/api/v1/anomalies` with at most 5% other points flagged; pure sines of period 12 and 24 are
continued within a tenth of their amplitude; the 80% band of white noise covers 70-90% of fresh noise.
`tests/test_bundled_drivers.py`: a known-future 0/1 promotion that lifted a flat noisy history by 5 sigma
lifts the forecast at the future promotion steps (the goal: 3 sigma), also on top of a monthly season.

## Limits
A small model trained for under an hour: it continues clean seasonal patterns and trends and gives roughly
calibrated bands, but it is far less accurate than `amazon/chronos-2`, especially on long, noisy or
irregular series. It was trained on contexts of at most {max(s.context_length for s in stages)} points and a
64-step horizon (longer ones work but degrade). What it knows of drivers comes from the synthetic families
above: simple, mostly additive effects; real drivers with weak, delayed or interacting effects are where
the real model is needed most.
""")


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)
