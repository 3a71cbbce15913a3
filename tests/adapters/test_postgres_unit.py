"""The PostgreSQL write unit's shape (adapters/recorders.py, ADR 17): a group costs three round
trips whatever its size (the news with the locks; the insert, the inline rows and the COMMIT
together; the pipeline's end), its inline rows go as one statement whose positions are read
from the inserted events (`At`), the connection's settings are given once when it opens, and
a unit that fails, or whose pipeline will not end after its COMMIT, leaves the store and the
connection as they should be."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg._pipeline_base as pipeline_base
import pytest

from adapters.integrity import verify_store
from adapters.sql import At, EventsTable, _PgCursor, insert_many
from api.bootstrap import Services
from tests.adapters.test_group_commit import counted_saves, grouped, mark, stored_marks
from tests.adapters.writing import record

pytestmark = pytest.mark.parametrize("store", ["postgres"], indirect=True)

STUDENTS = ["s01", "s02", "s03", "s04", "s05", "s06"]
# insert_many's table, columns and their types for the record locator.
LOCATOR = (
    "record_locator",
    ("record_id", "kind", "journal_id", "position"),
    ("text",) * 3 + ("bigint",),
)


@contextmanager
def round_trips() -> Iterator[list[str]]:
    """What made psycopg wait for the server inside pipelines: each Sync (a pipeline's end
    is one, with whatever it fetches), and each fetch that had to ask for results (a flush
    request)."""
    seen: list[str] = []
    ending = threading.local()
    enqueue_sync = pipeline_base.BasePipeline._enqueue_sync
    fetch = pipeline_base.BasePipeline._fetch_gen
    exit_gen = pipeline_base.BasePipeline._exit_gen

    def counted_sync(self: Any) -> None:
        seen.append("sync")
        enqueue_sync(self)

    def counted_fetch(self: Any, *, flush: bool) -> Any:
        if flush and self.result_queue and not getattr(ending, "now", False):
            seen.append("flush")
        return (yield from fetch(self, flush=flush))

    def counted_exit(self: Any) -> Any:
        ending.now = True
        try:
            return (yield from exit_gen(self))
        finally:
            ending.now = False

    pipeline_base.BasePipeline._enqueue_sync = counted_sync  # type: ignore[method-assign]
    pipeline_base.BasePipeline._fetch_gen = counted_fetch  # type: ignore[method-assign]
    pipeline_base.BasePipeline._exit_gen = counted_exit  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        pipeline_base.BasePipeline._enqueue_sync = enqueue_sync  # type: ignore[method-assign]
        pipeline_base.BasePipeline._fetch_gen = fetch  # type: ignore[method-assign]
        pipeline_base.BasePipeline._exit_gen = exit_gen  # type: ignore[method-assign]


def test_a_group_costs_three_round_trips_whatever_its_size(imported: Services) -> None:
    app = imported.journal
    for s in STUDENTS:  # cached journals, as a running server has them
        record(app, s, value=4)
    for size in (1, 6):
        with round_trips() as seen, counted_saves(app) as saves:
            results = grouped(app, [lambda s=s: mark(app, s) for s in STUDENTS[:size]])
        assert all(not isinstance(r, BaseException) for r in results), results
        assert saves == [size]
        # The news (with BEGIN, the locks, the stored heads); insert + inline rows + COMMIT;
        # the pipeline's end.
        assert seen == ["flush", "sync", "sync"], (size, seen)
    assert verify_store(app).ok


def test_the_units_connections_open_with_their_settings(imported: Services) -> None:
    recorder = imported.journal.recorder
    assert recorder._per_unit_settings is False  # no SET statements in the units
    with recorder.datastore.get_connection() as conn:
        path = conn.execute("SHOW search_path").fetchone()
        timeout = conn.execute("SHOW lock_timeout").fetchone()
    assert recorder.datastore.schema in str(next(iter(path.values())))
    assert next(iter(timeout.values())) == f"{recorder.datastore.lock_timeout}s"


def test_inline_positions_are_read_from_the_inserted_events(
    imported: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = imported.journal
    # Ids of the older form (bare UUIDs) get locator rows; new ones name their journal.
    monkeypatch.setattr(app, "new_record_id", lambda *_: str(uuid.uuid4()))
    written = [record(app, s) for s in STUDENTS[:3]]
    recorder = app.recorder
    with imported.db.transaction() as cur:
        cur.execute(
            "SELECT journal_id, position FROM record_locator WHERE kind = 'mark' ORDER BY position"
        )
        located = [(str(r[0]), int(r[1])) for r in cur.fetchall()]
        cur.execute("SELECT stream_id, version, position FROM event_hashes ORDER BY position")
        hashed = {(str(r[0]), int(r[1])): int(r[2]) for r in cur.fetchall()}
    positions = {w.position for w in written}
    assert {p for _, p in located} == positions
    with recorder.datastore.get_connection() as conn:
        rows = conn.execute(
            f"SELECT originator_id::text, originator_version, notification_id FROM "
            f'"{recorder.datastore.schema}".{recorder.events_table_name}'
        ).fetchall()
    stored = {
        (r["originator_id"], int(r["originator_version"])): int(r["notification_id"]) for r in rows
    }
    assert hashed == stored  # every event's hash row carries that event's own position


def test_at_positions_are_all_or_none_and_need_a_units_cursor(imported: Services) -> None:
    with imported.db.transaction() as cur:
        with pytest.raises(TypeError, match="write unit"):
            insert_many(
                cur,
                *LOCATOR,
                [("r", "mark", "j", At("x", 1))],
            )
        named = _PgCursor(cur._cur, EventsTable("nowhere", "uuid"))
        with pytest.raises(TypeError, match="all by event"):
            insert_many(
                named,
                *LOCATOR,
                [("r", "mark", "j", At("x", 1)), ("q", "mark", "j", 7)],
            )


def test_a_deferring_cursor_sends_its_statements_as_one(imported: Services) -> None:
    sent: list[str] = []
    with imported.db.transaction() as cur:
        raw = cur._cur

        class Spy:
            def execute(self, sql: str, params: Any = None) -> Any:
                sent.append(sql)
                return raw.execute(sql, params)

            def fetchone(self) -> Any:
                return raw.fetchone()

        deferring = _PgCursor(Spy(), defer=True)
        insert = "INSERT INTO login_failures (key, failures, first_at) VALUES (?, 1, ?)"
        deferring.execute(insert, ("a", "2026-09-01"))
        deferring.execute(insert, ("b", "2026-09-01"))
        assert sent == []
        deferring.flush()
        assert len(sent) == 1 and sent[0].startswith("WITH w0 AS (INSERT")
        # A read sends what is kept first, one statement each, in order.
        reading = _PgCursor(Spy(), defer=True)
        reading.execute("DELETE FROM login_failures WHERE key = ?", ("a",))
        reading.execute("SELECT count(*) FROM login_failures")
        assert reading.fetchone()[0] == 1
        assert sent[1:] == [
            "DELETE FROM login_failures WHERE key = %s",
            "SELECT count(*) FROM login_failures",
        ]


def test_a_failed_unit_rolls_back_and_its_connection_prepares_again(
    imported: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after the insert was sent: nothing stored, and the statements psycopg
    prepares afterwards on the same connections still exist (a ROLLBACK statement of ours
    had them deallocated behind psycopg's back)."""
    app = imported.journal
    for s in STUDENTS:
        record(app, s)
    writer = type(app.recorder.writer)
    write = writer.write
    failed: list[bool] = []

    def failing(self: Any, *args: Any, **kwargs: Any) -> None:
        write(self, *args, **kwargs)
        if not failed:
            failed.append(True)
            raise RuntimeError("injected after the insert was sent")

    monkeypatch.setattr(writer, "write", failing)
    with pytest.raises(RuntimeError):
        record(app, "s01", value=3)
    for _ in range(8):  # past psycopg's prepare threshold, on every pooled connection
        for s in STUDENTS:
            record(app, s, value=4)
    assert [m.value for m in stored_marks(app, "s01")] == [5] + [4] * 8
    assert verify_store(app).ok


def test_a_committed_group_stands_when_its_pipeline_will_not_end(
    imported: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server going away after the COMMIT's answer: the group is answered as stored (it
    is), and the connection is closed for the pool to drop."""
    app = imported.journal
    record(app, "s01")
    closed: list[Any] = []
    exit_pipeline = psycopg.Pipeline.__exit__

    def failing_exit(self: Any, *args: Any) -> None:
        exit_pipeline(self, *args)
        if args[0] is None and not closed:
            closed.append(self._conn)
            raise psycopg.OperationalError("the server went away")

    monkeypatch.setattr(psycopg.Pipeline, "__exit__", failing_exit)
    written = record(app, "s01", value=2)
    monkeypatch.undo()
    assert closed and closed[0].closed
    assert [m.mark_id for m in stored_marks(app, "s01")][-1] == written.record.mark_id
    assert record(app, "s02").record.value == 5  # the pool goes on with another connection
    assert verify_store(app).ok
