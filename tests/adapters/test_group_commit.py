"""Group commit (ADR 17): changes that wait while another is being saved are saved together,
in one transaction; each is answered on its own, and what fails fails alone — except a
failure of the store, which fails the whole group and leaves nothing behind.

The tests hold the commit lock, let the writers queue up behind it, then let go: the first
writer to take the lock saves every queued change. Both stores."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest

from adapters.accounts import SessionEnded, SessionGuard, session_guard
from adapters.integrity import verify_store
from adapters.recorders import IdempotencyClaim, KeyAlreadyUsed
from adapters.service.core import idempotency_claim
from api.bootstrap import Services
from domain.errors import InvalidMark
from domain.ids import journal_id
from tests.adapters.writing import TEACHER, record

STUDENTS = ["s01", "s02", "s03", "s04", "s05", "s06"]


def mark(
    app: Any,
    student_id: str,
    value: int = 5,
    key: str | None = None,
    session: SessionGuard | None = None,
) -> Any:
    token = idempotency_claim.set(
        IdempotencyClaim("sght:t1", key, "f", "2026-09-03T05:00:00+00:00") if key else None
    )
    guarded = session_guard.set(session)
    try:
        return record(app, student_id, value)
    finally:
        session_guard.reset(guarded)
        idempotency_claim.reset(token)


@contextmanager
def counted_saves(app: Any, fail_with: BaseException | None = None) -> Iterator[list[int]]:
    """Count the recorder's transactions (or make each one fail)."""
    calls: list[int] = []
    original = app.recorder.insert_events

    def insert_events(stored: Any, **kwargs: Any) -> Any:
        calls.append(len(stored))
        if fail_with is not None:
            raise fail_with
        return original(stored, **kwargs)

    app.recorder.insert_events = insert_events
    try:
        yield calls
    finally:
        del app.recorder.insert_events


def grouped(app: Any, calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads that queue, in call order, behind the held commit lock, then
    release it: results in order (a raised exception is the result)."""
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except BaseException as error:
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    with app._commit_lock:
        for i, t in enumerate(threads):
            t.start()
            # Queued in call order: each waits for the condition (bounded) before the next.
            deadline = time.monotonic() + 10
            while len(app._waiting) < i + 1:
                assert time.monotonic() < deadline, "the writers did not queue"
                time.sleep(0.001)
    for t in threads:
        t.join(timeout=30)
    return results


def assert_each_answered_and_stored(app: Any, results: list[Any], students: list[str]) -> None:
    """Each request answered with its own record and its own position, that mark alone
    stored for its student, and the store verifies."""
    assert [r.student_id for r in results] == students
    assert len({r.position for r in results}) == len(students)
    for r in results:
        assert [m.mark_id for m in stored_marks(app, r.student_id)] == [r.record.mark_id]
    assert verify_store(app).ok


def stored_marks(app: Any, student_id: str) -> list[Any]:
    stream = journal_id("sght", "2026-2027", student_id)
    return [e for e in app.events.get(stream) if type(e).__name__ == "MarkRecorded"]


def test_queued_changes_are_saved_in_one_transaction(imported: Services) -> None:
    app = imported.journal
    with counted_saves(app) as saves:
        results = grouped(app, [lambda s=s: mark(app, s) for s in STUDENTS])
    assert all(not isinstance(r, BaseException) for r in results), results
    assert len(saves) == 1, saves
    assert_each_answered_and_stored(app, results, STUDENTS)


def test_a_change_that_breaks_a_rule_fails_alone(imported: Services) -> None:
    app = imported.journal
    calls = [lambda s=s: mark(app, s) for s in STUDENTS]
    calls[2] = lambda: mark(app, STUDENTS[2], value=7)  # not in the scale
    with counted_saves(app) as saves:
        results = grouped(app, calls)
    assert isinstance(results[2], InvalidMark)
    assert len(saves) == 1
    for i, student_id in enumerate(STUDENTS):
        assert len(stored_marks(app, student_id)) == (0 if i == 2 else 1)
    # The failed journal writes again from what is stored.
    assert mark(app, STUDENTS[2]).record.value == 5
    assert verify_store(app).ok


def test_a_reused_idempotency_key_fails_only_its_own_change(imported: Services) -> None:
    app = imported.journal
    first = mark(app, "s01", key="used")
    with counted_saves(app) as saves:
        results = grouped(
            app,
            [
                lambda: mark(app, "s02", key="fresh"),
                lambda: mark(app, "s03", key="used"),  # another request, a stored key
                lambda: mark(app, "s04"),
            ],
        )
    assert isinstance(results[1], KeyAlreadyUsed)
    assert not isinstance(results[0], BaseException)
    assert not isinstance(results[2], BaseException)
    assert len(saves) == 2  # rolled back once, then saved without it
    assert stored_marks(app, "s03") == []
    assert [len(stored_marks(app, s)) for s in ("s01", "s02", "s04")] == [1, 1, 1]
    assert first.position < min(results[0].position, results[2].position)
    assert verify_store(app).ok


def test_a_store_failure_fails_the_whole_group_and_leaves_nothing(imported: Services) -> None:
    app = imported.journal
    for student_id in STUDENTS:  # journals in the cache
        mark(app, student_id, value=4)
    head = app.recorder.max_notification_id()
    with counted_saves(app, fail_with=sqlite3.OperationalError("injected")) as saves:
        results = grouped(app, [lambda s=s: mark(app, s) for s in STUDENTS])
    assert len(saves) == 1
    assert all(isinstance(r, sqlite3.OperationalError) for r in results), results
    # Each waiting request raises its own copy of the failure.
    assert len({id(r) for r in results}) == len(STUDENTS)
    assert app.recorder.max_notification_id() == head
    # Reads show what is stored, and the next writes take the next versions.
    for student_id in STUDENTS:
        journal = app.read_journal(journal_id("sght", "2026-2027", student_id))
        assert [m.value for m in journal.marks.values()] == [4]
        assert mark(app, student_id, value=3).record.value == 3
        assert len(stored_marks(app, student_id)) == 2
    assert verify_store(app).ok


def test_a_group_checks_its_sessions_at_once_and_an_ended_one_fails_alone(
    imported: Services,
) -> None:
    """The sessions of a group's changes are looked up together (on PostgreSQL one query for
    all, not one per request); a change whose session ended is refused, nothing of it
    stored, and the others are saved."""
    app = imported.journal
    accounts = imported.accounts
    epoch = accounts.get("sght", "t1").token_epoch
    accounts.revoke("ended", imported.clock.now())
    guards = [SessionGuard("sght", "t1", jti, epoch) for jti in ("a", "b", "ended", "a")]
    stale = SessionGuard("sght", "t1", "c", epoch + 1)  # the password changed since
    states: list[Any] = []
    queries: list[str] = []  # statements that read the accounts
    original_state, original_lookup = accounts.session_state, imported.db.lookup

    class Recording:
        def __init__(self, cur: Any) -> None:
            self.cur = cur

        def execute(self, sql: str, *args: Any) -> Any:
            if "accounts" in sql:
                queries.append(sql)
            return self.cur.execute(sql, *args)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.cur, name)

    @contextmanager
    def lookup() -> Iterator[Any]:
        with original_lookup() as cur:
            yield Recording(cur)

    asked: list[str] = []  # on PostgreSQL: the queries the write units ran for the group
    original_unit = getattr(app.recorder, "unit", None)

    def unit(streams: Any, ask: Any = None) -> Any:
        if ask is not None:
            asked.append(ask[0])
        return original_unit(streams, ask) if ask is not None else original_unit(streams)

    app._accounts.session_state = lambda *a: states.append(a) or original_state(*a)
    app._accounts.db.lookup = lookup
    if original_unit is not None:
        app.recorder.unit = unit
    try:
        with counted_saves(app) as saves:
            results = grouped(
                app,
                [
                    lambda: mark(app, "s01", session=guards[0]),
                    lambda: mark(app, "s02", session=guards[1]),
                    lambda: mark(app, "s03", session=guards[2]),
                    lambda: mark(app, "s04", session=guards[3]),
                    lambda: mark(app, "s05", session=stale),
                    lambda: mark(app, "s06"),  # no session to check (a page's, checked before)
                ],
            )
    finally:
        del app._accounts.session_state, app._accounts.db.lookup
        if original_unit is not None:
            del app.recorder.unit
    assert isinstance(results[2], SessionEnded)
    assert isinstance(results[4], SessionEnded)
    for i in (0, 1, 3, 5):
        assert not isinstance(results[i], BaseException), results[i]
    assert [g.valid for g in guards] == [True, True, False, True]
    assert stale.valid is False
    assert len(saves) == 1
    assert stored_marks(app, "s03") == [] and stored_marks(app, "s05") == []
    assert [len(stored_marks(app, s)) for s in ("s01", "s02", "s04", "s06")] == [1, 1, 1, 1]
    if imported.db.dialect == "postgresql":
        # No lookup: one query, in the group's write unit (with its news, one round trip).
        assert (states, queries) == ([], [])
        assert len(asked) == 1 and "accounts" in asked[0]
    else:  # a local read each, one per session (the repeated one once)
        assert len(states) == len(queries) == 4
        assert asked == []
    # A checked session is not looked up again by a later change of the same request.
    states.clear()
    assert mark(app, "s01", value=4, session=guards[0]).record.value == 4
    assert states == []
    assert verify_store(app).ok


@pytest.mark.parametrize("size", [1, 3])
def test_writers_in_threads_lose_nothing_through_groups(imported: Services, size: int) -> None:
    """Many threads writing one group of journals: every answer is stored once."""
    app = imported.journal
    answers: list[Any] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        for i in range(6):
            w = mark(app, STUDENTS[(n * size + i) % len(STUDENTS)], value=2 + (n + i) % 4)
            with lock:
                answers.append(w)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 48
    stored = {m.mark_id for s in STUDENTS for m in stored_marks(app, s)}
    assert stored == {w.record.mark_id for w in answers}
    assert verify_store(app).ok


def test_a_journal_lock_is_handed_to_waiters_in_arrival_order() -> None:
    """The per-journal stripes are FIFO: under a burst on one group nobody waits for ever."""
    from adapters.service.core import FairLock

    lock = FairLock()
    order: list[int] = []
    threads = []
    lock.acquire()
    for n in range(6):

        def take(n: int = n) -> None:
            with lock:
                order.append(n)

        t = threading.Thread(target=take)
        t.start()
        threads.append(t)
        deadline = time.monotonic() + 10
        while len(lock._waiters) < n + 1:  # this one queued before the next starts
            assert time.monotonic() < deadline
            time.sleep(0.001)
    lock.release()
    for t in threads:
        t.join(timeout=10)
    assert order == list(range(6))
    assert not lock._held


def test_two_processes_writing_the_same_journals_never_conflict(
    imported: Services, store: dict[str, Any], tmp_path: Any, clock: Any
) -> None:
    """Two service instances (as two server processes) write the same three journals from
    eight threads: each write unit holds its journals' locks (PostgreSQL advisory locks; the
    SQLite write gate) from the read of their news to the commit, so the optimistic version
    check never fails and nothing is retried."""
    from eventsourcing.persistence import IntegrityError

    from tests.conftest import make_settings

    other = Services.build(make_settings(store, tmp_path), clock)
    apps = [imported.journal, other.journal]
    conflicts: list[BaseException] = []
    originals = [app.recorder.insert_events for app in apps]

    def counting(original: Any) -> Any:
        def insert_events(stored: Any, **kwargs: Any) -> Any:
            try:
                return original(stored, **kwargs)
            except IntegrityError as error:
                conflicts.append(error)
                raise

        return insert_events

    for app, original in zip(apps, originals, strict=True):
        app.recorder.insert_events = counting(original)
    answers: list[Any] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def writer(n: int) -> None:
        start.wait()
        for i in range(8):
            w = mark(apps[n % 2], STUDENTS[(n + i) % 3], value=2 + (n + i) % 4)
            with lock:
                answers.append(w)

    try:
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for app in apps:
            del app.recorder.insert_events
        other.close()
    assert conflicts == []
    assert len(answers) == 64
    stored = {m.mark_id for s in STUDENTS[:3] for m in stored_marks(imported.journal, s)}
    assert stored == {w.record.mark_id for w in answers}
    assert verify_store(imported.journal).ok


def test_changes_to_one_journal_share_a_group_in_arrival_order(imported: Services) -> None:
    """Requests no longer wait for each other's answer to write the same journal: queued
    together, they are run one after another and saved in one transaction."""
    app = imported.journal
    with counted_saves(app) as saves:
        results = grouped(app, [lambda v=v: mark(app, "s01", value=v) for v in (2, 3, 4, 5)])
    assert all(not isinstance(r, BaseException) for r in results), results
    assert len(saves) == 1
    # Stored in the order they came, each answered with its own position.
    assert [m.mark_id for m in stored_marks(app, "s01")] == [r.record.mark_id for r in results]
    assert [r.position for r in results] == sorted({r.position for r in results})
    journal = app.read_journal(journal_id("sght", "2026-2027", "s01"))
    assert sorted(m.value for m in journal.marks.values()) == [2, 3, 4, 5]
    assert verify_store(app).ok


def test_a_failing_change_keeps_what_earlier_changes_of_its_group_did(
    imported: Services,
) -> None:
    app = imported.journal
    mark(app, "s01", value=4)  # a stored journal, in the cache
    calls = [
        lambda: mark(app, "s01", value=5),
        lambda: mark(app, "s01", value=7),  # not in the scale
        lambda: mark(app, "s01", value=3),
        lambda: mark(app, "s07", value=5),  # a journal the group creates...
        lambda: mark(app, "s07", value=9),  # ...a failure after it...
        lambda: mark(app, "s07", value=2),  # ...and a change on what the first made
    ]
    with counted_saves(app) as saves:
        results = grouped(app, calls)
    assert isinstance(results[1], InvalidMark) and isinstance(results[4], InvalidMark)
    assert len(saves) == 1
    assert [m.value for m in stored_marks(app, "s01")] == [4, 5, 3]
    assert [m.value for m in stored_marks(app, "s07")] == [5, 2]
    for student_id, values in (("s01", [3, 4, 5]), ("s07", [2, 5])):
        journal = app.read_journal(journal_id("sght", "2026-2027", student_id))
        assert sorted(m.value for m in journal.marks.values()) == values
    # The journals write on from what is stored.
    assert mark(app, "s01", value=2).record.value == 2
    assert mark(app, "s07", value=4).record.value == 4
    assert verify_store(app).ok


def test_a_store_failure_undoes_a_group_that_wrote_one_journal_twice(
    imported: Services,
) -> None:
    app = imported.journal
    mark(app, "s01", value=4)
    head = app.recorder.max_notification_id()
    with counted_saves(app, fail_with=sqlite3.OperationalError("injected")):
        results = grouped(app, [lambda: mark(app, "s01", value=5), lambda: mark(app, "s01")])
    assert all(isinstance(r, sqlite3.OperationalError) for r in results), results
    assert app.recorder.max_notification_id() == head
    journal = app.read_journal(journal_id("sght", "2026-2027", "s01"))
    assert [m.value for m in journal.marks.values()] == [4]
    assert mark(app, "s01", value=3).record.value == 3
    assert [m.value for m in stored_marks(app, "s01")] == [4, 3]
    assert verify_store(app).ok


def oral_five(journal: Any, mark_id: str, year: Any, services: Services) -> None:
    """The domain command itself (no use case around it): a 5 for oral work in math."""
    journal.record_mark(
        mark_id=mark_id,
        subject_id="math",
        lesson_date=date(2026, 9, 2),
        work_kind="oral",
        value=5,
        rules=year.rules,
        actor=TEACHER,
        at=services.clock.now(),
    )


def test_a_change_that_fails_after_changing_its_journal_is_rebuilt(imported: Services) -> None:
    """A command that fails after its journal took an event: the journal is rebuilt from
    what is stored plus the group's earlier changes (one journal's changes keep no copy)."""
    app = imported.journal
    mark(app, "s01", value=4)
    year = app.year("sght", "2026-2027")

    def half_done() -> Any:
        def command(journal: Any) -> None:
            oral_five(journal, "half-done", year, imported)
            raise RuntimeError("after the event")

        return app.change_journal("sght", "2026-2027", "s01", TEACHER, command)

    calls = [lambda: mark(app, "s01", value=5), half_done, lambda: mark(app, "s01", value=3)]
    with counted_saves(app) as saves:
        results = grouped(app, calls)
    assert isinstance(results[1], RuntimeError)
    assert len(saves) == 1
    assert [m.value for m in stored_marks(app, "s01")] == [4, 5, 3]
    journal = app.read_journal(journal_id("sght", "2026-2027", "s01"))
    assert "half-done" not in journal.marks
    assert sorted(m.value for m in journal.marks.values()) == [3, 4, 5]
    assert mark(app, "s01", value=2).record.value == 2
    assert verify_store(app).ok


def test_a_change_of_several_journals_that_fails_midway_leaves_each_as_found(
    imported: Services,
) -> None:
    """A lesson's entries that fail after changing some journals (one failing item among
    several): each journal it changed is rebuilt from what is stored plus the group's earlier
    changes; a journal it never reached, opened by an earlier change of the group, stays as
    that change left it. No copies are kept ahead."""
    app = imported.journal
    mark(app, "s01", value=4)
    year = app.year("sght", "2026-2027")

    def entries() -> Any:
        def command(journals: dict[str, Any]) -> None:
            for student_id in ("s01", "s02"):
                oral_five(journals[student_id], f"half-{student_id}", year, imported)
            raise InvalidMark("the third item")

        return app.change_journals("sght", "2026-2027", ["s01", "s02", "s03"], TEACHER, command)

    calls = [
        lambda: mark(app, "s01", value=5),
        lambda: mark(app, "s03", value=2),  # s03 opened by this earlier change
        entries,
        lambda: mark(app, "s02", value=3),
    ]
    with counted_saves(app) as saves:
        results = grouped(app, calls)
    assert isinstance(results[2], InvalidMark)
    assert len(saves) == 1
    expected = {"s01": [4, 5], "s02": [3], "s03": [2]}
    for student_id, values in expected.items():
        assert [m.value for m in stored_marks(app, student_id)] == values
        journal = app.read_journal(journal_id("sght", "2026-2027", student_id))
        assert f"half-{student_id}" not in journal.marks
        assert sorted(m.value for m in journal.marks.values()) == sorted(values)
    assert mark(app, "s02", value=2).record.value == 2
    assert verify_store(app).ok
