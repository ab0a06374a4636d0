"""Shared fixtures: a tiny randomly initialised Chronos-2 built with the library's own classes, the real
app loading it through the same code path as a real model, and a real HTTP server around that app."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from chronos.chronos2 import Chronos2Model
from werkzeug.serving import make_server

from chronos_excel import create_app
from chronos_excel.training import build_config  # the real chronos_config, encoder sizes as given
from tests.postgres import postgres_bin, postgres_server

ROOT = Path(__file__).resolve().parents[1]
NODE_TOOLS = ("eslint", "tsc", "custom-functions-metadata")  # what `npm ci` puts in node_modules/.bin


def pytest_configure(config: pytest.Config) -> None:
    """Jobs and adapters of the tests live in a folder of their own, never in the user's data directory."""
    os.environ.setdefault("CHRONOS_DATA_DIR", tempfile.mkdtemp(prefix="chronos-tests-"))


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that drive Chromium are marked ``browser``: ``-m "not browser"`` leaves them out."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
        if "postgres_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


def pytest_collection_finish(session: pytest.Session) -> None:
    """A tool the selected tests need and the machine lacks stops the run with one line saying what to run."""
    markers = {marker.name for item in session.items for marker in item.iter_markers()}
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if "browser" in markers and not Path(chromium).exists():
        pytest.exit(f"the task pane tests need Chromium at {chromium}: run `apt-get install -y chromium`", 4)
    if "postgres" in markers and postgres_bin() is None:
        pytest.exit("the database tests need PostgreSQL's server: run `apt-get install -y postgresql`", 4)
    if "node" in markers:
        if shutil.which("node") is None:
            pytest.exit("the add-in's JavaScript checks need Node.js 18+: run `apt-get install -y nodejs npm`", 4)
        missing = [tool for tool in NODE_TOOLS if not (ROOT / "node_modules" / ".bin" / tool).exists()]
        if missing:
            pytest.exit(f"node_modules/.bin/{missing[0]} is missing: run `npm ci --ignore-scripts`", 4)


def build_tiny_chronos2(directory: Path, seed: int = 0) -> Path:
    """Save a tiny, randomly initialised Chronos-2 (about 26k parameters) to ``directory``."""
    config = build_config(d_model=16, d_ff=32, num_layers=2, num_heads=4, initializer_factor=0.05)
    torch.manual_seed(seed)
    Chronos2Model(config).save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_chronos2(tmp_path_factory.mktemp("tiny-chronos2"))


@pytest.fixture(scope="session")
def app(tiny_model_dir: Path):
    return create_app({"MODEL": str(tiny_model_dir), "DEVICE": "cpu", "DTYPE": "float32", "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """The real app behind a real threaded HTTP server on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the session (Debian's package, in a temporary directory)."""
    with postgres_server() as url:
        yield url
