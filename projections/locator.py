"""Record locator: which journal holds a mark or an absence, so `/marks/{id}` finds it."""

from __future__ import annotations

from typing import Any

from adapters.sql import Cursor
from domain.journal import StudentJournal


class RecordLocator:
    name: str = "record_locator"
    handles: tuple[type[Any], ...] = (StudentJournal.MarkRecorded, StudentJournal.AbsenceRecorded)

    def ddl(self) -> list[str]:
        return [
            """CREATE TABLE IF NOT EXISTS record_locator (
                record_id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                journal_id TEXT NOT NULL,
                position BIGINT NOT NULL
            )"""
        ]

    def apply(self, cur: Cursor, event: Any, position: int) -> None:
        if isinstance(event, StudentJournal.MarkRecorded):
            record_id, kind = event.mark_id, "mark"
        else:
            record_id, kind = event.absence_id, "absence"
        cur.execute(
            "INSERT INTO record_locator (record_id, kind, journal_id, position) "
            "VALUES (?, ?, ?, ?)",
            (record_id, kind, str(event.originator_id), position),
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
