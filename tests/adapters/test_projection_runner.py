"""The pull runner: exactly once, resumable, rebuildable, on both stores."""

from __future__ import annotations

from datetime import date

import pytest

from api.bootstrap import Services
from domain.actors import Actor

TEACHER = Actor("t1", "teacher", "sght", frozenset({"teacher"}))


def locator_rows(services: Services) -> list[tuple[str, str, str, int]]:
    with services.db.read() as cur:
        cur.execute(
            "SELECT record_id, kind, journal_id, position FROM record_locator ORDER BY position"
        )
        return [tuple(r) for r in cur.fetchall()]


def test_locator_catches_up_and_rebuilds_to_the_same_rows(imported: Services) -> None:
    app = imported.journal
    for i in range(5):
        app.record_mark(
            TEACHER,
            student_id=f"s0{i + 1}",
            subject_id="math",
            lesson_date=date(2026, 9, 2),
            work_kind="oral",
            value=5,
        )
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
    app.record_mark(
        TEACHER,
        student_id="s01",
        subject_id="math",
        lesson_date=date(2026, 9, 2),
        work_kind="oral",
        value=5,
    )
    before_rows, before_pos = locator_rows(imported), app.indexes.position("record_locator")
    with imported.db.transaction() as cur:  # simulate a crash: rewind and break the view
        cur.execute("UPDATE projection_positions SET position = 0 WHERE name = 'record_locator'")
    original = app.locator.apply
    calls = {"n": 0}

    def crash_on_second(cur, event, position):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("killed mid-batch")
        original(cur, event, position)

    app.locator.apply = crash_on_second  # type: ignore[method-assign]
    try:
        with pytest.raises(RuntimeError, match="killed mid-batch"):
            app.indexes.run_batch("record_locator")
        assert app.indexes.position("record_locator") == 0
        assert locator_rows(imported) == before_rows
    finally:
        app.locator.apply = original  # type: ignore[method-assign]
    with imported.db.transaction() as cur:
        cur.execute("DELETE FROM record_locator")
    app.indexes.catch_up()
    assert locator_rows(imported) == before_rows
    assert app.indexes.position("record_locator") == before_pos
