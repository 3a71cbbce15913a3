"""A journal far past a hundred events still saves and reloads (no snapshot trap)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from api.bootstrap import Services
from domain.actors import Actor
from domain.journal import StudentJournal
from domain.rules import JournalRules
from tests.conftest import make_settings

TEACHER = Actor("t1", "teacher", "sght")
AT = datetime(2026, 9, 3, 5, tzinfo=UTC)


def test_a_journal_of_250_events_saves_and_reloads(services: Services, store, tmp_path) -> None:
    journal = StudentJournal.open(
        org_id="sght", year_id="2026-2027", student_id="s01", actor=TEACHER, at=AT
    )
    for i in range(250):
        journal.record_mark(
            mark_id=f"m{i}",
            subject_id="math",
            lesson_date=date(2026, 9, 1),
            work_kind="oral",
            value=2 + i % 4,
            rules=JournalRules(),
            actor=TEACHER,
            at=AT,
        )
        if i % 50 == 49:  # several saves, crossing any snapshot interval
            services.journal.save(journal)
    services.journal.save(journal)
    fresh = Services.build(make_settings(store, tmp_path))
    try:
        loaded = fresh.journal.read_journal(journal.id)
        assert loaded is not None and loaded.version == 251 and len(loaded.marks) == 250
    finally:
        fresh.close()
