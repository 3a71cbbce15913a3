"""Several threads write to one student's journal at once: no acknowledged mark is lost."""

from __future__ import annotations

import threading
from datetime import date

from api.bootstrap import Services
from domain.actors import Actor
from domain.ids import journal_id

TEACHER = Actor("t1", "teacher", "sght", frozenset({"teacher"}))


def test_concurrent_writers_to_one_journal_lose_nothing(imported: Services) -> None:
    app = imported.journal
    acknowledged: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def writer(n: int) -> None:
        start.wait()
        for i in range(8):
            try:
                w = app.record_mark(
                    TEACHER,
                    student_id="s01",
                    subject_id="math",
                    lesson_date=date(2026, 9, 1 + (i % 2)),
                    work_kind="oral",
                    value=2 + (n + i) % 4,
                )
            except BaseException as e:
                with lock:
                    failures.append(e)
            else:
                with lock:
                    acknowledged.append(w.record.mark_id)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not failures, failures
    assert len(acknowledged) == 32
    # A fresh read from the store, not the cache.
    events = list(app.events.get(journal_id("sght", "2026-2027", "s01")))
    stored = {e.mark_id for e in events if hasattr(e, "mark_id")}
    assert set(acknowledged) <= stored
    assert len(stored) == 32


def test_two_processes_worth_of_writers_retry_on_conflict(
    imported: Services, store, tmp_path, clock
) -> None:
    """Two service instances (as two server processes) share one store and one journal."""
    from tests.conftest import make_settings

    other = Services.build(make_settings(store, tmp_path), clock)
    try:
        apps = [imported.journal, other.journal]
        acknowledged: list[str] = []
        failures: list[BaseException] = []
        lock = threading.Lock()
        start = threading.Barrier(4)

        def writer(n: int) -> None:
            start.wait()
            for _ in range(6):
                try:
                    w = apps[n % 2].record_mark(
                        TEACHER,
                        student_id="s02",
                        subject_id="math",
                        lesson_date=date(2026, 9, 2),
                        work_kind="test",
                        value=3,
                    )
                except BaseException as e:
                    with lock:
                        failures.append(e)
                else:
                    with lock:
                        acknowledged.append(w.record.mark_id)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not failures, failures
        journal = other.journal.repository.get(journal_id("sght", "2026-2027", "s02"))
        assert set(journal.marks) == set(acknowledged)
        assert len(acknowledged) == 24
    finally:
        other.close()


def test_a_lesson_saved_after_another_process_wrote_catches_up_without_conflict(
    imported: Services, store, tmp_path, clock, monkeypatch
) -> None:
    """`POST /entries` brings every cached journal up to date in one query before the save:
    a journal another process wrote to meanwhile is not a conflict (no eviction, no retry)."""
    from adapters.service.entries import MarkEntry
    from tests.conftest import make_settings

    other = Services.build(make_settings(store, tmp_path), clock)
    try:
        here = imported.journal
        mark = dict(subject_id="math", lesson_date=date(2026, 9, 2), work_kind="oral", value=4)
        here.record_mark(TEACHER, student_id="s01", **mark)  # cached here
        other.journal.record_mark(TEACHER, student_id="s01", **mark)  # written elsewhere
        evicted: list[object] = []
        monkeypatch.setattr(here, "_evict", lambda aggregate_id: evicted.append(aggregate_id))
        written = here.record_entries(
            TEACHER,
            group_id="g1",
            subject_id="math",
            lesson_date=date(2026, 9, 2),
            lesson_no=None,
            marks=[MarkEntry("s01", 5, "oral"), MarkEntry("s02", 3, "oral")],
            absences=[],
        )
        assert evicted == []
        assert len(written.marks) == 2
        journal = other.journal.repository.get(journal_id("sght", "2026-2027", "s01"))
        assert sorted(m.value for m in journal.marks.values()) == [4, 4, 5]
    finally:
        other.close()
