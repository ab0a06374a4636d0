"""``chronos-excel``: serve the API and the task pane, write a manifest, train the bundled model."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("chronos_excel")

DEV_CERT_DIR = Path.home() / ".office-addin-dev-certs"


def _model_settings(args: argparse.Namespace) -> dict:
    settings = {"LOAD_IN_BACKGROUND": True}
    for name in ("model", "device", "dtype"):
        if getattr(args, name) is not None:
            settings[name.upper()] = getattr(args, name)
    if args.api_key:
        settings["API_KEYS"] = ",".join(args.api_key)
    return settings


def _tls_files(args: argparse.Namespace) -> tuple[str, str] | None:
    if args.cert or args.key:
        if not (args.cert and args.key):
            sys.exit("--cert and --key go together")
        return args.cert, args.key
    if args.https:
        cert, key = DEV_CERT_DIR / "localhost.crt", DEV_CERT_DIR / "localhost.key"
        if not cert.exists() or not key.exists():
            sys.exit(
                f"--https needs the Office development certificates in {DEV_CERT_DIR}: "
                "run `npx office-addin-dev-certs install` (or `npm run certs`) first, or pass --cert/--key"
            )
        return str(cert), str(key)
    return None


def serve(args: argparse.Namespace) -> None:
    """Start a production server: gunicorn (one process, threads) on POSIX, cheroot on Windows."""
    from .app import create_app
    from .settings import SettingsError, settings_from_env

    # The model worker is one thread calling torch: GNU OpenMP's busy-waiting would slow it 3-10x whenever
    # other processes want the CPU. Set before torch is imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:  # check every CHRONOS_* value before a server starts: a bad one stops here, named
        settings_from_env()
    except SettingsError as exc:
        sys.exit(f"chronos-excel serve: {exc}")
    tls = _tls_files(args)
    server = args.server or ("cheroot" if os.name == "nt" else "gunicorn")
    scheme = "https" if tls else "http"
    log.info(
        "Chronos for Excel listening on %s://%s:%d (%s, %d threads)", scheme, args.host, args.port, server, args.threads
    )
    log.info(
        "task pane: %s://%s:%d/addin/taskpane.html  API docs: %s://%s:%d/api/v1/docs",
        scheme,
        args.host,
        args.port,
        scheme,
        args.host,
        args.port,
    )
    settings = _model_settings(args)
    if server == "gunicorn":
        _serve_gunicorn(lambda: create_app(settings), args, tls)
    else:
        _serve_cheroot(create_app(settings), args, tls)


def _serve_gunicorn(make_app, args: argparse.Namespace, tls: tuple[str, str] | None) -> None:
    from gunicorn.app.base import BaseApplication
    from gunicorn.workers.gthread import ThreadWorker

    class DrainingWorker(ThreadWorker):
        """On SIGTERM, close the listening sockets at once: new connections are refused instead of waiting
        in the backlog of a worker that will never accept them, while the requests in hand finish."""

        def handle_exit(self, sig, frame) -> None:
            super().handle_exit(sig, frame)
            self.set_accept_enabled(False)
            for listener in self.sockets:
                listener.close()

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", 1)  # one process holds the one model copy
            self.cfg.set("worker_class", DrainingWorker)
            self.cfg.set("threads", args.threads)
            self.cfg.set("timeout", 600)  # long forecasts must not get the worker killed
            # SIGTERM: stop accepting connections, finish queued and in-flight requests, then exit 0
            self.cfg.set("graceful_timeout", args.grace_seconds)
            self.cfg.set("accesslog", "-")
            # the path without its query string: the formulas' API key may travel as ?key=, never logged
            self.cfg.set("access_log_format", '%(h)s %(l)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)ss')
            if tls:
                self.cfg.set("certfile", tls[0])
                self.cfg.set("keyfile", tls[1])

        def load(self):
            return make_app()

    Server().run()


def _serve_cheroot(app, args: argparse.Namespace, tls: tuple[str, str] | None) -> None:
    from cheroot import wsgi

    server = wsgi.Server((args.host, args.port), app, numthreads=args.threads)
    if tls:
        from cheroot.ssl.builtin import BuiltinSSLAdapter

        server.ssl_adapter = BuiltinSSLAdapter(tls[0], tls[1])
    try:
        server.start()
    except KeyboardInterrupt:
        server.stop()


def write_manifest(args: argparse.Namespace) -> None:
    """Write the add-in manifest for a server at ``--url``."""
    from .manifest import render_manifest

    try:
        xml = render_manifest(args.url.rstrip("/"))
    except ValueError as exc:
        sys.exit(f"chronos-excel manifest: {exc}")
    if args.out == "-":
        sys.stdout.write(xml)
    else:
        Path(args.out).write_text(xml, encoding="utf-8")
        print(f"wrote {args.out} for {args.url}")


def train_bundled(args: argparse.Namespace) -> None:
    """Train the small offline Chronos-2 that ships in the package."""
    from .training import train_bundled as train

    init = Path(args.init) if args.init else None
    train(Path(args.out), seed=args.seed, threads=args.threads, start_stage=args.start_stage, init=init)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="chronos-excel", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("serve", help="serve the API and the Excel task pane")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--model", help="Hugging Face id, local directory, or 'bundled' (env CHRONOS_MODEL)")
    run.add_argument("--device", choices=["auto", "cpu", "cuda"], help="env CHRONOS_DEVICE; default auto")
    run.add_argument(
        "--dtype", choices=["auto", "float32", "bfloat16", "int8"], help="env CHRONOS_DTYPE; default auto (int8: CPU)"
    )
    run.add_argument(
        "--https", action="store_true", help="use the Office dev certificates in ~/.office-addin-dev-certs"
    )
    run.add_argument("--cert", help="TLS certificate file (PEM)")
    run.add_argument("--key", help="TLS private key file (PEM)")
    run.add_argument("--threads", type=int, default=32, help="concurrent connections (default 32; the model is shared)")
    run.add_argument(
        "--grace-seconds",
        type=int,
        default=60,
        help="on SIGTERM, how long to finish queued and in-flight requests before exiting (default 60)",
    )
    run.add_argument("--server", choices=["gunicorn", "cheroot"], help="default: gunicorn, cheroot on Windows")
    run.add_argument(
        "--api-key",
        action="append",
        help="require this API key (Authorization: Bearer <key>); repeat for several (env CHRONOS_API_KEYS)",
    )
    run.set_defaults(func=serve)

    manifest = commands.add_parser("manifest", help="write manifest.xml for a server URL")
    manifest.add_argument("--url", default="https://localhost:8000", help="where the server runs")
    manifest.add_argument("--out", default="manifest.xml", help="file to write, or - for stdout")
    manifest.set_defaults(func=write_manifest)

    train = commands.add_parser("train-bundled", help="train the small offline model that ships in the package")
    train.add_argument("--out", required=True, help="directory to write the checkpoint to")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's, the number of cores)")
    train.add_argument("--start-stage", type=int, default=1, help="continue at this stage (needs --init)")
    train.add_argument("--init", help="checkpoint saved by the earlier stages with the same seed")
    train.set_defaults(func=train_bundled)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``chronos-excel`` console script."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
