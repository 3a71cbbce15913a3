"""The library's application recorders, with what must commit in the same transaction as the
events: each event's chained hash, the record locator, delegations and the idempotency key of
the request that caused them (ADR 13).

A hash is chained to the predecessor as stored, inside the transaction that holds the events
table's write lock (PostgreSQL's EXCLUSIVE table lock; SQLite's single writer), so rollbacks,
restarts and several processes cannot make a wrong one. The one thing kept between
transactions is `CommittedHeads`: the last hash of streams this process wrote, remembered
only after its transaction committed, and used only for the very next version of that
stream — which the insert itself proves is still the stored head (versions are unique); any
other version is read as stored.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, LiteralString, cast
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composable, Identifier

from adapters.sql import At, EventsTable, _PgCursor, array_literal, insert_many, uuid_text
from adapters.store_waits import bound_waits, wait_left
from adapters.write_gate import gate_for

INLINE = ("delegations", "hash_chain", "record_locator")
# The log position of the last change to a reference aggregate (anything but a journal):
# processes compare it with their cached rosters, years and pages (ADR 13).
REFERENCE_CHANGES = "reference_changes"
JOURNAL_TOPICS = "domain.journal:StudentJournal."


# The transaction of the change in progress in this context (PostgreSQL): set by `unit()`.
_unit: ContextVar[Any] = ContextVar("ejournal_write_unit", default=None)
# Namespace of the streams' advisory locks (the two-key form keeps them apart from the
# store lock, whose keys are one 64-bit integer).
STREAM_LOCKS = 0x656A6F75  # "ejou"


def stream_lock_key(stream: UUID) -> int:
    """A stream's advisory-lock key within STREAM_LOCKS (a signed 32-bit integer)."""
    return int.from_bytes(stream.bytes[:4], "big", signed=True)


class KeyAlreadyUsed(Exception):
    """The request's idempotency key is already stored: the save is rolled back."""

    def __init__(self, claim: IdempotencyClaim) -> None:
        super().__init__(claim.key)
        self.claim = claim


@dataclass
class IdempotencyClaim:
    """A request's `Idempotency-Key`, stored with the first events the request causes."""

    scope: str
    key: str
    fingerprint: str
    created_at: str
    stored: bool = False
    positions: list[int] = field(default_factory=list)


@dataclass
class Inline:
    """What the application hands the recorder with each save (save kwargs)."""

    events: list[Any]
    # The requests' keys, each with the places of the events its request caused among the
    # saved ones (a group commit saves several requests' events together).
    claims: list[tuple[IdempotencyClaim, list[int]]] = field(default_factory=list)
    # The events' chained hashes when already checked (an archive's replay): stored as given.
    hashes: Sequence[str] | None = None
    # The streams' new chain heads, remembered once the transaction has committed.
    heads: dict[str, Any] = field(default_factory=dict)


class CommittedHeads:
    """Chain heads (stream → (version, hash, organisation)) of events this process stored,
    added only after their transaction committed; the least recently written are forgotten
    beyond `size`. A miss costs one read of the stored head in the writing transaction."""

    def __init__(self, size: int = 8192) -> None:
        self.size = size
        self._heads: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, stream: str, /) -> Any:
        return self._heads.get(stream)

    def remember(self, heads: Mapping[str, Any]) -> None:
        with self._lock:
            for stream, head in heads.items():
                known = self._heads.get(stream)
                if known is None or known[0] < head[0]:
                    self._heads[stream] = head
                self._heads.move_to_end(stream)
            while len(self._heads) > self.size:
                self._heads.popitem(last=False)


@dataclass
class _KnownHeads:
    """The heads read in the writing transaction first, then those remembered."""

    stored: Mapping[str, Any]
    remembered: CommittedHeads

    def get(self, stream: str, /) -> Any:
        head = self.stored.get(stream)
        return head if head is not None else self.remembered.get(stream)


class InlineWriter:
    """Writes the inline indexes for one saved batch, on the recorder's own cursor."""

    def __init__(
        self, chain: Any, indexes: Sequence[Any], decode: Callable[[StoredEvent], Any]
    ) -> None:
        self.chain = chain  # projections.chain.HashChain
        self.indexes = indexes  # RecordLocator, Delegations: apply(cur, event, position)
        self.decode = decode  # for events inserted without the application (replay, tests)
        self.heads = CommittedHeads()

    def inline_of(self, stored: Sequence[StoredEvent], kwargs: dict[str, Any]) -> Inline:
        inline = kwargs.get("inline")
        if isinstance(inline, Inline):
            return inline
        return Inline([self.decode(s) for s in stored])

    def write(
        self,
        cur: Any,
        stored: Sequence[StoredEvent],
        ids: Sequence[int] | Sequence[At],
        inline: Inline,
        stored_heads: Mapping[str, Any] | None = None,
    ) -> None:
        """`ids`: the events' positions, or their `At` keys (a PostgreSQL unit, whose
        inline rows go with its insert: nothing here waits for an answer). `stored_heads`:
        the streams' newest heads as read in this transaction under their locks; with the
        heads this process committed, a head that is exactly the predecessor of the batch
        spares a read of the stored one."""
        if inline.hashes is None:
            known: Any = _KnownHeads(stored_heads, self.heads) if stored_heads else self.heads
            inline.heads = self.chain.apply_batch(cur, list(zip(stored, ids, strict=True)), known)
        else:
            self.chain.record_checked(cur, stored, ids, inline.hashes)
        for index in self.indexes:
            mine = [
                (event, position)
                for event, position in zip(inline.events, ids, strict=True)
                if event is not None and isinstance(event, index.handles)
            ]
            if not mine:
                continue
            if hasattr(index, "apply_batch"):  # one statement for a group's records
                index.apply_batch(cur, mine)
            else:
                for event, position in mine:
                    index.apply(cur, event, position)
        for claim, places in inline.claims:
            if claim.stored:
                continue
            row = (claim.scope, claim.key, claim.fingerprint, claim.created_at, ids[max(places)])
            if isinstance(row[-1], At):
                # No answer awaited: a key already used fails the COMMIT (a unique violation
                # the PostgreSQL unit tells as KeyAlreadyUsed), one round trip for all.
                insert_many(
                    cur,
                    "idempotency_keys",
                    ("scope", "idem_key", "fingerprint", "created_at", "position"),
                    ("text", "text", "text", "text", "bigint"),
                    [row],
                )
                continue
            cur.execute(
                "INSERT INTO idempotency_keys (scope, idem_key, fingerprint, created_at, "
                "position) VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, idem_key) DO NOTHING "
                "RETURNING position",
                row,
            )
            if cur.fetchone() is None:  # (rowcount is unknown in a pipeline)
                raise KeyAlreadyUsed(claim)
        names: tuple[str, ...] = INLINE
        if any(not s.topic.startswith(JOURNAL_TOPICS) for s in stored):
            names = (*INLINE, REFERENCE_CHANGES)
        among = ", ".join("?" for _ in names)
        last = ids[-1]
        if isinstance(last, At):  # the unit's insert has just taken the batch's last id
            cur.execute(
                "UPDATE projection_positions SET position = currval(pg_get_serial_sequence(?, "
                f"'notification_id')) WHERE name IN ({among}) AND position < "
                "currval(pg_get_serial_sequence(?, 'notification_id'))",
                (cur.events.name, *names, cur.events.name),
            )
            return
        cur.execute(
            f"UPDATE projection_positions SET position = ? WHERE name IN ({among}) "
            "AND position < ?",
            (last, *names, last),
        )

    def committed(self, inline: Inline, ids: Sequence[int]) -> None:
        """After the commit: the claim is stored, later saves of the request skip it; the
        chain heads are known as stored."""
        self.heads.remember(inline.heads)
        for claim, places in inline.claims:
            claim.stored = True
            claim.positions.extend(ids[i] for i in places)


class SQLiteJournalRecorder(SQLiteApplicationRecorder):
    writer: InlineWriter | None = None

    def select_after(self, heads: Sequence[tuple[UUID, int]]) -> list[StoredEvent]:
        """Events of several streams newer than the given versions, in one query."""
        if not heads:
            return []
        where = " OR ".join("(originator_id = ? AND originator_version > ?)" for _ in heads)
        params = [x for stream, version in heads for x in (stream.hex, version)]
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT originator_id, originator_version, topic, state FROM "
                f"{self.events_table_name} WHERE {where} "
                "ORDER BY originator_id, originator_version",
                params,
            )
            return [
                StoredEvent(UUID(r[0]), int(r[1]), str(r[2]), bytes(r[3])) for r in c.fetchall()
            ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if self.writer is not None and ids:
            inline = self.writer.inline_of(stored_events, kwargs)
            # The raw sqlite3 cursor is our SQL port as it is (same connection, same transaction).
            self.writer.write(c.sqlite_cursor, stored_events, list(ids), inline)
        return ids

    @contextmanager
    def unit(self, streams: Sequence[UUID]) -> Iterator[None]:
        """A whole change (read the streams' news, decide, insert) as one writer: the write
        gate is held throughout, so no other writer, here or in another process, comes
        between the read and the insert (ADR 13)."""
        pool = self.datastore.pool
        gate = gate_for(pool.db_name)
        if gate is None:
            yield
            return
        with gate.passage(wait_left(float(pool.lock_timeout or 5))):
            yield

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        with self.unit(()):  # the write gate (already held inside a change's unit)
            ids = super().insert_events(stored_events, **kwargs)
        inline: Inline | None = kwargs.get("inline")
        if inline is not None and ids and self.writer is not None:
            self.writer.committed(inline, ids)
        return ids


class PostgresJournalRecorder(PostgresApplicationRecorder):
    """One transaction: lock the events table, insert the events, the inline indexes.

    Unlike the library's insert, no retries of its own (a busy or unreachable store answers
    `503 store-busy` at once, and the client's retry carries its idempotency key), no NOTIFY
    (our followers poll), and any exception rolls everything back."""

    writer: InlineWriter | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        datastore: Any = kwargs.get("datastore", args[0] if args else None)
        # The units' two settings given once per connection (libpq options), before the
        # library's constructor opens the pool, instead of as two statements in every
        # unit; in each unit when the pool was open already.
        self._per_unit_settings = not _connect_with(
            getattr(datastore, "pool", None),
            {
                "search_path": _text(SQL("{0}").format(Identifier(datastore.schema))),
                "lock_timeout": f"{datastore.lock_timeout}s",
            },
        )
        super().__init__(*args, **kwargs)
        bound_waits(self.datastore.pool, self.datastore.pool.timeout)
        schema = Identifier(self.datastore.schema)
        table = Identifier(self.events_table_name)
        # Statements rendered to text once: psycopg converts a text query once and caches
        # it, but renders a composed one (quoting its identifiers) at every execution.
        self._search_path = _text(SQL("SET LOCAL search_path TO {0}").format(schema))
        self._timeout_statement = _text(self.lock_table_statements[0])
        self._lock_events = _text(self.lock_table_statements[1])
        # Each stream's news through the primary key (a join the planner may turn into a
        # scan of the whole events table: measured 0.7 ms a call at 20,000 events, growing).
        self._select_after = _text(
            SQL(
                "SELECT e.originator_id, e.originator_version, e.topic, e.state "
                "FROM unnest(%s::text::uuid[], %s::text::bigint[]) AS h(id, version) "
                "CROSS JOIN LATERAL (SELECT * FROM {0}.{1} s WHERE s.originator_id = h.id "
                "AND s.originator_version > h.version ORDER BY s.originator_version) AS e "
                "ORDER BY e.originator_id, e.originator_version"
            ).format(schema, table)
        )
        # The library's insert with one array per column instead of an array of its composite
        # type (whose rows psycopg dumps as text, in Python): the same rows in the same order.
        self._insert_columns = _text(
            SQL(
                "INSERT INTO {0}.{1} (originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest(%s::text::{2}[], %s::text::bigint[], %s::text::text[], "
                "%s::text::bytea[]) "
                "RETURNING notification_id"
            ).format(schema, table, SQL(self.datastore.originator_id_type))
        )
        # Each stream's newest chain head as stored (read under the stream's lock, so it is
        # the predecessor of what the unit inserts).
        self._stored_heads = (
            "SELECT h.stream_id, h.version, h.hash, h.org_id FROM unnest(%s::text::text[]) AS w(s) "
            "CROSS JOIN LATERAL (SELECT * FROM event_hashes x WHERE x.stream_id = w.s "
            "ORDER BY x.version DESC LIMIT 1) AS h"
        )
        # Where the inline rows' positions are read from (`At`), in the unit's transaction.
        self._events = EventsTable(
            _text(SQL("{0}.{1}").format(schema, table)), self.datastore.originator_id_type
        )
        # One statement: the sorted keys are locked one after another, in that order.
        self._stream_locks = (
            "SELECT pg_advisory_xact_lock(%s, k) FROM "
            "(SELECT DISTINCT unnest(%s::text::int[]) AS k ORDER BY 1) AS keys"
        )

    # `unit` also runs a query for its caller in its first round trip (`_Bound.asked`).
    asks = True

    @contextmanager
    def unit(
        self, streams: Sequence[UUID], ask: tuple[LiteralString, Sequence[Any]] | None = None
    ) -> Iterator[_Bound | None]:
        """A whole change (read the streams' news, decide, insert) in one transaction that
        first takes the streams' advisory locks, in one order: writers of the same journals,
        in any process, queue here instead of failing on the version check (ADR 13). The
        commit happens when the block ends; nested units join the outer one.

        The transaction runs in one pipeline, so a group costs two round trips: its
        `BEGIN`, settings, locks and the streams' stored chain heads travel with the news
        query (the first statement whose rows are read); the events-table lock, the insert,
        the inline rows and the `COMMIT` all with the second (`insert_events`), so the
        events-table lock is held for no client's work (ADR 17). `ask`: a query of the
        caller's (the group's sessions) that travels with the first; its rows are `asked()`.
        A unit saves once: its `COMMIT` goes with its insert."""
        if _unit.get() is not None:
            yield _unit.get()
            return
        keys = sorted({stream_lock_key(s) for s in streams})
        # The transaction is ours, not psycopg's `transaction()`: in a pipeline that syncs
        # on entering and twice on leaving (nested pipelines), three round trips more.
        with self.datastore.get_connection() as conn:
            ending = contextlib.ExitStack()  # the pipeline's end, as the outcome calls for
            pipeline = ending.enter_context(conn.pipeline())
            curs = conn.cursor()
            try:
                curs.execute(b"BEGIN")
                if self._per_unit_settings:
                    # Our tables live in the same schema as the library's qualified ones.
                    curs.execute(self._search_path, prepare=True)
                    curs.execute(self._timeout_statement, prepare=True)
                heads = None
                if keys:
                    curs.execute(
                        self._stream_locks, (STREAM_LOCKS, array_literal(keys)), prepare=True
                    )
                    if self.writer is not None:
                        heads = conn.cursor(row_factory=tuple_row)
                        heads.execute(
                            self._stored_heads, (array_literal(list(streams)),), prepare=True
                        )
                answer = None
                if ask is not None:
                    answer = conn.cursor(row_factory=tuple_row)
                    answer.execute(ask[0], ask[1], prepare=True)

                def commit() -> None:
                    curs.execute(b"COMMIT")
                    pipeline.sync()

                bound = _Bound(conn, [], heads, answer, commit)
                token = _unit.set(bound)
                try:
                    yield bound
                finally:
                    _unit.reset(token)
                if bound.commit is not None:  # nothing saved
                    bound.commit()
            except BaseException as error:
                _roll_back(conn, pipeline)
                with contextlib.suppress(psycopg.Error):
                    ending.__exit__(type(error), error, error.__traceback__)
                raise
            try:
                ending.close()
            except psycopg.Error:
                # Committed already: the change stands. The connection, whose pipeline would
                # not end (the server going away, say), is closed for the pool to drop.
                conn.close()
        if self.writer is not None:
            for inline, ids in bound.done:  # committed
                self.writer.committed(inline, ids)

    def select_after(self, heads: Sequence[tuple[UUID, int]]) -> list[StoredEvent]:
        """Events of several streams newer than the given versions, in one query."""
        if not heads:
            return []
        bound = _unit.get()
        with contextlib.ExitStack() as stack:
            conn = bound.conn if bound else stack.enter_context(self.datastore.get_connection())
            curs = stack.enter_context(conn.cursor(row_factory=tuple_row))
            curs.execute(  # arrays as text (adapters/sql.py array_literal)
                self._select_after,
                (array_literal([h[0] for h in heads]), array_literal([h[1] for h in heads])),
                prepare=True,
            )
            return [StoredEvent(r[0], int(r[1]), r[2], bytes(r[3])) for r in curs.fetchall()]

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        bound = _unit.get()
        if bound is None:  # a save of its own: the same, in a unit without stream locks
            with self.unit(()):
                return self.insert_events(stored_events, **kwargs)
        inline = self.writer.inline_of(stored_events, kwargs) if self.writer else None
        columns = (  # array literals (adapters/sql.py): psycopg's list dumper is slow
            array_literal([s.originator_id for s in stored_events]),
            array_literal([s.originator_version for s in stored_events]),
            array_literal([s.topic for s in stored_events]),
            array_literal([s.state for s in stored_events]),
        )
        # In the unit's pipeline, one round trip: the events-table lock, the insert, the
        # inline rows (their positions joined from the inserted events: `At`) and the COMMIT
        # go together; the ids are read after them.
        if bound.commit is None:
            raise RuntimeError("a write unit saves once: its COMMIT goes with its insert")
        with bound.conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(self._lock_events, prepare=True)
            curs.execute(self._insert_columns, columns, prepare=True)
            if inline is not None and self.writer is not None:
                at = [At(uuid_text(s.originator_id), s.originator_version) for s in stored_events]
                with bound.conn.cursor(row_factory=tuple_row) as raw:
                    cur = _PgCursor(raw, self._events, defer=True)
                    self.writer.write(cur, stored_events, at, inline, bound.stored_heads())
                    cur.flush()  # one statement for all the inline tables
            commit, bound.commit = bound.commit, None
            try:
                commit()
                ids = [int(r[0]) for r in curs.fetchall()]
            except psycopg.errors.UniqueViolation as error:
                used = _used_claim(inline, error)
                if used is None:
                    raise
                raise KeyAlreadyUsed(used) from None
        if inline is not None and self.writer is not None:
            bound.done.append((inline, ids))  # marked committed when the unit ends
        return ids


@dataclass
class _Bound:
    """A PostgreSQL write unit: its connection (in pipeline mode, inside the transaction),
    the inline rows to mark committed after the commit, and the streams' stored chain heads
    and the caller's `ask` (cursors whose rows arrive with the unit's first round trip)."""

    conn: Any
    done: list[tuple[Inline, Sequence[int]]]
    heads: Any = None
    answer: Any = None  # the cursor of the caller's `ask`
    commit: Callable[[], None] | None = None  # queues the COMMIT (None once queued)
    _read: dict[str, Any] | None = None

    def asked(self) -> list[Any]:
        return list(self.answer.fetchall()) if self.answer is not None else []

    def stored_heads(self) -> dict[str, Any]:
        if self._read is None:
            rows = self.heads.fetchall() if self.heads is not None else []
            self._read = {str(r[0]): (int(r[1]), str(r[2]), str(r[3])) for r in rows}
        return self._read


def _roll_back(conn: Any, pipeline: Any) -> None:
    """After a failure inside a unit: what was sent is synced (an aborted pipeline needs
    it), and an open or failed transaction rolled back by psycopg's `rollback`, which also
    forgets the connection's prepared statements in order (a `ROLLBACK` statement of ours
    would have them deallocated after the next ones are prepared). A broken connection is
    left to the pool, which discards it."""
    with contextlib.suppress(psycopg.Error):
        pipeline.sync()
    with contextlib.suppress(psycopg.Error):
        conn.rollback()


def _connect_with(pool: Any, settings: dict[str, str]) -> bool:
    """The pool's connections made with these server settings (libpq `options`), if it has
    not opened yet (it opens on first use): True when done."""
    kwargs = getattr(pool, "kwargs", None)
    if not getattr(pool, "closed", False) or not isinstance(kwargs, dict):
        return False
    options = [kwargs["options"]] if kwargs.get("options") else []
    for name, value in settings.items():  # a space or backslash in a value escaped (libpq)
        options.append(f"-c {name}=" + value.replace("\\", "\\\\").replace(" ", "\\ "))
    kwargs["options"] = " ".join(options)
    return True


def _used_claim(inline: Inline | None, error: psycopg.errors.UniqueViolation) -> Any:
    """The claim of a batch whose idempotency key the violation names (its detail gives the
    key's values, in any server language), or None for another violation. Of two claims of
    one batch with the same key, the later one is refused (as the earlier is inserted first)."""
    if inline is None or error.diag.table_name != "idempotency_keys":
        return None
    detail = error.diag.message_detail or ""
    claims = [claim for claim, _ in inline.claims if not claim.stored]
    named = [c for c in claims if f"=({c.scope}, {c.key})" in detail]
    if named:
        return named[-1]
    return claims[0] if len(claims) == 1 else None


def _text(statement: Any) -> LiteralString:
    """A composed statement as text (identifiers quoted, literals rendered)."""
    if isinstance(statement, Composable):
        statement = statement.as_string(None)
    return cast(LiteralString, statement)


def recorder_topic(persistence_module: str) -> str:
    cls: type[Any] = (
        PostgresJournalRecorder
        if persistence_module.endswith("postgres")
        else SQLiteJournalRecorder
    )
    return f"{cls.__module__}:{cls.__qualname__}"
