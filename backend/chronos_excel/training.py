"""Train the small bundled Chronos-2 from scratch on synthetic data with the library's own `fit` loop."""

from __future__ import annotations

import json
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from chronos.chronos2 import Chronos2Model, Chronos2Pipeline
from chronos.chronos2.config import Chronos2CoreConfig

from chronos_excel.synthetic import generate_corpus

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
    """One `Chronos2Pipeline.fit` call: steps of ``batch_size`` series cut to ``context_length`` points."""

    steps: int
    batch_size: int
    context_length: int
    learning_rate: float


# Most steps on short contexts (cheap), then a few on long ones so that the model also reads the
# 500-1000-point histories it meets in practice (attention does not extrapolate past trained lengths).
STAGES = (Stage(3500, 32, 256, 2e-3), Stage(600, 16, 1024, 5e-4))


def train_bundled(
    out: Path,
    seed: int = 0,
    *,
    n_series: int = 4000,
    stages: tuple[Stage, ...] = STAGES,
    prediction_length: int = 64,
    d_model: int = 128,
    d_ff: int = 512,
    num_layers: int = 6,
    num_heads: int = 4,
    initializer_factor: float = 0.15,
    threads: int | None = None,
) -> Path:
    """Train a small Chronos-2 from random initialisation on synthetic series and save it to ``out``.

    The run is deterministic given ``seed`` (and the number of threads): the corpus, the initial
    weights and the trainer's sampling all derive from it. Writes ``config.json``,
    ``model.safetensors`` and ``MODEL_CARD.md`` into ``out`` and returns ``out``.
    """
    started = time.perf_counter()
    if threads is not None:
        torch.set_num_threads(threads)
    out = Path(out)
    print(f"[train-bundled] generating {n_series} synthetic series (seed {seed})", flush=True)
    corpus = generate_corpus(n_series, seed=seed)
    points = sum(len(s) for s in corpus)
    print(f"[train-bundled] {points:,} points in {time.perf_counter() - started:.0f} s", flush=True)

    torch.manual_seed(seed)
    model = Chronos2Model(build_config(d_model, d_ff, num_layers, num_heads, initializer_factor))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"[train-bundled] model: {n_params:,} parameters on {torch.get_num_threads()} threads", flush=True)

    pipeline = Chronos2Pipeline(model=model)
    for i, stage in enumerate(stages):
        print(f"[train-bundled] stage {i + 1}/{len(stages)}: {stage}", flush=True)
        with tempfile.TemporaryDirectory() as scratch:
            pipeline = pipeline.fit(
                corpus,
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
    minutes = (time.perf_counter() - started) / 60
    write_model_card(out, seed=seed, n_series=n_series, n_params=n_params, minutes=minutes, stages=stages)
    print(f"[train-bundled] saved to {out} in {minutes:.1f} min", flush=True)
    return out


QUALITY_START, QUALITY_END = "<!-- quality:start -->", "<!-- quality:end -->"


def write_model_card(
    out: Path, *, seed: int, n_series: int, n_params: int, minutes: float, stages: tuple[Stage, ...]
) -> None:
    """Write ``MODEL_CARD.md``; its accuracy section is filled in by ``bench/quality.py --card DIR``."""
    card = out / "MODEL_CARD.md"
    quality = f"{QUALITY_START}\nNot measured yet: run `python bench/quality.py --card {out}`.\n{QUALITY_END}"
    arch = json.loads((out / "config.json").read_text())
    size_mb = (out / "model.safetensors").stat().st_size / 1e6
    schedule = "\n".join(
        f"  {i + 1}. {s.steps} steps of {s.batch_size} series, context {s.context_length}, "
        f"peak learning rate {s.learning_rate:g}"
        for i, s in enumerate(stages)
    )
    card.write_text(f"""# chronos-excel bundled model: a small Chronos-2 trained offline

**This is not Amazon's `amazon/chronos-2`.** It is a {n_params / 1e6:.1f} M-parameter model with the
Chronos-2 architecture, trained from random initialisation by this project, on synthetic data only, in
under half an hour on two CPU cores, so that the service works offline and the tests have a model that
really forecasts. It is a demo model: use `amazon/chronos-2` (about 120 M parameters, trained on large real
and synthetic corpora) for real work.

## Model
- Architecture: `Chronos2Model` with the real `chronos_config` (patch 16, 21 quantiles 0.01-0.99, context
  up to 8192, `use_arcsinh`, `use_reg_token`); d_model {arch["d_model"]}, d_ff {arch["d_ff"]},
  {arch["num_layers"]} layers, {arch["num_heads"]} heads.
- Parameters: {n_params:,}; `model.safetensors` is {size_mb:.1f} MB (float32).

## Training
- Command: `chronos-excel train-bundled --out DIR --seed {seed}` (`chronos_excel.training.train_bundled`);
  deterministic given the seed and the number of CPU threads.
- Data: {n_series:,} synthetic series from `chronos_excel.synthetic`: KernelSynth Gaussian-process samples
  (random sums and products of linear, RBF, periodic (periods 4 to 365), rational-quadratic, white-noise and
  constant kernels), trend + seasonality + noise mixtures, random walks, AR(1) processes and smooth trends,
  level shifts, occasional 4-10 sigma spikes and intermittent (mostly-zero) demand; lengths 64 to 1024 and
  scales over four orders of magnitude.
- Loop: `Chronos2Pipeline.fit` (chronos-forecasting's own Hugging Face `Trainer` loop and quantile loss),
  horizon 64, AdamW with 5% warm-up then linear decay, gradient clipping 1.0, in stages:
{schedule}
- Wall time: {minutes:.1f} min on {torch.get_num_threads()} CPU threads ({platform.machine()}, torch
  {torch.__version__}, chronos-forecasting {_version("chronos-forecasting")}), synthetic data generation included.

## Accuracy
{quality}

`tests/test_bundled_model.py` checks its behaviour through the API: 8-sigma spikes in a noisy seasonal series
are flagged by `/api/v1/anomalies` with at most 5% other points flagged; pure sines of period 12 and 24 are
continued within a tenth of their amplitude; the 80% band of white noise covers 70-90% of fresh noise.

## Limits
A small model trained for minutes: it continues clean seasonal patterns and trends and gives roughly
calibrated bands, but it is far less accurate than `amazon/chronos-2`, especially on long, noisy or
irregular series. It was trained on contexts of at most {max(s.context_length for s in stages)} points and a
64-step horizon (longer ones work but degrade), without covariates or multivariate groups.
""")


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)
