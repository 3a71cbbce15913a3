"""The pull runner: exactly once, resumable, rebuildable, on both stores."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from api.bootstrap import Services
from tests.adapters.writing import TEACHER, record


def locator_rows(services: Services) -> list[tuple[str, str, str, int]]:
    with services.db.read() as cur:
        cur.execute(
            "SELECT record_id, kind, journal_id, position FROM record_locator ORDER BY position"
        )
        return [tuple(r) for r in cur.fetchall()]


def test_locator_catches_up_and_rebuilds_to_the_same_rows(
    imported: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = imported.journal
    # Ids of the older form (bare UUIDs) have locator rows; new ones name their journal.
    monkeypatch.setattr(app, "new_record_id", lambda *_: str(uuid.uuid4()))
    for i in range(5):
        record(app, f"s0{i + 1}")
        app.record_absence(
            TEACHER,
            student_id=f"s0{i + 1}",
            subject_id="math",
            lesson_date=date(2026, 9, 1),
            code="Н",
        )
    rows = locator_rows(imported)
    assert len(rows) == 10
    assert app.indexes.position("record_locator") == rows[-1][3]
    assert app.indexes.catch_up("record_locator") == 0  # nothing new: not repeated
    app.indexes.catch_up()
    assert app.indexes.catch_up() == 0
    app.indexes.batch_size = 3  # several batches, each its own transaction
    assert app.indexes.rebuild("record_locator") == 10
    assert locator_rows(imported) == rows
    assert app.indexes.position("record_locator") == rows[-1][3]


def test_failed_batch_leaves_rows_and_position_untouched(imported: Services) -> None:
    app = imported.journal
    record(app, "s01")
    before_rows, before_pos = locator_rows(imported), app.indexes.position("record_locator")
    with imported.db.transaction() as cur:  # simulate a crash: rewind and break the view
        cur.execute("UPDATE projection_positions SET position = 0 WHERE name = 'record_locator'")
    original = app.locator.apply_batch

    def crash_after_writing(cur, events):
        original(cur, events)  # the batch's rows are written, then the process dies
        raise RuntimeError("killed mid-batch")

    app.locator.apply_batch = crash_after_writing  # type: ignore[method-assign]
    try:
        with pytest.raises(RuntimeError, match="killed mid-batch"):
            app.indexes.run_batch("record_locator")
        assert app.indexes.position("record_locator") == 0
        assert locator_rows(imported) == before_rows
    finally:
        app.locator.apply_batch = original  # type: ignore[method-assign]
    with imported.db.transaction() as cur:
        cur.execute("DELETE FROM record_locator")
    app.indexes.catch_up()
    assert locator_rows(imported) == before_rows
    assert app.indexes.position("record_locator") == before_pos


def _mark(app: Any, student: str, value: int = 5) -> int:
    return int(record(app, student, value).position)


def test_a_projection_that_cannot_process_an_event_says_so_and_the_others_go_on(
    imported: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failing event is named in the status (health) and the log; the other read model
    keeps following; once the cause is gone the error clears."""
    from domain.journal import StudentJournal
    from projections import facts as facts_module

    app = imported.journal
    runner = app.read_models
    runner.catch_up()
    position = _mark(app, "s01")
    original = facts_module._HANDLERS[StudentJournal.MarkRecorded]

    def broken(*args: Any) -> None:
        raise ValueError("cannot process")

    monkeypatch.setitem(facts_module._HANDLERS, StudentJournal.MarkRecorded, broken)
    runner.catch_up()
    status = {s["name"]: s for s in runner.status()}
    assert status["journal_facts"]["error_position"] == position
    assert "cannot process" in str(status["journal_facts"]["error"])
    assert status["journal_facts"]["position"] < position  # not skipped: it waits
    assert status["audit"]["position"] >= position and status["audit"]["error"] is None
    monkeypatch.setitem(facts_module._HANDLERS, StudentJournal.MarkRecorded, original)
    runner.catch_up()
    status = {s["name"]: s for s in runner.status()}
    assert status["journal_facts"]["position"] >= position
    assert status["journal_facts"]["error"] is None


def test_a_failed_rebuild_leaves_the_read_model_as_it_was(
    imported: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from domain.journal import StudentJournal
    from projections import facts as facts_module

    app = imported.journal
    for student in ("s01", "s02", "s03"):
        _mark(app, student)
    app.read_models.catch_up()

    def rows() -> list[Any]:
        with imported.db.read() as cur:
            cur.execute("SELECT COUNT(*) FROM audit_trail")
            return [tuple(r) for r in cur.fetchall()]

    before, position = rows(), app.read_models.position("audit")
    assert before[0][0] > 0

    def broken(*args: Any) -> None:
        raise ValueError("cannot process")

    monkeypatch.setitem(facts_module._HANDLERS, StudentJournal.MarkRecorded, broken)
    with pytest.raises(ValueError):
        app.read_models.rebuild()
    assert rows() == before
    assert app.read_models.position("audit") == position
