"""A thin SQL port over SQLite (sqlite3) and PostgreSQL (psycopg 3) for our own tables.

Statements use `?` placeholders; the PostgreSQL side rewrites them to `%s`.
Our tables live in the same database as the events, so a read model's rows and its
position commit together.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple, Protocol
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool

from adapters.store_waits import bound_waits
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


class At(NamedTuple):
    """The log position of the event (stream, version) before the writer knows it: a
    PostgreSQL write unit sends its inline rows with the events' insert and its `COMMIT`, in
    one round trip (ADR 17), and `insert_many` takes each position from the events table."""

    stream: str
    version: int


class EventsTable(NamedTuple):
    """The events table as `At` positions are read from: its qualified name and the SQL type
    of its originator ids."""

    name: str
    id_type: str


class _PgCursor:
    """`defer`: statements are kept until `flush`, which sends them as one (the earlier ones
    as data-modifying `WITH` parts of the last): a write unit's inline rows cost one
    statement to send, however many tables they go to. Reading a result sends what is kept
    first, one statement each, in order."""

    dialect = "postgresql"

    def __init__(self, cur: Any, events: EventsTable | None = None, defer: bool = False) -> None:
        self._cur = cur
        self.events = events
        self._kept: list[tuple[str, tuple[Any, ...]]] | None = [] if defer else None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self._kept is not None:
            self._kept.append((sql.replace("?", "%s"), tuple(_scrub_row(params))))
            return None
        return self._cur.execute(sql.replace("?", "%s"), _scrub_row(params))

    def flush(self, *, merged: bool = True) -> None:
        kept, self._kept = self._kept, None
        if kept and merged and len(kept) > 1:
            parts = [f"w{n} AS ({sql})" for n, (sql, _) in enumerate(kept[:-1])]
            statement = f"WITH {', '.join(parts)} {kept[-1][0]}"
            kept = [(statement, tuple(p for _, params in kept for p in params))]
        for sql, params in kept or ():
            self._cur.execute(sql, params)

    def _sent(self) -> Any:
        if self._kept:
            self.flush(merged=False)
            self._kept = []
        return self._cur

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        cur = self._sent()
        return cur.executemany(sql.replace("?", "%s"), [_scrub_row(r) for r in rows])

    def fetchone(self) -> Any:
        return self._sent().fetchone()

    def fetchall(self) -> list[Any]:
        return self._sent().fetchall()

    @property
    def rowcount(self) -> int:
        return int(self._sent().rowcount)

    def copy_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        with self._sent().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(_scrub_row(row))


def empty_table(cur: Any, table: str) -> None:
    """Remove every row: TRUNCATE on PostgreSQL (fast, transactional), DELETE on SQLite."""
    if getattr(cur, "dialect", "sqlite") == "postgresql":
        cur.execute(f"TRUNCATE {table}")
    else:
        cur.execute(f"DELETE FROM {table}")


@functools.lru_cache(maxsize=16_384)
def uuid_text(value: UUID) -> str:
    """`str(value)`, remembered: the write path and the projections name the same journals'
    streams many times a second, and `UUID.__str__` formats the number each time."""
    return str(value)


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
    replaced, as `_scrub`), bytes (bytea), UUID, bool, None.

    A column of one type, the usual case (ids, versions, states), is written in one join
    without a call per element: the same text, three to six times faster."""
    kinds = set(map(type, values))
    if len(kinds) == 1:
        kind = kinds.pop()
        if kind is int:
            return "{" + ",".join(map(str, values)) + "}"
        if kind is UUID:
            return "{" + ",".join(map(uuid_text, values)) + "}"
        if kind is bytes:  # bytea's hex format, its \ escaped
            return '{"\\\\x' + '","\\\\x'.join([v.hex() for v in values]) + '"}'
        if kind is str:
            flat = "".join(values)
            if '"' not in flat and "\\" not in flat and "\x00" not in flat:
                return '{"' + '","'.join(values) + '"}'
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
    `ON CONFLICT` clause. A position column may hold `At` keys (a PostgreSQL write unit's
    cursor): the positions are then read from the events table by the same statement."""
    if not rows:
        return
    names = ", ".join(columns)
    if getattr(cur, "dialect", "sqlite") == "postgresql":
        values = list(zip(*rows, strict=True))
        if any(isinstance(column[0], At) for column in values):
            _insert_at(cur, table, columns, types, values, tail)
            return
        arrays = [array_literal(column) for column in values]
        unnest = ", ".join(f"?::text::{t}[]" for t in types)
        cur.execute(f"INSERT INTO {table} ({names}) SELECT * FROM unnest({unnest}) {tail}", arrays)
    else:
        marks = ", ".join("?" for _ in columns)
        cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}) {tail}", rows)


def _insert_at(
    cur: Any,
    table: str,
    columns: Sequence[str],
    types: Sequence[str],
    values: list[tuple[Any, ...]],
    tail: str,
) -> None:
    """`insert_many` whose position column holds `At` keys: each position is the
    notification id of the event with that stream and version, joined in the statement."""
    events: EventsTable | None = getattr(cur, "events", None)
    if events is None:
        raise TypeError("positions by event (At) need a cursor of a PostgreSQL write unit")
    arrays: list[str] = []
    unnest: list[str] = []
    aliases: list[str] = []
    picked: list[str] = []
    for n, (column, kind) in enumerate(zip(values, types, strict=True)):
        if isinstance(column[0], At):
            if not all(isinstance(v, At) for v in column):
                raise TypeError(f"{columns[n]}: positions all by event (At) or none")
            arrays += [
                array_literal([v.stream for v in column]),
                array_literal([v.version for v in column]),
            ]
            unnest += ["?::text::text[]", "?::text::bigint[]"]
            aliases += ["at_stream", "at_version"]
            picked.append("e.notification_id")
        else:
            arrays.append(array_literal(column))
            unnest.append(f"?::text::{kind}[]")
            aliases.append(f"c{n}")
            picked.append(f"x.c{n}")
    # Each position through the events' primary key (LATERAL … LIMIT 1): a plain join may be
    # planned as a scan of the whole events table, which grows with the log.
    cur.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(picked)} "
        f"FROM unnest({', '.join(unnest)}) AS x({', '.join(aliases)}) "
        f"CROSS JOIN LATERAL (SELECT s.notification_id FROM {events.name} s "
        f"WHERE s.originator_id = x.at_stream::{events.id_type} "
        f"AND s.originator_version = x.at_version LIMIT 1) AS e {tail}",
        arrays,
    )


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
        bound_waits(self.pool, busy_seconds)

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
