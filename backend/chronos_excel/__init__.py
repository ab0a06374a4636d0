"""Chronos for Excel: Amazon Chronos-2 forecasts for spreadsheets, over a small Flask API."""

__version__ = "0.1.0"

from .app import create_app  # noqa: E402

__all__ = ["create_app", "__version__"]
