"""Jobs and adapters, kept in a database: SQLite in the data directory by default, PostgreSQL when
``CHRONOS_DATABASE_URL`` names one (so that several replicas share them).

One schema for both (SQLAlchemy Core), with a version number and migrations applied at start. Every row
carries its ``owner``: a hash of the API key that created it ("" without keys), and every read is filtered
by it, so a key never sees another key's jobs or adapters. Times are seconds since the epoch (UTC).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

metadata = MetaData()

schema_version = Table("chronos_schema", metadata, Column("version", Integer, nullable=False))

jobs = Table(
    "chronos_jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(64), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(64), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("step", Integer, nullable=False, default=0),
    Column("steps", Integer, nullable=False),
    Column("loss", Float),
    Column("elapsed_s", Float, nullable=False, default=0.0),
    Column("eta_s", Float),
    Column("created", Float, nullable=False),
    Column("started", Float),
    Column("finished", Float),
    Column("error", Text),
    Column("spec", Text, nullable=False),  # what was asked (JSON): horizon, steps, learning rate, series, points
    Column("replica", String(200), nullable=False),  # host:pid:token of the server holding the job
    Column("heartbeat", Float, nullable=False),
    Column("cancel", Boolean, nullable=False, default=False),
    Column("adapter_id", String(32)),
)

adapters = Table(
    "chronos_adapters",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("name", String(64), nullable=False),
    Column("created", Float, nullable=False),
    Column("base_model", Text, nullable=False),
    Column("job_id", String(32), nullable=False),
    Column("details", Text, nullable=False),  # JSON: series, points, horizon, steps, size, validation …
    UniqueConstraint("owner", "name", name="chronos_adapters_owner_name"),
)


def _version_1(connection: Connection) -> None:
    metadata.create_all(connection, tables=[jobs, adapters])


# Migration k brings the schema from version k to k + 1. Append, never edit: databases in use are at
# some version and apply only the ones after it.
MIGRATIONS: list[Callable[[Connection], None]] = [_version_1]
SCHEMA_VERSION = len(MIGRATIONS)
ACTIVE = ("queued", "running")


class Store:
    """The database of jobs and adapters."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        self._migrate()

    def _migrate(self) -> None:
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # replicas starting together migrate one at a time
                connection.execute(text("SELECT pg_advisory_xact_lock(727274)"))
            if not inspect(connection).has_table(schema_version.name):
                metadata.create_all(connection, tables=[schema_version])
            found = connection.execute(select(schema_version.c.version)).scalar()
            if found is None:
                connection.execute(insert(schema_version).values(version=0))
                found = 0
            if found > SCHEMA_VERSION:
                raise RuntimeError(
                    f"the database at {self.url_shown} has schema version {found}, newer than this server's "
                    f"{SCHEMA_VERSION}: upgrade chronos-excel"
                )
            for migration in MIGRATIONS[found:]:
                migration(connection)
            connection.execute(update(schema_version).values(version=SCHEMA_VERSION))

    @property
    def url_shown(self) -> str:
        """The URL without its password."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def version(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(schema_version.c.version)).scalar_one())

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    # ---- jobs -------------------------------------------------------------------------------------------

    def add_job(self, job: dict[str, Any]) -> None:
        """Insert a new job (a dict of the ``jobs`` columns; ``spec`` as a dict)."""
        with self._begin() as connection:
            connection.execute(insert(jobs).values(**{**job, "spec": json.dumps(job["spec"])}))

    def job(self, owner: str, job_id: str) -> dict | None:
        """The owner's job, or None."""
        with self.engine.connect() as connection:
            row = connection.execute(select(jobs).where(jobs.c.id == job_id, jobs.c.owner == owner)).mappings().first()
        return _job(row)

    def job_by_id(self, job_id: str) -> dict | None:
        with self.engine.connect() as connection:
            return _job(connection.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first())

    def update_job(self, job_id: str, **fields: Any) -> None:
        with self._begin() as connection:
            connection.execute(update(jobs).where(jobs.c.id == job_id).values(**fields))

    def finish_job(self, job_id: str, state: str, **fields: Any) -> bool:
        """Move an active job to a final state; False when it had already ended (e.g. cancelled)."""
        with self._begin() as connection:
            changed = connection.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.state.in_(ACTIVE))
                .values(state=state, finished=time.time(), **fields)
            )
        return changed.rowcount == 1

    def request_cancel(self, owner: str, job_id: str) -> dict | None:
        """Mark the owner's job for cancelling: a queued one is cancelled at once, a running one is stopped by
        the replica running it. Returns the job as it is now, or None when there is no such job."""
        now = time.time()
        with self._begin() as connection:
            connection.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.owner == owner, jobs.c.state == "queued")
                .values(state="cancelled", finished=now, cancel=True)
            )
            connection.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.owner == owner, jobs.c.state == "running")
                .values(cancel=True)
            )
        return self.job(owner, job_id)

    def active_jobs(self) -> list[dict]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(jobs).where(jobs.c.state.in_(ACTIVE))).mappings().all()
        return [_job(row) for row in rows]

    def name_in_use(self, owner: str, name: str) -> str | None:
        """Why the owner cannot use ``name`` for a new adapter (an adapter or an active job has it), or None."""
        with self.engine.connect() as connection:
            if connection.execute(
                select(adapters.c.id).where(adapters.c.owner == owner, adapters.c.name == name)
            ).first():
                return f"an adapter named {name!r} exists already"
            active = connection.execute(
                select(jobs.c.id).where(jobs.c.owner == owner, jobs.c.name == name, jobs.c.state.in_(ACTIVE))
            ).first()
        return None if active is None else f"job {active[0]} is training an adapter named {name!r}"

    # ---- adapters ---------------------------------------------------------------------------------------

    def add_adapter(self, adapter: dict[str, Any]) -> None:
        """Insert an adapter; raises ``NameTaken`` when the owner has one of that name."""
        try:
            with self._begin() as connection:
                connection.execute(insert(adapters).values(**{**adapter, "details": json.dumps(adapter["details"])}))
        except IntegrityError:
            raise NameTaken(f"an adapter named {adapter['name']!r} exists already") from None

    def adapters(self, owner: str) -> list[dict]:
        """The owner's adapters, newest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(adapters).where(adapters.c.owner == owner).order_by(adapters.c.created.desc())
            ).mappings()
            return [_adapter(row) for row in rows]

    def adapter(self, owner: str, name: str) -> dict | None:
        with self.engine.connect() as connection:
            row = (
                connection.execute(select(adapters).where(adapters.c.owner == owner, adapters.c.name == name))
                .mappings()
                .first()
            )
        return _adapter(row)

    def adapter_by_id(self, adapter_id: str) -> dict | None:
        with self.engine.connect() as connection:
            return _adapter(connection.execute(select(adapters).where(adapters.c.id == adapter_id)).mappings().first())

    def delete_adapter(self, owner: str, name: str) -> dict | None:
        """Delete the owner's adapter; returns it, or None when there was none."""
        with self._begin() as connection:
            row = (
                connection.execute(select(adapters).where(adapters.c.owner == owner, adapters.c.name == name))
                .mappings()
                .first()
            )
            if row is not None:
                connection.execute(delete(adapters).where(adapters.c.id == row["id"]))
        return _adapter(row)


class NameTaken(ValueError):
    """The owner already has an adapter of that name."""


def _job(row: Any) -> dict | None:
    return None if row is None else {**row, "spec": json.loads(row["spec"])}


def _adapter(row: Any) -> dict | None:
    return None if row is None else {**row, "details": json.loads(row["details"])}


_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def _engine(url: str) -> Engine:
    """One engine per URL and process. ``postgresql://`` means psycopg 3; SQLite waits for locks (several
    threads write) and keeps its journal in WAL mode, so that readers never wait for the writer."""
    with _ENGINES_LOCK:
        if url in _ENGINES:
            return _ENGINES[url]
        if url.startswith(("postgresql://", "postgres://")):
            engine = create_engine("postgresql+psycopg://" + url.split("://", 1)[1], pool_pre_ping=True)
        elif url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        _ENGINES[url] = engine
        return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def sqlite_url(data_dir: str | Path) -> str:
    """The default database: ``chronos.db`` in the data directory."""
    return f"sqlite:///{Path(data_dir) / 'chronos.db'}"
