"""Training jobs that never hurt serving: each runs in a child process (its own threads, a lower priority,
killed at once when cancelled or past its time limit), at most ``TRAIN_CONCURRENCY`` at a time per server,
the others queued; their state lives in the store, so that every replica can answer for every job.

A server holds the jobs it accepted. It writes a heartbeat for them every second; a job whose server
stopped is marked failed ("server stopped"): at the next start of a server on the same machine at once
(its process is gone), and by any replica once its heartbeat is ``STALE_SECONDS`` old.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import shutil
import socket
import sys
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import adapters
from .problems import ModelBusy, StoreUnavailable
from .store import NameTaken, Store, sqlite_url

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0  # progress and heartbeat written this often; a cancel from another replica is seen as soon
STALE_SECONDS = 30.0  # a job whose server has written nothing for this long is failed by another
SWEEP_SECONDS = 10.0
STOP_GRACE_SECONDS = 1.0  # a cancelled child gets this long to end after SIGTERM, then is killed
_LIVE: weakref.WeakSet = weakref.WeakSet()  # the runners alive in this process


@dataclass
class Pending:
    """A job waiting for a training slot, with what its child process needs."""

    id: str
    payload: dict[str, Any]


class JobRunner:
    """Queues, runs and supervises this server's training jobs."""

    def __init__(
        self,
        store: Store,
        data_dir: Path,
        *,
        concurrency: int = 1,
        queue_limit: int = 8,
        threads: int = 1,
        max_seconds: float = 1800.0,
    ) -> None:
        self.store, self.data_dir = store, Path(data_dir)
        self.concurrency, self.queue_limit = concurrency, queue_limit
        self.threads, self.max_seconds = threads, max_seconds
        self.replica = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._queue: deque[Pending] = deque()
        self._changed = threading.Condition()
        self._cancels: dict[str, threading.Event] = {}
        self._busy = 0
        self._stopped = False
        self.seconds_per_job = 60.0  # refined by every finished job; used for Retry-After
        _LIVE.add(self)
        self.sweep()
        for k in range(concurrency):
            threading.Thread(target=self._work, name=f"train-worker-{k}", daemon=True).start()
        threading.Thread(target=self._beat, name="train-heartbeat", daemon=True).start()
        atexit.register(self.stop)

    # ---- asked by the routes ----------------------------------------------------------------------------

    def submit(self, job: dict[str, Any], payload: dict[str, Any]) -> None:
        """Record a new job and queue it, or raise ``ModelBusy`` when ``queue_limit`` jobs already wait."""
        with self._changed:
            if len(self._queue) >= self.queue_limit:
                wait = round((len(self._queue) / max(1, self.concurrency) + 1) * self.seconds_per_job)
                raise ModelBusy(
                    f"{len(self._queue)} training jobs are waiting already (at most {self.queue_limit} per server); "
                    f"try again in about {wait} s.",
                    retry_after=wait,
                )
            now = time.time()
            self.store.add_job({**job, "state": "queued", "replica": self.replica, "heartbeat": now, "created": now})
            self._queue.append(Pending(job["id"], payload))
            self._changed.notify()

    def start_adapter(self, owner: str, req: Any, prepared: list, predictor: Any) -> dict:
        """Queue a job that trains adapter ``req.name`` (an ``AdapterRequest``) on the prepared series from
        the predictor's model; returns the job."""
        job_id, adapter_id = uuid.uuid4().hex, uuid.uuid4().hex
        held_out = req.horizon * req.validation_windows
        spec = {
            "horizon": req.horizon,
            "steps": req.steps,
            "learning_rate": req.learning_rate,
            "validation_windows": req.validation_windows,
            "seed": adapters.DEFAULT_SEED if req.seed is None else req.seed,
            "series": len(prepared),
            "points": sum(len(s.values) - held_out for s in prepared),
        }
        payload = {
            **{key: spec[key] for key in ("horizon", "steps", "learning_rate", "validation_windows", "seed")},
            "location": predictor.location,
            "device": predictor.info["device"],
            "base_model": predictor.info["id"],
            "series": prepared,
            "joint": req.joint,
            "threads": self.threads,
            "out": str(self.data_dir / "adapters" / adapter_id),
            "adapter_id": adapter_id,
            "owner": owner,
            "name": req.name,
            "spec": spec,
        }
        job = {"id": job_id, "owner": owner, "kind": "adapter", "name": req.name, "steps": req.steps, "spec": spec}
        self.submit({**job, "adapter_id": adapter_id}, payload)
        return self.store.job(owner, job_id)

    def cancel(self, owner: str, job_id: str) -> dict | None:
        """Cancel the owner's job: a queued one at once, a running one within about a second (wherever it runs).
        Returns the job as it is then, or None when there is no such job."""
        job = self.store.request_cancel(owner, job_id)
        if job is None:
            return None
        with self._changed:
            self._queue = deque(p for p in self._queue if p.id != job_id)
            event = self._cancels.get(job_id)
        if event is not None:
            event.set()
        deadline = time.monotonic() + 2 * HEARTBEAT_SECONDS + STOP_GRACE_SECONDS
        while job["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.05)
            job = self.store.job(owner, job_id) or job
        return job

    # ---- the work ---------------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._changed:
                while not self._queue and not self._stopped:
                    self._changed.wait()
                if self._stopped:
                    return
                pending = self._queue.popleft()
                self._busy += 1
            try:
                job = self.store.job_by_id(pending.id)
                if job is not None and job["state"] == "queued":
                    self._run(pending)
            except Exception:  # a store or system failure must not end the worker
                log.exception("training job %s failed", pending.id)
                self._fail(pending.id, "the server failed to run the job (see its log)")
            finally:
                with self._changed:
                    self._busy -= 1

    def _run(self, pending: Pending) -> None:
        """Run one job's child process to its end, writing progress; record the adapter or the failure."""
        job_id, payload = pending.id, pending.payload
        out = Path(payload["out"])
        context = multiprocessing.get_context("spawn")  # no fork of a process holding torch threads and locks
        reader, writer = context.Pipe(duplex=False)
        child = context.Process(target=adapters.train, args=(payload, writer), name=f"train-{job_id}", daemon=True)
        cancel = threading.Event()
        self._cancels[job_id] = cancel
        started = time.monotonic()
        self.store.update_job(job_id, state="running", started=time.time(), heartbeat=time.time())
        with _main_module_hidden():
            child.start()
        writer.close()
        step, loss, training_since, last_beat = 0, None, None, 0.0
        outcome: tuple[str, Any] = ("error", "the training process ended without a word")
        try:
            while True:
                message = _receive(reader, 0.1)
                if message == _ENDED:  # the child closed its end without a result: it died
                    child.join(STOP_GRACE_SECONDS)
                    outcome = ("error", f"the training process stopped unexpectedly (exit code {child.exitcode})")
                    break
                if message is not None:
                    kind = message[0]
                    if kind == "started":
                        training_since = time.monotonic()
                    elif kind == "progress":
                        step = max(step, int(message[1]))
                        loss = message[2] if message[2] is not None else loss
                    else:
                        outcome = message
                        break
                now = time.monotonic()
                if cancel.is_set():
                    outcome = ("cancelled", None)
                    break
                if now - started > self.max_seconds:
                    outcome = (
                        "error",
                        f"stopped after {self.max_seconds:.0f} s (CHRONOS_TRAIN_MAX_SECONDS) at step {step} of "
                        f"{payload['steps']}",
                    )
                    break
                if now - last_beat >= HEARTBEAT_SECONDS:
                    last_beat = now
                    eta = None
                    if training_since is not None and step:
                        eta = (now - training_since) / step * (payload["steps"] - step)
                    self.store.update_job(
                        job_id,
                        step=step,
                        loss=loss,
                        elapsed_s=round(now - started, 1),
                        eta_s=None if eta is None else round(eta, 1),
                        heartbeat=time.time(),
                    )
                    fresh = self.store.job_by_id(job_id)
                    if fresh is None or fresh["cancel"]:
                        cancel.set()
        finally:
            self._cancels.pop(job_id, None)
            if child.is_alive():
                _stop(child)
            reader.close()
        elapsed = round(time.monotonic() - started, 1)
        kind, value = outcome
        if kind == "done":
            self.seconds_per_job = elapsed
            self._succeed(job_id, payload, value, step, elapsed)
            return
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(out.with_name(out.name + ".work"), ignore_errors=True)
        if kind == "cancelled":
            self.store.finish_job(job_id, "cancelled", step=step, elapsed_s=elapsed, eta_s=None)
        else:
            log.warning("training job %s failed: %s", job_id, value)
            self.store.finish_job(job_id, "failed", step=step, elapsed_s=elapsed, eta_s=None, error=str(value))

    def _succeed(self, job_id: str, payload: dict, result: dict, step: int, elapsed: float) -> None:
        spec = payload["spec"]
        adapter = {
            "id": payload["adapter_id"],
            "owner": payload["owner"],
            "name": payload["name"],
            "created": time.time(),
            "base_model": payload["base_model"],
            "job_id": job_id,
            "details": {
                **{key: spec[key] for key in ("series", "points", "horizon", "steps", "learning_rate", "seed")},
                "size_bytes": result["size_bytes"],
                "train_seconds": result["train_seconds"],
                "validation": result["validation"],
            },
        }
        try:
            self.store.add_adapter(adapter)
        except NameTaken as exc:
            shutil.rmtree(payload["out"], ignore_errors=True)
            self.store.finish_job(job_id, "failed", elapsed_s=elapsed, eta_s=None, error=str(exc))
            return
        done = self.store.finish_job(
            job_id,
            "succeeded",
            step=max(step, spec["steps"]),
            loss=result["loss"],
            elapsed_s=elapsed,
            eta_s=0.0,
            adapter_id=adapter["id"],
        )
        if not done:  # cancelled in the last moment: nothing is kept
            self.store.delete_adapter(payload["owner"], payload["name"])
            shutil.rmtree(payload["out"], ignore_errors=True)

    def _fail(self, job_id: str, error: str) -> None:
        try:
            self.store.finish_job(job_id, "failed", error=error)
        except Exception:
            log.exception("could not record the failure of job %s", job_id)

    # ---- heartbeat and the jobs of servers that stopped -------------------------------------------------

    def _beat(self) -> None:
        last_sweep = time.monotonic()
        while not self._stopped:
            time.sleep(HEARTBEAT_SECONDS)
            try:
                with self._changed:
                    held = [p.id for p in self._queue]
                for job_id in held:  # running jobs are beaten by their workers, with their progress
                    self.store.update_job(job_id, heartbeat=time.time())
                if time.monotonic() - last_sweep >= SWEEP_SECONDS:
                    last_sweep = time.monotonic()
                    self.sweep()
            except Exception as exc:  # a database hiccup: try again at the next beat
                log.warning("job heartbeat failed: %s", exc)

    def sweep(self) -> None:
        """Fail the active jobs whose server has stopped."""
        now = time.time()
        for job in self.store.active_jobs():
            reason = _stopped_reason(job, now, self.replica)
            if reason is not None:
                log.warning("job %s: %s", job["id"], reason)
                self.store.finish_job(job["id"], "failed", error=reason, eta_s=None)
                if job["adapter_id"] and self.store.adapter_by_id(job["adapter_id"]) is None:  # its leftovers
                    out = self.data_dir / "adapters" / job["adapter_id"]
                    shutil.rmtree(out, ignore_errors=True)
                    shutil.rmtree(out.with_name(out.name + ".work"), ignore_errors=True)

    def stop(self) -> None:
        """Stop taking jobs; the jobs this server holds fail ("server stopped") and their children end."""
        if self._stopped:
            return
        with self._changed:
            self._stopped = True
            held = [p.id for p in self._queue]
            self._queue.clear()
            running = list(self._cancels.values())
            self._changed.notify_all()
        for event in running:
            event.set()
        try:
            for job in self.store.active_jobs():
                if job["replica"] == self.replica or job["id"] in held:
                    self.store.finish_job(job["id"], "failed", error="server stopped", eta_s=None)
        except Exception as exc:  # the database may be gone first
            log.warning("could not mark this server's jobs as stopped: %s", exc)
        _LIVE.discard(self)


_MAIN_LOCK = threading.Lock()


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start a spawned child without it running the parent's main script again. A spawned child imports the
    parent's ``__main__`` (by path or module name) before its target; a script that builds the app at module
    level without ``if __name__ == "__main__"`` would then start a second server in the child. The target lives
    in this package, so the child needs nothing of ``__main__``: it is hidden while the child is prepared."""
    main = sys.modules["__main__"]
    with _MAIN_LOCK:
        saved = {name: main.__dict__[name] for name in ("__file__", "__spec__") if name in main.__dict__}
        main.__dict__.pop("__file__", None)
        main.__spec__ = None
        try:
            yield
        finally:
            main.__dict__.pop("__spec__", None)
            main.__dict__.update(saved)


_ENDED = ("ended",)


def _receive(reader: Any, timeout: float) -> tuple | None:
    """The child's next message within ``timeout`` seconds, None if none came, ``_ENDED`` once it closed its end."""
    try:
        return reader.recv() if reader.poll(timeout) else None
    except (EOFError, OSError):
        return _ENDED


def _stop(child: multiprocessing.Process) -> None:
    child.terminate()
    child.join(STOP_GRACE_SECONDS)
    if child.is_alive():
        child.kill()
        child.join()


def _stopped_reason(job: dict, now: float, me: str) -> str | None:
    """Why an active job can no longer finish (its server stopped), or None while its server may be alive."""
    if job["replica"] == me or any(runner.replica == job["replica"] for runner in _LIVE):
        return None
    host, pid, _token = (job["replica"].split(":") + ["", "", ""])[:3]
    if host == socket.gethostname() and os.name != "nt" and pid.isdigit():
        if int(pid) == os.getpid() or not _alive(int(pid)):
            return "server stopped: the server that held this job is no longer running"
    if now - job["heartbeat"] > STALE_SECONDS:
        return f"server stopped: no heartbeat from {host} for {now - job['heartbeat']:.0f} s"
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Jobs:
    """The app's jobs and adapters: the store and this server's runner, opened on first use (or at start when a
    database exists already, so that the jobs of a server that stopped are marked at once)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.data_dir = Path(config["DATA_DIR"]).expanduser()
        self.url = config["DATABASE_URL"] or sqlite_url(self.data_dir)
        self._settings = {
            "concurrency": config["TRAIN_CONCURRENCY"],
            "queue_limit": config["TRAIN_QUEUE"],
            "threads": config["TRAIN_THREADS"],
            "max_seconds": config["TRAIN_MAX_SECONDS"],
        }
        self._runner: JobRunner | None = None
        self._lock = threading.Lock()

    @property
    def runner(self) -> JobRunner:
        with self._lock:
            if self._runner is None:
                try:
                    if self.url.startswith("sqlite"):
                        self.data_dir.mkdir(parents=True, exist_ok=True)
                    store = Store(self.url)
                except Exception as exc:
                    shown = self.url.split("@")[-1] if "@" in self.url else self.url
                    raise StoreUnavailable(
                        f"the database of jobs and adapters ({shown}) is unavailable: {exc}"
                    ) from exc
                self.adapters_dir.mkdir(parents=True, exist_ok=True)
                self._runner = JobRunner(store, self.data_dir, **self._settings)
            return self._runner

    @property
    def store(self) -> Store:
        return self.runner.store

    @property
    def adapters_dir(self) -> Path:
        return self.data_dir / "adapters"

    def exists(self) -> bool:
        """Whether there is a database to open (a configured URL, or the SQLite file)."""
        return not self.url.startswith("sqlite") or (self.data_dir / "chronos.db").exists()


def init_app(app: Any) -> Jobs:
    """Attach the jobs to the app; open them now when a database exists (jobs of a stopped server are failed)."""
    jobs = Jobs(app.config)
    app.extensions["chronos_jobs"] = jobs
    if jobs.exists():
        try:
            jobs.runner  # noqa: B018 (opens the store, sweeps, starts the workers)
        except StoreUnavailable as exc:
            log.error("%s; training routes answer 503 until it is", exc)
    return jobs


def iso(seconds: float | None) -> str | None:
    """Seconds since the epoch as ISO 8601 UTC, to the second."""
    if seconds is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def describe_adapter(record: dict) -> dict:
    """An adapter as the API shows it."""
    details = record["details"]
    return {
        "name": record["name"],
        "created": iso(record["created"]),
        "base_model": record["base_model"],
        **{key: details[key] for key in ("series", "points", "horizon", "steps", "learning_rate", "seed")},
        "size_bytes": details["size_bytes"],
        "validation": details["validation"],
        "job": record["job_id"],
    }


def describe_job(job: dict, adapter: dict | None) -> dict:
    """A job as the API shows it (``adapter``: its result, once it has succeeded)."""
    return {
        "id": job["id"],
        "kind": job["kind"],
        "name": job["name"],
        "state": job["state"],
        "progress": {
            "step": job["step"],
            "steps": job["steps"],
            "loss": job["loss"],
            "elapsed_s": job["elapsed_s"],
            "eta_s": job["eta_s"],
        },
        "created": iso(job["created"]),
        "started": iso(job["started"]),
        "finished": iso(job["finished"]),
        "error": job["error"],
        "result": None if adapter is None or job["state"] != "succeeded" else describe_adapter(adapter),
    }
