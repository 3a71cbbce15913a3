"""One setting chooses the store."""

from __future__ import annotations

import pytest

from adapters.settings import Settings
from adapters.storage import eventsourcing_env


def test_sqlite_url_selects_the_library_sqlite_module(tmp_path) -> None:
    env = eventsourcing_env(Settings(database_url=f"sqlite:///{tmp_path}/a.db"))
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert env["SQLITE_DBNAME"] == f"{tmp_path}/a.db"


def test_postgres_url_selects_the_library_postgres_module() -> None:
    env = eventsourcing_env(
        Settings(database_url="postgresql://u:p%40ss@db.local:6543/journal", postgres_schema="x")
    )
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == (
        "db.local",
        "6543",
        "journal",
    )
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], env["POSTGRES_SCHEMA"]) == (
        "u",
        "p@ss",
        "x",
    )
    assert env["POSTGRES_LOCK_TIMEOUT"] != "0"


def test_default_is_the_embedded_store() -> None:
    assert Settings().database_url == "sqlite:///var/ejournal.db"


def test_unknown_url_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        eventsourcing_env(Settings(database_url="mysql://x"))


def test_a_read_inside_a_read_on_sqlite_is_served_not_refused(tmp_path) -> None:
    """A lookup made while another read of the same thread is open (e.g. a reference check
    inside a report query) must not fail with «cannot start a transaction within a
    transaction» (seen as a flaky 503 on /monitoring)."""
    from adapters.sql import SQLiteDatabase

    db = SQLiteDatabase(str(tmp_path / "nested.db"))
    with db.transaction() as cur:
        cur.execute("CREATE TABLE t (x INTEGER)")
        cur.execute("INSERT INTO t VALUES (1)")
    with db.read() as outer:
        outer.execute("SELECT x FROM t")
        with db.read() as inner:
            inner.execute("SELECT COUNT(*) FROM t")
            assert inner.fetchone()[0] == 1
        assert outer.fetchone()[0] == 1
    db.close()
