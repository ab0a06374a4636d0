"""The store of jobs and adapters, against SQLite and against a real PostgreSQL server: one schema with a
version and migrations, every read filtered by owner, names unique per owner."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import inspect, select, update

from chronos_excel.store import SCHEMA_VERSION, NameTaken, Store, schema_version, sqlite_url

from .postgres import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return fresh_database(request.getfixturevalue("postgres_url"))


def job(job_id: str, owner: str = "", name: str = "sales", state: str = "queued") -> dict:
    now = time.time()
    return {
        "id": job_id,
        "owner": owner,
        "kind": "adapter",
        "name": name,
        "state": state,
        "steps": 200,
        "spec": {"horizon": 12},
        "replica": "host:1:token",
        "heartbeat": now,
        "created": now,
    }


def adapter(adapter_id: str, owner: str = "", name: str = "sales", created: float | None = None) -> dict:
    return {
        "id": adapter_id,
        "owner": owner,
        "name": name,
        "created": created or time.time(),
        "base_model": "bundled",
        "job_id": "j",
        "details": {"series": 1, "validation": {"skill": 0.2}},
    }


def test_a_new_database_gets_the_current_schema_and_reopening_changes_nothing(url):
    store = Store(url)
    assert store.version == SCHEMA_VERSION
    assert {"chronos_schema", "chronos_jobs", "chronos_adapters"} <= set(inspect(store.engine).get_table_names())
    store.add_adapter(adapter("a1"))
    again = Store(url)
    assert again.version == SCHEMA_VERSION and [a["id"] for a in again.adapters("")] == ["a1"]


def test_a_database_from_before_the_tables_is_migrated(url):
    store = Store(url)
    with store.engine.begin() as connection:  # as version 0 left it: the version table only
        connection.execute(update(schema_version).values(version=0))
        for table in ("chronos_jobs", "chronos_adapters"):
            connection.exec_driver_sql(f"DROP TABLE {table}")
    assert Store(url).version == SCHEMA_VERSION
    assert "chronos_adapters" in inspect(store.engine).get_table_names()


def test_a_database_from_a_newer_server_is_refused_by_name(url):
    store = Store(url)
    with store.engine.begin() as connection:
        connection.execute(update(schema_version).values(version=SCHEMA_VERSION + 1))
    with pytest.raises(RuntimeError, match=f"schema version {SCHEMA_VERSION + 1}, newer than this server's"):
        Store(url)


def test_every_read_is_filtered_by_owner(url):
    store = Store(url)
    store.add_job(job("j1", owner="alice"))
    store.add_adapter(adapter("a1", owner="alice"))
    assert store.job("alice", "j1")["spec"] == {"horizon": 12}
    assert store.job("bob", "j1") is None
    assert store.adapters("bob") == [] and store.adapter("bob", "sales") is None
    assert store.delete_adapter("bob", "sales") is None and store.adapter("alice", "sales") is not None
    assert store.request_cancel("bob", "j1") is None and store.job("alice", "j1")["state"] == "queued"


def test_names_are_unique_per_owner_and_an_active_job_holds_its_name(url):
    store = Store(url)
    store.add_adapter(adapter("a1", owner="alice"))
    store.add_adapter(adapter("a2", owner="bob"))  # the same name for another owner
    with pytest.raises(NameTaken, match="'sales' exists already"):
        store.add_adapter(adapter("a3", owner="alice"))
    assert "exists already" in store.name_in_use("alice", "sales")
    store.add_job(job("j1", owner="alice", name="weekly"))
    assert "j1 is training an adapter named 'weekly'" in store.name_in_use("alice", "weekly")
    assert store.name_in_use("bob", "weekly") is None


def test_two_replicas_saving_one_name_at_once_keep_one(url):
    stores = [Store(url), Store(url)]
    outcomes: list[str] = []

    def save(k: int) -> None:
        try:
            stores[k].add_adapter(adapter(f"a{k}", owner="alice"))
            outcomes.append("saved")
        except NameTaken:
            outcomes.append("taken")

    threads = [threading.Thread(target=save, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["saved", "taken"]


def test_adapters_are_listed_newest_first_and_deleted(url):
    store = Store(url)
    store.add_adapter(adapter("old", name="old", created=1000.0))
    store.add_adapter(adapter("new", name="new", created=2000.0))
    assert [a["name"] for a in store.adapters("")] == ["new", "old"]
    assert store.delete_adapter("", "old")["id"] == "old"
    assert [a["name"] for a in store.adapters("")] == ["new"]


def test_cancelling_ends_a_queued_job_at_once_and_flags_a_running_one(url):
    store = Store(url)
    store.add_job(job("q"))
    store.add_job(job("r", name="other", state="running"))
    assert store.request_cancel("", "q")["state"] == "cancelled"
    running = store.request_cancel("", "r")
    assert (running["state"], running["cancel"]) == ("running", True)
    assert store.finish_job("r", "cancelled") is True
    assert store.finish_job("r", "succeeded") is False  # an ended job stays ended
    assert store.job("", "r")["state"] == "cancelled"
    assert [j["id"] for j in store.active_jobs()] == []


def test_the_postgresql_url_form_of_the_docs_is_understood(postgres_url):
    """``postgresql://`` (what users write) uses psycopg 3, the driver the project installs."""
    url = fresh_database(postgres_url)
    store = Store(url)
    assert store.engine.dialect.driver == "psycopg"
    with store.engine.connect() as connection:
        assert connection.execute(select(schema_version.c.version)).scalar() == SCHEMA_VERSION
