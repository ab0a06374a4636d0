"""Every setting of the server: its default, what it does, and how a ``CHRONOS_<NAME>`` value is checked.

A bad value stops the server with a message naming the variable, the value and what is allowed; an unknown
``CHRONOS_`` variable is warned about by name (a typo would otherwise be silently ignored).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


class SettingsError(ValueError):
    """A setting's value is not one it can take."""


def whole_number(minimum: int) -> Callable[[str], int]:
    """A parser for whole numbers of at least ``minimum``."""

    def parse(raw: str) -> int:
        try:
            value = int(raw.strip().replace("_", ""))
        except ValueError:
            raise ValueError(f"expected a whole number of at least {minimum}") from None
        if value < minimum:
            raise ValueError(f"expected a whole number of at least {minimum}")
        return value

    return parse


def one_of(*choices: str) -> Callable[[str], str]:
    """A parser for one of ``choices``."""

    def parse(raw: str) -> str:
        if raw.strip() not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return raw.strip()

    return parse


def yes_no(raw: str) -> bool:
    """true/false, 1/0, yes/no, on/off."""
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected true or false (also 1/0, yes/no, on/off)")


def text(raw: str) -> str:
    """Any text, surrounding spaces removed."""
    return raw.strip()


def origins(raw: str) -> str:
    """Comma-separated web origins such as https://example.com or http://localhost:3000."""
    for origin in (part.strip() for part in raw.split(",") if part.strip()):
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError(f"{origin!r} is not an origin: expected comma-separated origins like https://example.com")
    return raw.strip()


def database_url(raw: str) -> str:
    """Empty (SQLite in the data directory), or a database URL such as postgresql://user:pass@host/db."""
    url = raw.strip()
    if url and "://" not in url:
        raise ValueError("expected a database URL such as postgresql://user:password@host:5432/chronos")
    return url


def default_data_dir() -> str:
    """The platform's folder for an application's data (~/.local/share/chronos-excel on Linux)."""
    from platformdirs import user_data_dir

    return user_data_dir("chronos-excel", appauthor=False)


DEFAULT_TRAIN_THREADS = max(1, (os.cpu_count() or 2) // 2)


def existing_file(raw: str) -> str:
    """The path of a readable file."""
    path = os.path.expanduser(raw.strip())
    if path and not os.path.isfile(path):
        raise ValueError("expected the path of an existing file with one key per line")
    return path


@dataclass(frozen=True)
class Setting:
    """One setting: name (without the CHRONOS_ prefix), default, help text, and its parser."""

    name: str
    default: Any
    help: str
    parse: Callable[[str], Any]


SETTINGS = [
    Setting("MODEL", "amazon/chronos-2", "Hugging Face id, local directory, or 'bundled'", text),
    Setting("DEVICE", "auto", "auto, cpu or cuda", one_of("auto", "cpu", "cuda")),
    Setting("DTYPE", "auto", "auto, float32, bfloat16 or int8 (CPU)", one_of("auto", "float32", "bfloat16", "int8")),
    Setting("BATCH_SIZE", 256, "most rows per forward pass (targets and covariates)", whole_number(1)),
    Setting("BATCH_TOKENS", 4096, "most patch tokens per forward pass (bounds activation memory)", whole_number(64)),
    Setting(
        "GATHER_MS", 2, "milliseconds the model worker waits to merge concurrent requests (0: off)", whole_number(0)
    ),
    Setting("MAX_BATCH_ROWS", 1024, "most inputs merged into one model call", whole_number(1)),
    Setting(
        "MAX_QUEUED_TOKENS", 400_000, "queued model work (patch tokens) beyond which requests get 503", whole_number(1)
    ),
    Setting("QUEUE_DEADLINE", 600, "seconds a request may wait for the model before it is dropped", whole_number(1)),
    Setting("MAX_CONTENT_LENGTH", 10 * 1024 * 1024, "largest request body in bytes", whole_number(1)),
    Setting("MAX_SERIES", 1000, "most series per request", whole_number(1)),
    Setting("MAX_HORIZON", 1024, "longest horizon", whole_number(1)),
    Setting("MAX_COVARIATES", 50, "most covariates per series", whole_number(0)),
    Setting("MAX_QUANTILES", 99, "most quantile levels per request", whole_number(1)),
    Setting("MAX_RESPONSE_NUMBERS", 5_000_000, "most numbers in one answer", whole_number(1)),
    Setting("MAX_FILLED_POINTS", 100_000, "most points per series after fill_missing", whole_number(1)),
    Setting("ANOMALY_BLOCK", 6, "points forecast per anomaly-scan window", whole_number(1)),
    Setting("ANOMALY_CONTEXT", 64, "most past points per anomaly-scan window", whole_number(1)),
    Setting("CALIBRATION_WINDOWS", 4, "most past windows a calibrated forecast learns from", whole_number(1)),
    Setting("CALIBRATION_CONTEXT", 128, "most past points per calibration window", whole_number(1)),
    Setting("LOAD_IN_BACKGROUND", False, "load the model after the server starts", yes_no),
    Setting("CORS_ORIGINS", "", "web origins allowed to call the API from their pages", origins),
    Setting("API_KEYS", "", "comma-separated API keys; when set, the API needs one", text),
    Setting("API_KEYS_FILE", "", "file with one API key per line", existing_file),
    Setting("DATA_DIR", default_data_dir(), "adapters' weights and, by default, the database of jobs", text),
    Setting("DATABASE_URL", "", "database of jobs and adapters (empty: SQLite in DATA_DIR)", database_url),
    Setting("TRAIN_CONCURRENCY", 1, "training jobs run at once per server", whole_number(1)),
    Setting("TRAIN_QUEUE", 8, "training jobs that may wait per server (more get 503)", whole_number(0)),
    Setting("TRAIN_THREADS", DEFAULT_TRAIN_THREADS, "CPU threads of a training job", whole_number(1)),
    Setting("TRAIN_MAX_SECONDS", 1800, "seconds a training job may run before it is stopped", whole_number(1)),
    Setting("TRAIN_MAX_STEPS", 2000, "most training steps a job may ask for", whole_number(1)),
    Setting("TRAIN_MAX_POINTS", 200_000, "most points (all series together) a job may train on", whole_number(1)),
    Setting(
        "ADAPTER_CACHE", 8, "adapters kept loaded beside the model (least recently used unloaded)", whole_number(1)
    ),
]
DEFAULTS: dict[str, Any] = {setting.name: setting.default for setting in SETTINGS}


def settings_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Read and check the ``CHRONOS_<SETTING>`` variables; raise ``SettingsError`` on a bad value."""
    known = {f"CHRONOS_{setting.name}" for setting in SETTINGS}
    for variable in sorted(environ):
        if variable.startswith("CHRONOS_") and variable not in known:
            log.warning("ignoring %s: not a setting (settings: %s)", variable, ", ".join(sorted(known)))
    found: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(f"CHRONOS_{setting.name}")
        if raw is None:
            continue
        try:
            found[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise SettingsError(f"CHRONOS_{setting.name}={raw!r} is not valid: {exc}") from None
    return found


def api_keys(config: Mapping[str, Any]) -> list[str]:
    """The API keys: ``API_KEYS`` (comma-separated) and the lines of ``API_KEYS_FILE``."""
    keys = [key.strip() for key in str(config.get("API_KEYS") or "").split(",")]
    path = config.get("API_KEYS_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as lines:
                keys += [line.strip() for line in lines if not line.lstrip().startswith("#")]
        except OSError as exc:
            raise SettingsError(f"CHRONOS_API_KEYS_FILE={path!r} cannot be read: {exc.strerror}") from None
    return [key for key in keys if key]
