"""A thin SQL port over SQLite (sqlite3) and PostgreSQL (psycopg 3) for our own tables.

Statements use `?` placeholders; the PostgreSQL side rewrites them to `%s`.
Our tables live in the same database as the events, so a read model's rows and its
position commit together.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool

from adapters.write_gate import gate_for


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    @property
    def rowcount(self) -> int: ...


class Database(Protocol):
    dialect: str

    def transaction(self, *, durable: bool = True) -> Any: ...
    def read(self) -> Any: ...
    def lookup(self) -> Any: ...
    def close(self) -> None: ...


class SQLiteDatabase:
    """One connection per thread; writers take the lock up front (BEGIN IMMEDIATE)."""

    dialect = "sqlite"

    def __init__(self, path: str, timeout: float = 5.0) -> None:
        self.path = path
        self.timeout = timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def _txn(self, begin: str) -> Iterator[sqlite3.Cursor]:
        conn = self._conn()
        cur = conn.cursor()
        cur.execute(begin)
        try:
            yield cur
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()
        finally:
            cur.close()

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Cursor]:
        # WAL with synchronous=NORMAL is already the cheap commit; nothing more to relax.
        # Writers queue at one gate per file, events and read models alike (ADR 13).
        gate = gate_for(self.path)
        if gate is None:
            with self._txn("BEGIN IMMEDIATE") as cur:
                yield cur
            return
        with gate.passage(self.timeout), self._txn("BEGIN IMMEDIATE") as cur:
            yield cur

    @contextmanager
    def read(self) -> Iterator[sqlite3.Cursor]:
        """A read in its own snapshot; inside another transaction of this thread (a lookup made
        while reading), that transaction's snapshot serves it: SQLite has no nested BEGIN."""
        conn = self._conn()
        if conn.in_transaction:
            cur = conn.cursor()
            try:
                yield cur
            finally:
                cur.close()
            return
        with self._txn("BEGIN") as cur:
            yield cur

    def lookup(self) -> Any:
        """One statement's read (SQLite: a read; its snapshot costs no round trip)."""
        return self.read()

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


def _scrub(value: Any) -> Any:
    """`value` with NUL replaced by U+FFFD, in it or in the str values of a nested list or
    tuple: PostgreSQL text cannot hold NUL (events stored before the API refused it)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, (list, tuple)):
        return _scrub_row(value)
    return value


def _scrub_row(row: Any) -> Any:
    """Parameters (a sequence, or a dict of named ones) with `_scrub` applied to each value;
    the very same object when no str in it holds NUL, the usual case, checked cheaply."""
    if row is None or isinstance(row, (str, bytes)):
        return row
    values = row.values() if isinstance(row, dict) else row
    for v in values:
        kind = type(v)  # exact types first: this runs for every row a rebuild writes
        if kind is str:
            if "\x00" in v:
                break
        elif kind is int or kind is float or v is None:
            continue
        elif (isinstance(v, str) and "\x00" in v) or isinstance(v, (list, tuple)):
            break
    else:
        return row
    if isinstance(row, dict):
        return {k: _scrub(v) for k, v in row.items()}
    scrubbed = [_scrub(v) for v in row]
    return tuple(scrubbed) if isinstance(row, tuple) else scrubbed


class _PgCursor:
    dialect = "postgresql"

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cur.execute(sql.replace("?", "%s"), _scrub_row(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        return self._cur.executemany(sql.replace("?", "%s"), [_scrub_row(r) for r in rows])

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)

    def copy_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        with self._cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(_scrub_row(row))


def empty_table(cur: Any, table: str) -> None:
    """Remove every row: TRUNCATE on PostgreSQL (fast, transactional), DELETE on SQLite."""
    if getattr(cur, "dialect", "sqlite") == "postgresql":
        cur.execute(f"TRUNCATE {table}")
    else:
        cur.execute(f"DELETE FROM {table}")


def _element(value: Any) -> str:
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        return '"' + _scrub(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if value is None:
        return "NULL"
    if kind is bytes or kind is memoryview or kind is bytearray:
        return '"\\\\x' + bytes(value).hex() + '"'  # bytea's hex format, its \ escaped
    if kind is bool:
        return "t" if value else "f"
    if isinstance(value, (UUID, int)):
        return str(value)
    raise TypeError(f"no array literal for {kind.__name__}")


def array_literal(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal (`{1,"a\\"b",NULL}`) for one column of rows, sent as text
    and cast (`?::text::bigint[]`): six times less CPU than psycopg's list dumper, which
    adapts each element in Python (4.5 µs a row of five columns). Elements: int, str (NUL
    replaced, as `_scrub`), bytes (bytea), UUID, bool, None."""
    return "{" + ",".join(map(_element, values)) + "}"


def insert_many(
    cur: Any,
    table: str,
    columns: Sequence[str],
    types: Sequence[str],
    rows: Sequence[Sequence[Any]],
    tail: str = "",
) -> None:
    """Rows inserted by one statement inside a transaction's pipeline: on PostgreSQL one
    `INSERT … SELECT FROM unnest(column arrays)` (one statement and one plan whatever the
    count; `types` are the columns' SQL types), on SQLite `executemany`. `tail`: e.g. an
    `ON CONFLICT` clause."""
    if not rows:
        return
    names = ", ".join(columns)
    if getattr(cur, "dialect", "sqlite") == "postgresql":
        arrays = [array_literal(column) for column in zip(*rows, strict=True)]
        unnest = ", ".join(f"?::text::{t}[]" for t in types)
        cur.execute(f"INSERT INTO {table} ({names}) SELECT * FROM unnest({unnest}) {tail}", arrays)
    else:
        marks = ", ".join("?" for _ in columns)
        cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}) {tail}", rows)


def insert_rows(
    cur: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert many rows at once: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    if hasattr(cur, "copy_rows"):
        cur.copy_rows(table, columns, rows)
    else:
        marks = ", ".join("?" for _ in columns)
        cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(
        self, conninfo: str, schema: str = "public", pool_size: int = 10, busy_seconds: int = 5
    ) -> None:
        self.schema = schema
        self.pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            timeout=busy_seconds,
            kwargs={
                "options": f"-c search_path={schema} -c lock_timeout={busy_seconds * 1000}",
                "connect_timeout": busy_seconds,
            },
            open=True,
        )

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[_PgCursor]:
        """`durable=False` skips the commit's wait for the disk: for rebuildable read models,
        whose rows and position are lost or kept together."""
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            if not durable:
                cur.execute("SET LOCAL synchronous_commit = off")
            yield _PgCursor(cur)

    def read(self) -> Any:
        return self.transaction()

    @contextmanager
    def lookup(self) -> Iterator[_PgCursor]:
        """One statement outside any transaction: a single round trip, no BEGIN and COMMIT
        (for the lookups every request makes: its session, the reference mark)."""
        with self.pool.connection() as conn:
            conn.autocommit = True
            try:
                with conn.cursor() as cur:
                    yield _PgCursor(cur)
            finally:
                with contextlib.suppress(psycopg.Error):
                    conn.autocommit = False

    def close(self) -> None:
        self.pool.close()
