"""Record locator: which stream holds a mark, absence, attestation result or lesson, so that
`/marks/{id}` and the like find it."""

from __future__ import annotations

from typing import Any

from adapters.sql import Cursor, insert_many, uuid_text
from domain.ids import journal_of_record
from domain.journal import StudentJournal, notice_absence_id, notice_days
from domain.lessons import SubjectPage


class RecordLocator:
    name: str = "record_locator"
    handles: tuple[type[Any], ...] = (
        StudentJournal.MarkRecorded,
        StudentJournal.AbsenceRecorded,
        StudentJournal.AbsenceNoticeFiled,
        StudentJournal.AttestationRecorded,
        SubjectPage.LessonRecorded,
    )

    def ddl(self) -> list[str]:
        return [
            """CREATE TABLE IF NOT EXISTS record_locator (
                record_id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                journal_id TEXT NOT NULL,
                position BIGINT NOT NULL
            )"""
        ]

    @staticmethod
    def records(event: Any) -> list[tuple[str, str]]:
        """(record id, kind) pairs an event creates that need a row: an id that names its
        own journal (domain/ids.py `journal_record_id`) is found without one."""
        if isinstance(event, StudentJournal.MarkRecorded):
            return _unless_named(event.mark_id, "mark", event.originator_id)
        if isinstance(event, StudentJournal.AbsenceRecorded):
            return _unless_named(event.absence_id, "absence", event.originator_id)
        if isinstance(event, StudentJournal.AttestationRecorded):
            return [(event.attestation_id, "attestation")]
        if isinstance(event, SubjectPage.LessonRecorded):
            return [(event.lesson_id, "lesson")]
        if isinstance(event, StudentJournal.AbsenceNoticeFiled):
            days = notice_days(event.from_date, event.to_date)
            return [(event.notice_id, "notice")] + [
                (notice_absence_id(event.notice_id, day), "absence") for day in days
            ]
        return []

    def apply(self, cur: Cursor, event: Any, position: int) -> None:
        self.apply_batch(cur, [(event, position)])

    def apply_batch(self, cur: Cursor, events: list[tuple[Any, int]]) -> None:
        """One statement for a batch's records (a rebuild or replay passes hundreds)."""
        rows = [
            (record_id, kind, uuid_text(event.originator_id), position)
            for event, position in events
            for record_id, kind in self.records(event)
        ]
        insert_many(
            cur,
            "record_locator",
            ("record_id", "kind", "journal_id", "position"),
            ("text", "text", "text", "bigint"),
            rows,
            "ON CONFLICT (record_id) DO NOTHING",
        )

    def reset(self, cur: Cursor) -> None:
        cur.execute("DELETE FROM record_locator")

    @staticmethod
    def find(cur: Cursor, record_id: str, kind: str) -> str | None:
        cur.execute(
            "SELECT journal_id FROM record_locator WHERE record_id = ? AND kind = ?",
            (record_id, kind),
        )
        row = cur.fetchone()
        return str(row[0]) if row else None


def _unless_named(record_id: str, kind: str, journal: Any) -> list[tuple[str, str]]:
    if journal_of_record(record_id, kind) == journal:
        return []
    return [(record_id, kind)]
