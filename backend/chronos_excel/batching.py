"""Many users, one model: a single model worker serves a queue of model calls, merging the calls of
concurrent requests that can share a batch, and refusing new work at once when the queue is full.

Calls can share a batch when they have the same input schema and horizon and use neither cross-learning
(whose results depend on what else is in the batch) nor an adapter: each input then gets the forecast it would
get alone.
A call whose client has hung up, or that waited past the deadline, is dropped from the queue: no work for
nobody.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

from .problems import ClientGone, ModelBusy

# How often a waiting request looks whether its client is still there.
CLIENT_CHECK_SECONDS = 0.25


def _still_there() -> bool:
    return False


# Set per request by the app (see `watch_client`): whether the request's client has hung up.
client_gone: ContextVar[Callable[[], bool]] = ContextVar("client_gone", default=_still_there)


def peer_closed(sock: socket.socket) -> bool:
    """Whether the other end of a connection has closed it (or it broke). Data waiting to be read does not
    count: only a hang-up. Exact on Linux (``POLLRDHUP``, also under TLS); elsewhere a plain socket is
    peeked at, and a TLS one is taken to be open."""
    try:
        fd = sock.fileno()
    except OSError:
        return True
    if fd < 0:
        return True
    if hasattr(select, "POLLRDHUP"):
        poller = select.poll()
        poller.register(fd, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
        return bool(poller.poll(0))
    if type(sock) is not socket.socket or not select.select([sock], [], [], 0)[0]:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True


def watch_client(environ: dict) -> Callable[[], bool]:
    """A check of whether the client of a WSGI request has hung up, where the server exposes the connection
    (gunicorn, the one `chronos-excel serve` uses on POSIX, and werkzeug's); elsewhere: never."""
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    return (lambda: peer_closed(sock)) if isinstance(sock, socket.socket) else _still_there


def _libc_malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to trim
        return None


_MALLOC_TRIM = _libc_malloc_trim()


def release_freed_memory() -> None:
    """Hand the model call's freed activations back to the operating system (glibc keeps large freed
    blocks otherwise), so that the answer built next does not stack on top of them."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


@dataclass(eq=False)
class Call:
    """One model call of one request: its inputs, horizon and cost in patch tokens."""

    inputs: list
    horizon: int
    cross_learning: bool
    schema: tuple
    tokens: int
    expires: float
    adapter: object = None  # the adapter the model runs with (None: the base model)
    gone: Callable[[], bool] = _still_there
    done: threading.Event = field(default_factory=threading.Event)
    answers: list | None = None
    error: BaseException | None = None

    def mergeable_with(self, other: Call) -> bool:
        # Calls with an adapter run alone: LoRA's thin matrix products round differently with the batch's size
        # on some CPUs, and every request must get exactly the answer it would get alone.
        alone = self.cross_learning or other.cross_learning or self.adapter is not None or other.adapter is not None
        return not alone and (self.schema, self.horizon) == (other.schema, other.horizon)


class ModelQueue:
    """A queue of model calls served by one worker thread.

    ``run(inputs, horizon, cross_learning, adapter)`` makes one batched model call and returns one answer per
    input.
    ``gather_seconds`` is how long the worker waits for more calls to merge once one arrives (0: none);
    ``max_rows`` caps the inputs merged into one call; ``max_queued_tokens`` caps the queued work (a call
    arriving at an idle model is always taken); ``deadline_seconds`` drops calls that waited longer; a call
    whose client has gone (`client_gone` when it was submitted) is dropped too.
    """

    def __init__(
        self,
        run: Callable[[list, int, bool, object], list],
        *,
        gather_seconds: float = 0.002,
        max_rows: int = 1024,
        max_queued_tokens: int = 400_000,
        deadline_seconds: float = 600.0,
    ) -> None:
        self._run = run
        self.gather_seconds = gather_seconds
        self.max_rows = max_rows
        self.max_queued_tokens = max_queued_tokens
        self.deadline_seconds = deadline_seconds
        self._calls: deque[Call] = deque()
        self._changed = threading.Condition()
        self.in_flight = 0
        self.queued_tokens = 0
        self.seconds_per_token = 1e-4  # refined by every call; used for Retry-After
        threading.Thread(target=self._serve, name="model-worker", daemon=True).start()

    def status(self) -> dict[str, int]:
        """Calls waiting and calls being computed now."""
        with self._changed:
            return {"queued": len(self._calls), "in_flight": self.in_flight}

    def submit(
        self, inputs: list, horizon: int, cross_learning: bool, schema: tuple, tokens: int, adapter: object = None
    ) -> Call:
        """Queue a call, or raise ``ModelBusy`` when the queue holds too much work already (``ClientGone`` when
        the request's client has hung up already)."""
        expires = time.monotonic() + self.deadline_seconds
        call = Call(inputs, horizon, cross_learning, schema, tokens, expires, adapter, client_gone.get())
        if call.gone():
            raise ClientGone("The client closed the connection before the request reached the model.")
        with self._changed:
            busy = self._calls or self.in_flight
            if busy and self.queued_tokens + tokens > self.max_queued_tokens:
                wait = max(1, round((self.queued_tokens + tokens) * self.seconds_per_token))
                raise ModelBusy(
                    f"The model has {self.queued_tokens:,} patch tokens of work queued (at most "
                    f"{self.max_queued_tokens:,}); try again in about {wait} s.",
                    retry_after=wait,
                )
            self._calls.append(call)
            self.queued_tokens += tokens
            self._changed.notify()
        return call

    def result(self, call: Call) -> list:
        """Wait for a call's answers (one per input); a call still queued at its deadline, or whose client
        hangs up while it waits, is dropped."""
        while not call.done.wait(timeout=max(0.0, min(CLIENT_CHECK_SECONDS, call.expires - time.monotonic()))):
            expired = time.monotonic() >= call.expires
            if expired or call.gone():
                with self._changed:
                    if call in self._calls:
                        self._calls.remove(call)
                        self._drop(call, expired)
                call.done.wait()
        if call.error is not None:
            raise call.error
        return call.answers  # type: ignore[return-value]

    def _serve(self) -> None:
        while True:
            with self._changed:
                while not self._calls:
                    self._changed.wait()
            if self.gather_seconds:
                time.sleep(self.gather_seconds)  # let concurrent requests' calls arrive to share the batch
            batch = self._take()
            if not batch:
                continue
            inputs = [item for call in batch for item in call.inputs]
            started = time.monotonic()
            try:
                answers = self._run(inputs, batch[0].horizon, batch[0].cross_learning, batch[0].adapter)
            except BaseException as exc:  # every waiting request must hear of it
                for call in batch:
                    call.error = exc
            else:
                offset = 0
                for call in batch:
                    call.answers = answers[offset : offset + len(call.inputs)]
                    offset += len(call.inputs)
                tokens = sum(call.tokens for call in batch)
                self.seconds_per_token = (time.monotonic() - started) / max(tokens, 1)
            finally:
                release_freed_memory()
                with self._changed:
                    self.in_flight = 0
                for call in batch:
                    call.done.set()

    def _take(self) -> list[Call]:
        """The next call and every queued call that can share its batch (expired ones and those whose client has
        gone are dropped)."""
        now = time.monotonic()
        with self._changed:
            while self._calls and self._dropped(self._calls[0], now):
                self._calls.popleft()
            if not self._calls:
                return []
            first = self._calls.popleft()
            batch, rows, kept = [first], len(first.inputs), deque()
            while self._calls:
                call = self._calls.popleft()
                if self._dropped(call, now):
                    continue
                if call.mergeable_with(first) and rows + len(call.inputs) <= self.max_rows:
                    batch.append(call)
                    rows += len(call.inputs)
                else:
                    kept.append(call)
            self._calls = kept
            self.queued_tokens -= sum(call.tokens for call in batch)
            self.in_flight = len(batch)
            return batch

    def _dropped(self, call: Call, now: float) -> bool:
        """Drop ``call`` (already out of the queue) if it expired or its client has gone; say whether it was."""
        expired = call.expires < now
        if expired or call.gone():
            self._drop(call, expired)
            return True
        return False

    def _drop(self, call: Call, expired: bool) -> None:
        self.queued_tokens -= call.tokens
        if expired:
            call.error = ModelBusy(
                f"The request waited more than {self.deadline_seconds:.0f} s for the model and was dropped.",
                retry_after=max(1, round(self.queued_tokens * self.seconds_per_token)),
            )
        else:
            call.error = ClientGone("The client closed the connection while the request waited for the model.")
        call.done.set()
