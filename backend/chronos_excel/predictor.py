"""The one Chronos-2 predictor of the process: loaded once, shared by every request.

Forecasts go through the pipeline's tensor API in as few batched calls as possible. Per step, the
model's native quantiles are sorted ascending (so bands never cross) and every requested level is
linearly interpolated from that sorted grid, as ``chronos.utils.interpolate_quantiles`` does.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import numpy as np
import torch
from chronos.chronos2 import Chronos2Pipeline
from chronos.utils import interpolate_quantiles
from flask import Flask, current_app
from huggingface_hub import HfApi, snapshot_download
from huggingface_hub.errors import LocalEntryNotFoundError

from .batching import ModelQueue
from .covariates import ModelInput, schema_of
from .problems import ModelUnavailable

log = logging.getLogger(__name__)

DEFAULT_MODEL = "amazon/chronos-2"
BUNDLED = "bundled"
HUB_PROBE_SECONDS = 5


@dataclass(frozen=True)
class AdapterRef:
    """An adapter the model runs with: its id (unique), its name (for answers) and the folder of its weights."""

    id: str
    name: str
    path: str


class HubUnreachable(RuntimeError):
    """The weights are neither in the local Hugging Face cache nor downloadable now."""


def bundled_model_dir() -> str:
    """The small offline Chronos-2 shipped inside the package."""
    return str(files("chronos_excel.bundled_model"))


def resolve_device(device: str) -> str:
    """``auto`` means CUDA when it is available, else the CPU."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was requested but torch sees no CUDA GPU")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {device!r}")
    return device


def resolve_dtype(dtype: str, device: str) -> str:
    """``auto`` means bfloat16 on CUDA and on CPUs with native bf16 matrix units (AMX, AVX512-BF16).

    ``int8`` (CPU only) quantizes the model's linear layers dynamically: faster than float32 on CPUs
    without bf16 units; ``auto`` never picks it until its accuracy is shown on the real weights.
    """
    if dtype == "auto":
        if device == "cuda":
            return "bfloat16"
        return "bfloat16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "float32"
    if dtype == "int8" and device == "cuda":
        raise ValueError("dtype int8 runs on the CPU only (dynamic quantization); use float32 or bfloat16 on CUDA")
    if dtype not in ("float32", "bfloat16", "int8"):
        raise ValueError(f"dtype must be auto, float32, bfloat16 or int8, not {dtype!r}")
    return dtype


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """The model with its linear layers dynamically quantized to int8 (weights int8, activations
    quantized per batch at run time)."""
    with warnings.catch_warnings():
        # torch marks torch.ao.quantization deprecated in favour of torchao, which is not installed here;
        # quantize_dynamic still works on every torch this package supports.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


SAFE_MAGNITUDE = (1e-8, 1e12)  # float32 inside the model: keep each series' magnitude well within its range


@dataclass(frozen=True)
class QuantileGrid:
    """The model's sorted quantiles, shape (rows, horizon, n_native_quantiles), in each row's safe units;
    ``scale`` (rows,) turns them back into the row's own units (float64)."""

    values: torch.Tensor
    scale: np.ndarray

    def rows(self, start: int, stop: int | None = None) -> QuantileGrid:
        """The grid of target rows ``start`` to ``stop``."""
        return QuantileGrid(self.values[start:stop], self.scale[start:stop])


def safe_scale(values: np.ndarray) -> float:
    """A power of two that brings the largest magnitude of ``values`` near 1 when it lies outside
    ``SAFE_MAGNITUDE`` (1 otherwise). Chronos-2 normalises each series itself, so dividing by it and
    multiplying the forecast back changes nothing but the float32 range the model computes in."""
    finite = np.abs(values[np.isfinite(values)])
    largest = float(finite.max()) if finite.size else 0.0
    if largest == 0.0 or SAFE_MAGNITUDE[0] <= largest <= SAFE_MAGNITUDE[1]:
        return 1.0
    return float(2.0 ** np.round(np.log2(largest)))


def to_safe_range(item: ModelInput) -> tuple[ModelInput, np.ndarray]:
    """Scale an input's targets (each row alone) and numeric covariates into the safe range; return the
    scaled input and the scale of each target row, to multiply its forecast by."""
    if not isinstance(item, dict):
        target = np.asarray(item, dtype=np.float64)
        rows = np.atleast_2d(target)
        scales = np.array([safe_scale(row) for row in rows])
        if (scales == 1.0).all():
            return item, scales
        return (rows / scales[:, None]).reshape(target.shape), scales
    target, scales = to_safe_range(np.asarray(item["target"], dtype=np.float64))
    scaled = {**item, "target": target}
    for group in ("past_covariates", "future_covariates"):
        if group in item:
            scaled[group] = dict(item[group])
    for name, past in item["past_covariates"].items():
        if past.dtype == object:
            continue
        future = item.get("future_covariates", {}).get(name)
        scale = safe_scale(past if future is None else np.concatenate([past, future]))
        if scale != 1.0:
            scaled["past_covariates"][name] = past / scale
            if future is not None:
                scaled["future_covariates"][name] = future / scale
    return scaled, scales


def _rows(item: torch.Tensor | dict) -> int:
    """Rows an input takes in a model batch: its targets and covariates."""
    if isinstance(item, dict):
        target = np.asarray(item["target"])
        return (target.shape[0] if target.ndim == 2 else 1) + len(item.get("past_covariates", {}))
    return item.shape[0] if item.ndim == 2 else 1


def _length(item: torch.Tensor | dict) -> int:
    return np.asarray(item["target"]).shape[-1] if isinstance(item, dict) else item.shape[-1]


@dataclass
class Predictor:
    """Holds the pipeline and its description; ``state`` is ``loading``, ``ready`` or ``failed``."""

    model: str = DEFAULT_MODEL
    device: str = "auto"
    dtype: str = "auto"
    batch_size: int = 256
    batch_tokens: int = 4096
    gather_seconds: float = 0.002
    max_batch_rows: int = 1024
    max_queued_tokens: int = 400_000
    deadline_seconds: float = 600.0
    adapter_cache: int = 8
    state: str = "loading"
    reason: str = "the model is loading"
    info: dict = field(default_factory=dict)
    fallback_reason: str | None = None
    pipeline: Chronos2Pipeline | None = None
    location: str | None = None  # the local folder the weights were loaded from (training children load it too)
    queue: ModelQueue | None = field(default=None, repr=False)
    _peft: object = field(default=None, repr=False)  # peft's handle on the adapters loaded into the copy
    _adapted_pipeline: Chronos2Pipeline | None = field(default=None, repr=False)
    _adapters: OrderedDict = field(default_factory=OrderedDict, repr=False)  # adapter id -> path, oldest first

    def load(self) -> None:
        """Load the model (once); on failure record why, so /health can say it.

        The default ``amazon/chronos-2`` falls back to the bundled offline model when its weights are
        neither cached nor downloadable; any other model the user named must load or fail.
        """
        started = time.perf_counter()
        model_id = self.model
        try:
            device = resolve_device(self.device)
            dtype = resolve_dtype(self.dtype, device)
            try:
                location, source = self._locate(model_id)
            except HubUnreachable as exc:
                if model_id != DEFAULT_MODEL:
                    raise
                self.fallback_reason = str(exc)
                log.warning("%s; serving the bundled offline demo model instead", exc)
                model_id, location, source = BUNDLED, bundled_model_dir(), "bundled"
            self.reason = f"loading {model_id} on {device} ({dtype})"
            torch_dtype = torch.float32 if dtype == "int8" else getattr(torch, dtype)
            pipeline = Chronos2Pipeline.from_pretrained(location, device_map=device, dtype=torch_dtype)
            pipeline.model.eval()
            if dtype == "int8":
                pipeline.model = quantize_int8(pipeline.model)
        except Exception as exc:  # any failure must reach /health, not kill the server silently
            self.state = "failed"
            self.reason = f"could not load model {self.model!r}: {exc}"
            log.error(self.reason)
            raise
        self.pipeline, self.location = pipeline, location
        self.info = {
            "id": model_id,
            "source": source,
            "device": device,
            "dtype": dtype,
            "parameters": sum(p.numel() for p in pipeline.model.parameters()),
        }
        self.state, self.reason = "ready", "ok"
        log.info(
            "loaded %s (%s, %d parameters) on %s as %s in %.1f s",
            model_id,
            source,
            self.info["parameters"],
            device,
            dtype,
            time.perf_counter() - started,
        )

    def _locate(self, model: str) -> tuple[str, str]:
        """Where to load ``model`` from, and its source: bundled, a local directory, or the hub."""
        if model == BUNDLED:
            return bundled_model_dir(), "bundled"
        path = Path(model).expanduser()
        if path.exists():
            return str(path), "local"
        if path.is_absolute() or model.startswith((".", "~")) or "\\" in model or model.count("/") > 1:
            raise FileNotFoundError(f"the model directory {model} does not exist")
        return self._fetch_from_hub(model), "huggingface"

    def _fetch_from_hub(self, repo_id: str) -> str:
        """The local snapshot of ``repo_id``: from the cache, else downloaded (logging progress)."""
        patterns = ["*.json", "*.safetensors"]
        try:
            return snapshot_download(repo_id, allow_patterns=patterns, local_files_only=True)
        except LocalEntryNotFoundError:
            pass
        try:  # a quick probe: an offline from_pretrained spends about 50 s in retries before failing
            HfApi().model_info(repo_id, timeout=HUB_PROBE_SECONDS)
        except Exception as exc:  # DNS, connection, timeout, HTTP errors alike: the weights cannot be had
            raise HubUnreachable(f"cannot download {repo_id} from the Hugging Face hub ({exc})") from exc
        self.reason = f"downloading {repo_id} from the Hugging Face hub (about 480 MB on first run)"
        log.info(self.reason)
        return snapshot_download(repo_id, allow_patterns=patterns)

    @property
    def quantiles(self) -> list[float]:
        """The model's native quantile levels (21 for Chronos-2)."""
        return self._ready().quantiles

    def _ready(self) -> Chronos2Pipeline:
        if self.pipeline is None:
            raise ModelUnavailable(self.reason)
        return self.pipeline

    def quantile_grid(
        self,
        inputs: list[ModelInput],
        horizon: int,
        *,
        cross_learning: bool = False,
        groups: list[int] | None = None,
        adapter: AdapterRef | None = None,
    ) -> QuantileGrid:
        """Forecast every input ``horizon`` steps ahead in as few batched model calls as possible.

        Parameters
        ----------
        inputs
            Each a 1-d float context (n,), NaN for missing values; a 2-d joint context (n_targets, n); or
            the library's dict input ``{"target", "past_covariates", "future_covariates"}``. Inputs that
            share a schema (plain contexts; dicts with the same targets, covariate names, kinds and future
            split) go to the model in one call.
        horizon
            Steps to forecast.
        cross_learning
            Passed to the library: the inputs of one call share information.
        groups
            With ``cross_learning``, only inputs of the same group share a call (e.g. one backtest window).
        adapter
            The adapter (LoRA weights) the model runs with; None for the base model.

        Returns
        -------
        The grid of shape (n_target_rows, horizon, n_native_quantiles): one row per target, in input order
        (a joint input gives n_targets rows), sorted ascending along the last axis so that no two
        quantiles cross. Read it with ``median`` and ``levels``.
        """
        pipeline = self._ready()
        keep = pipeline.model_context_length
        inputs, scales = zip(*(to_safe_range(item) for item in inputs), strict=True) if inputs else ((), ())
        calls: dict[tuple, list[int]] = {}
        for i, item in enumerate(inputs):
            group = groups[i] if cross_learning and groups is not None else 0
            calls.setdefault((schema_of(item), group), []).append(i)
        queue = self._queue()
        submitted = []
        for (schema, _), indices in calls.items():
            batch = [self._as_library_input(inputs[i], keep) for i in indices]
            tokens = len(batch) * self._tokens_per_row(batch, horizon)
            submitted.append((indices, queue.submit(batch, horizon, cross_learning, schema, tokens, adapter)))
        predictions: list[torch.Tensor | None] = [None] * len(inputs)
        for indices, call in submitted:
            for i, answer in zip(indices, queue.result(call), strict=True):
                predictions[i] = answer
        grid = torch.cat(predictions, dim=0).transpose(1, 2)  # (rows, quantile, h) -> (rows, h, quantile)
        return QuantileGrid(grid.sort(dim=-1).values, np.concatenate(scales))

    def _queue(self) -> ModelQueue:
        if self.queue is None:
            self.queue = ModelQueue(
                self._predict,
                gather_seconds=self.gather_seconds,
                max_rows=self.max_batch_rows,
                max_queued_tokens=self.max_queued_tokens,
                deadline_seconds=self.deadline_seconds,
            )
        return self.queue

    def _predict(
        self, batch: list[torch.Tensor | dict], horizon: int, cross_learning: bool, adapter: AdapterRef | None = None
    ) -> list[torch.Tensor]:
        """One batched library call (run by the model worker), in passes of at most ``batch_tokens``."""
        pipeline = self._ready() if adapter is None else self._with_adapter(adapter)
        batch_size, context_length = self.pass_size(batch, horizon)
        return pipeline.predict(
            batch,
            prediction_length=horizon,
            batch_size=batch_size,
            context_length=context_length,
            cross_learning=cross_learning,
        )

    def _with_adapter(self, adapter: AdapterRef) -> Chronos2Pipeline:
        """The pipeline whose model runs ``adapter``'s LoRA weights. Adapters live in a second copy of the
        model, loaded from the same files, so that the base model's answers never change by a bit once an
        adapter is used. Loaded once; beyond ``adapter_cache`` the least recently used are unloaded. Only the
        model worker calls it, so the model is never switched under a running batch."""
        from peft import PeftModel

        if self._peft is None:
            copy = Chronos2Pipeline.from_pretrained(
                self.location, device_map=self.info["device"], dtype=self._ready().model.dtype
            )
            copy.model.eval()
            self._peft = PeftModel.from_pretrained(copy.model, adapter.path, adapter_name=adapter.id)
            self._adapted_pipeline = copy  # its model now carries the LoRA layers
            self._adapters[adapter.id] = adapter.path
        elif adapter.id not in self._adapters:
            self._peft.load_adapter(adapter.path, adapter_name=adapter.id)
            self._adapters[adapter.id] = adapter.path
        else:
            self._adapters.move_to_end(adapter.id)
        while len(self._adapters) > max(1, self.adapter_cache):
            oldest, _ = self._adapters.popitem(last=False)
            self._peft.delete_adapter(oldest)
        self._peft.set_adapter(adapter.id)
        return self._adapted_pipeline

    def _tokens_per_row(self, batch: list[torch.Tensor | dict], horizon: int) -> int:
        """The patch tokens of a row of this batch (its longest context and the output patches)."""
        pipeline = self._ready()
        patch = pipeline.model_output_patch_size
        longest = min(max(_length(item) for item in batch), pipeline.model_context_length)
        return -(-longest // patch) + 1 + min(-(-horizon // patch), pipeline.max_output_patches)

    def pass_size(self, batch: list[torch.Tensor | dict], horizon: int) -> tuple[int, int]:
        """Rows per forward pass and the context length, so that a pass holds at most ``batch_tokens``
        patch tokens (activation memory grows with them: about 65 KB per token on the real-size model).

        Rows are targets plus covariates; a row's tokens are its context patches, the register token and
        the output patches. Only an input whose own rows would exceed the budget with its full history
        gets a shorter context (its most recent points)."""
        pipeline = self._ready()
        patch = pipeline.model_output_patch_size
        rows_of = [_rows(item) for item in batch]
        longest = min(max(_length(item) for item in batch), pipeline.model_context_length)
        output_tokens = 1 + min(-(-horizon // patch), pipeline.max_output_patches)
        widest = max(rows_of)
        context_patches = min(-(-longest // patch), max(1, self.batch_tokens // widest - output_tokens))
        context_length = min(pipeline.model_context_length, context_patches * patch)
        rows = max(widest, min(self.batch_size, self.batch_tokens // (context_patches + output_tokens)))
        return rows, context_length

    @staticmethod
    def _as_library_input(item: ModelInput, keep: int) -> torch.Tensor | dict:
        """Plain contexts as float32 tensors of their last ``keep`` points; dicts as they are (the library
        encodes their covariates over the whole history, then keeps the last ``keep`` points)."""
        if isinstance(item, dict):
            return item
        return torch.tensor(item[..., -keep:], dtype=torch.float32)

    def levels(self, grid: QuantileGrid, levels: list[float]) -> np.ndarray:
        """Interpolate quantile ``levels`` from a sorted grid: shape (n, horizon, len(levels))."""
        interpolated = interpolate_quantiles(levels, self.quantiles, grid.values).numpy().astype(np.float64)
        return interpolated * grid.scale[:, None, None]

    def median(self, grid: QuantileGrid) -> np.ndarray:
        """The 0.5 level of the sorted grid: shape (n, horizon)."""
        return grid.values[..., self.quantiles.index(0.5)].numpy().astype(np.float64) * grid.scale[:, None]

    def describe(self, adapter: AdapterRef | None = None) -> dict:
        """``{"id", "device", "dtype", "adapter"}`` for responses (``adapter``: its name, or null)."""
        return {**{key: self.info[key] for key in ("id", "device", "dtype")}, "adapter": adapter and adapter.name}


def init_app(app: Flask) -> Predictor:
    """Create the app's predictor and load it, in the background when ``LOAD_IN_BACKGROUND`` is set."""
    predictor = Predictor(
        model=app.config["MODEL"],
        device=app.config["DEVICE"],
        dtype=app.config["DTYPE"],
        batch_size=app.config["BATCH_SIZE"],
        batch_tokens=app.config["BATCH_TOKENS"],
        gather_seconds=app.config["GATHER_MS"] / 1000,
        max_batch_rows=app.config["MAX_BATCH_ROWS"],
        max_queued_tokens=app.config["MAX_QUEUED_TOKENS"],
        deadline_seconds=app.config["QUEUE_DEADLINE"],
        adapter_cache=app.config["ADAPTER_CACHE"],
    )
    app.extensions["chronos_predictor"] = predictor
    if app.config["LOAD_IN_BACKGROUND"]:
        threading.Thread(target=_load_quietly, args=(predictor,), name="model-loader", daemon=True).start()
    else:
        predictor.load()
    return predictor


def _load_quietly(predictor: Predictor) -> None:
    try:
        predictor.load()
    except Exception:  # already recorded on the predictor and logged; /health reports it
        pass


def get_predictor() -> Predictor:
    """The current app's predictor."""
    return current_app.extensions["chronos_predictor"]
