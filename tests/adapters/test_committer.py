"""The committer thread (adapters/service/core.py, `Committer`; ADR 17): calls submitted to it
run one after another on one thread until each asks to save; what they asked is saved by one
group commit, then each call goes on with its own answer. A call that fails fails alone; a
failure of the store fails its group and the thread goes on; writers in threads of their own
(other routes, the command line) share the journals with it. Both stores; `verify_store`
after each."""

from __future__ import annotations

import contextvars
import functools
import threading
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from adapters.integrity import verify_store
from adapters.service.core import LoopAnswer
from adapters.storage import STORE_BUSY
from api.bootstrap import Services
from domain.errors import InvalidMark
from tests.adapters.test_group_commit import (
    assert_each_answered_and_stored,
    counted_saves,
    stored_marks,
)
from tests.adapters.writing import record

STUDENTS = ["s01", "s02", "s03", "s04", "s05", "s06"]


def via_committer(app: Any, works: list[Callable[[], Any]], hold: bool = True) -> list[Any]:
    """Submit the calls together (behind the held commit lock, so that they queue), wait for
    every answer: results in order, an exception as the result."""
    results: list[Any] = [None] * len(works)
    answered = [threading.Event() for _ in works]

    def done(i: int) -> Callable[[Any, BaseException | None], None]:
        def settle(result: Any, error: BaseException | None) -> None:
            results[i] = error if error is not None else result
            answered[i].set()

        return settle

    lock = app._commit_lock if hold else threading.Lock()
    with lock:
        for i, work in enumerate(works):
            app.committer.submit(work, contextvars.copy_context(), done(i))
    for event in answered:
        assert event.wait(timeout=30), "a call was never answered"
    return results


def test_calls_submitted_together_share_their_transactions(imported: Services) -> None:
    app = imported.journal
    with counted_saves(app) as saves:
        results = via_committer(app, [lambda s=s: record(app, s) for s in STUDENTS])
    assert all(not isinstance(r, BaseException) for r in results), results
    # Those taken before the lock was let go make one group, all the others the next.
    assert 1 <= len(saves) <= 2, saves  # transactions (their sizes in events)
    assert_each_answered_and_stored(app, results, STUDENTS)


def test_what_fails_fails_alone(imported: Services) -> None:
    app = imported.journal
    works: list[Callable[[], Any]] = [lambda s=s: record(app, s) for s in STUDENTS]
    works[1] = lambda: record(app, STUDENTS[1], value=7)  # not in the scale: in the group
    works[3] = lambda: 1 / 0  # before any save
    results = via_committer(app, works)
    assert isinstance(results[1], InvalidMark)
    assert isinstance(results[3], ZeroDivisionError)
    for i, student_id in enumerate(STUDENTS):
        assert len(stored_marks(app, student_id)) == (0 if i in (1, 3) else 1)
    assert verify_store(app).ok


def test_a_store_failure_fails_its_group_and_the_thread_goes_on(imported: Services) -> None:
    app = imported.journal
    failure = (
        psycopg.OperationalError("connection lost")
        if imported.db.dialect == ("postgresql")
        else psycopg.OperationalError("database is locked")
    )
    with counted_saves(app, fail_with=failure):
        results = via_committer(app, [lambda s=s: record(app, s) for s in STUDENTS[:3]])
    assert all(isinstance(r, BaseException) for r in results), results
    assert all(not stored_marks(app, s) for s in STUDENTS[:3])
    # Nothing of them is left behind; the same journals are written again.
    again = via_committer(app, [lambda s=s: record(app, s, 4) for s in STUDENTS[:3]])
    assert [r.record.value for r in again] == [4, 4, 4]
    assert verify_store(app).ok


def test_calls_waiting_behind_a_failing_store_fail_with_it_at_once(imported: Services) -> None:
    """A group fails on the store (busy, unreachable) after waiting its busy time: the calls
    that came meanwhile fail with it, without a save of their own (each would wait the busy
    time again); a call submitted afterwards is saved as usual."""
    app = imported.journal
    entered, release = threading.Event(), threading.Event()
    saves: list[int] = []
    original = app.recorder.insert_events

    def insert_events(stored: Any, **kwargs: Any) -> Any:
        saves.append(len(stored))
        if len(saves) == 1:
            entered.set()
            assert release.wait(timeout=30)
            raise psycopg.OperationalError("the store went away")
        return original(stored, **kwargs)

    app.recorder.insert_events = insert_events
    try:
        results: dict[str, Any] = {}
        answered = {s: threading.Event() for s in STUDENTS[:4]}

        def submit(student_id: str) -> None:
            def settle(result: Any, error: BaseException | None) -> None:
                results[student_id] = error if error is not None else result
                answered[student_id].set()

            work = functools.partial(record, app, student_id)
            app.committer.submit(work, contextvars.copy_context(), settle)

        submit("s01")
        assert entered.wait(timeout=30)
        submit("s02")  # both wait while the first group fails
        submit("s03")
        release.set()
        for s in ("s01", "s02", "s03"):
            assert answered[s].wait(timeout=30), s
            assert isinstance(results[s], STORE_BUSY), results[s]  # answered 503 store-busy
        assert len(saves) == 1  # the waiting calls were not tried on the failing store
        submit("s04")
        assert answered["s04"].wait(timeout=30)
        assert results["s04"].record.value == 5
    finally:
        del app.recorder.insert_events
    assert [bool(stored_marks(app, s)) for s in STUDENTS[:4]] == [False, False, False, True]
    assert verify_store(app).ok


def test_a_groups_answers_wake_their_event_loop_once(imported: Services) -> None:
    """Calls awaited on an event loop (`LoopAnswer`, as the API submits them) are answered
    together: one hand-over to the loop for the group, not one per call."""
    app = imported.journal
    handed: list[int] = []
    results: dict[str, Any] = {}
    answered = threading.Event()

    class Loop:
        def call_soon_threadsafe(self, callback: Any, *args: Any) -> None:
            handed.append(len(args[0]))
            callback(*args)

    def settle(student_id: str) -> Callable[[Any, BaseException | None], None]:
        def record_answer(result: Any, error: BaseException | None) -> None:
            results[student_id] = error or result
            if len(results) == len(STUDENTS):
                answered.set()

        return record_answer

    loop = Loop()
    with counted_saves(app) as saves:
        with app._commit_lock:  # submitted together: one group, or the first and the rest
            for s in STUDENTS:
                work = functools.partial(record, app, s)
                app.committer.submit(work, contextvars.copy_context(), LoopAnswer(loop, settle(s)))
        assert answered.wait(timeout=30)
    assert [results[s].student_id for s in STUDENTS] == STUDENTS
    assert sum(handed) == len(STUDENTS)
    assert len(handed) == len(saves) <= 2, (handed, saves)  # one hand-over per group
    assert verify_store(app).ok


def test_a_call_that_saves_twice_goes_on_after_its_first_save(imported: Services) -> None:
    app = imported.journal

    def two_marks() -> tuple[Any, Any]:
        return record(app, "s01", 5), record(app, "s01", 4)

    [(first, second)] = via_committer(app, [two_marks], hold=False)
    assert second.position > first.position
    assert [m.value for m in stored_marks(app, "s01") if hasattr(m, "value")] == [5, 4]
    assert verify_store(app).ok


def test_threads_and_the_committer_write_the_same_journals(imported: Services) -> None:
    app = imported.journal
    errors: list[BaseException] = []

    def in_a_thread(student_id: str) -> None:
        try:
            for _ in range(5):
                record(app, student_id, 3)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=in_a_thread, args=(s,)) for s in STUDENTS[:3]]
    for t in threads:
        t.start()
    results = via_committer(
        app, [lambda s=s: record(app, s, 5) for s in STUDENTS[:3] for _ in range(5)], hold=False
    )
    for t in threads:
        t.join(timeout=60)
    assert not errors and all(not isinstance(r, BaseException) for r in results), (errors, results)
    for s in STUDENTS[:3]:
        assert sorted(m.value for m in stored_marks(app, s)) == [3] * 5 + [5] * 5
    assert verify_store(app).ok


@pytest.mark.parametrize("calls", [1, 3])
def test_close_stops_the_thread(imported: Services, calls: int) -> None:
    app = imported.journal
    via_committer(app, [lambda s=s: record(app, s) for s in STUDENTS[:calls]], hold=False)
    thread = app.committer._thread
    assert thread is not None and thread.is_alive()
    app.committer.stop()
    assert not thread.is_alive()
