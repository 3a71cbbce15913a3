"""Journal facts: the bitemporal rows every report reads (gradebook, attendance, summary
sheet, monitoring).

Each row version carries `valid_from`/`valid_to` in record time (the event's timestamp, UTC,
ISO text of one fixed width so text order is time order). A correction closes the current
row and opens the next one, so "as of T" is `valid_from <= T AND (valid_to IS NULL OR
valid_to > T)` and "now" is `valid_to IS NULL`. Every row carries its organisation.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from typing import Any

from adapters.sql import Cursor, empty_table, insert_rows, uuid_text
from domain.journal import StudentJournal, debt_status, notice_absence_id, notice_days
from domain.lessons import SubjectPage
from domain.reference import AcademicYear
from projections.base import index_statements

J = StudentJournal
P = SubjectPage


@functools.lru_cache(maxsize=4096)
def stamp(moment: datetime) -> str:
    """Record time as sortable text: UTC, microseconds, fixed width. Cached: every projection
    stamps the same event's time (a rebuild would format each twice)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


VALID_NOW = "valid_to IS NULL"
VALID_AT = "valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)"

_MARK_COLS = (
    "org_id, year_id, student_id, subject_id, mark_id, seq, lesson_date, lesson_no, "
    "work_kind, weight, value, status, recorded_by, valid_from, valid_to"
)
_ABS_COLS = (
    "org_id, year_id, student_id, subject_id, absence_id, seq, lesson_date, lesson_no, "
    "code, reason, status, source, present_at, recorded_by, valid_from, valid_to"
)
_ATT_COLS = (
    "org_id, year_id, student_id, subject_id, period_id, attestation_id, seq, result, "
    "debt, recorded_by, valid_from, valid_to"
)
_LES_COLS = (
    "org_id, year_id, group_id, subject_id, lesson_id, seq, lesson_date, lesson_no, "
    "topic, homework, substitute_id, status, recorded_by, valid_from, valid_to"
)
_MEM_COLS = "org_id, year_id, group_id, student_id, seq, from_date, to_date, valid_from, valid_to"


_STREAM_COLS = "stream_id, org_id, year_id, owner_id, subject_id"
# The record id column of each versioned table.
_KEYS = {
    "rm_marks": "mark_id",
    "rm_absences": "absence_id",
    "rm_attestations": "attestation_id",
    "rm_lessons": "lesson_id",
}
_COLUMNS = {
    "rm_streams": _STREAM_COLS,
    "rm_marks": _MARK_COLS,
    "rm_absences": _ABS_COLS,
    "rm_attestations": _ATT_COLS,
    "rm_lessons": _LES_COLS,
}


def _placeholders(cols: str) -> str:
    return ", ".join("?" for _ in cols.split(","))


class JournalFacts:
    name: str = "journal_facts"
    handles: tuple[type[Any], ...] = (
        J.Opened,
        J.MarkRecorded,
        J.MarkCorrected,
        J.MarkCancelled,
        J.AbsenceRecorded,
        J.AbsenceReasonSet,
        J.AbsenceWithdrawn,
        J.AbsenceNoticeFiled,
        J.AttestationRecorded,
        J.AttestationCorrected,
        J.DiaryAcknowledged,
        P.Opened,
        P.LessonRecorded,
        P.LessonChanged,
        P.SubstituteAssigned,
        P.LessonCancelled,
        AcademicYear.Opened,
        AcademicYear.MembershipChanged,
    )

    def __init__(self) -> None:
        # Stream -> (org, year, owner, subject): written once by the stream's first event and
        # never changed, so it can be cached across batches (reset() forgets it).
        self._owners: dict[str, tuple[str, str, str | None, str | None]] = {}
        self._pending: dict[str, list[dict[str, Any]]] = {}
        # (table, record id) -> the buffered row that is still its current version.
        self._open_rows: dict[tuple[str, str], dict[str, Any]] = {}

    def ddl(self) -> list[str]:
        text = "TEXT"
        integer = "INTEGER"
        types = {"seq": integer, "lesson_no": integer, "weight": integer, "value": integer}

        def columns(cols: str) -> str:
            return ", ".join(f"{c.strip()} {types.get(c.strip(), text)}" for c in cols.split(","))

        return [
            """CREATE TABLE IF NOT EXISTS rm_streams (
                stream_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, year_id TEXT NOT NULL,
                owner_id TEXT, subject_id TEXT)""",
            f"CREATE TABLE IF NOT EXISTS rm_marks ({columns(_MARK_COLS)}, "
            "PRIMARY KEY (mark_id, seq))",
            "CREATE INDEX IF NOT EXISTS rm_marks_by_page ON rm_marks "
            "(org_id, year_id, subject_id, student_id)",
            f"CREATE TABLE IF NOT EXISTS rm_absences ({columns(_ABS_COLS)}, "
            "PRIMARY KEY (absence_id, seq))",
            "CREATE INDEX IF NOT EXISTS rm_absences_by_student ON rm_absences "
            "(org_id, year_id, student_id, lesson_date)",
            f"CREATE TABLE IF NOT EXISTS rm_attestations ({columns(_ATT_COLS)}, "
            "PRIMARY KEY (attestation_id, seq))",
            "CREATE INDEX IF NOT EXISTS rm_attestations_by_student ON rm_attestations "
            "(org_id, year_id, student_id)",
            f"CREATE TABLE IF NOT EXISTS rm_lessons ({columns(_LES_COLS)}, "
            "PRIMARY KEY (lesson_id, seq))",
            "CREATE INDEX IF NOT EXISTS rm_lessons_by_page ON rm_lessons "
            "(org_id, year_id, group_id, subject_id, lesson_date)",
            f"CREATE TABLE IF NOT EXISTS rm_memberships ({columns(_MEM_COLS)}, "
            "PRIMARY KEY (org_id, year_id, group_id, student_id, seq))",
            """CREATE TABLE IF NOT EXISTS rm_acknowledgements (
                org_id TEXT NOT NULL, year_id TEXT NOT NULL, student_id TEXT NOT NULL,
                parent_id TEXT NOT NULL, acknowledged_at TEXT NOT NULL,
                position BIGINT PRIMARY KEY)""",
        ]

    def reset(self, cur: Cursor) -> None:
        self._owners.clear()
        self._pending = {}
        self._open_rows = {}
        for table in self.tables():
            empty_table(cur, table)

    def tables(self) -> list[str]:
        return [*_COLUMNS, "rm_memberships", "rm_acknowledgements"]

    def secondary_indexes(self) -> dict[str, str]:
        return index_statements(self.ddl())

    # --- applying ---------------------------------------------------------------------------

    def apply_batch(self, cur: Cursor, events: list[tuple[Any, int]]) -> None:
        """Apply a batch: new rows are buffered and written with one executemany per table;
        a change to an earlier row first flushes the buffer, then reads the row back."""
        # Nothing survives a batch that failed and was rolled back.
        self._pending = {}
        self._open_rows = {}
        for event, position in events:
            handler = _HANDLERS.get(type(event))
            if handler is not None:
                handler(self, cur, event, position)
        self._flush(cur)

    def apply(self, cur: Cursor, event: Any, position: int) -> None:
        self.apply_batch(cur, [(event, position)])

    def _flush(self, cur: Cursor) -> None:
        for table, rows in self._pending.items():
            names = [c.strip() for c in _COLUMNS[table].split(",")]
            insert_rows(cur, table, names, [[row[n] for n in names] for row in rows])
        self._pending = {}
        self._open_rows = {}

    def _stream(self, cur: Cursor, event: Any) -> tuple[str, str, str | None, str | None]:
        stream = uuid_text(event.originator_id)
        owner = self._owners.get(stream)
        if owner is None:  # not opened in this batch (that would be cached): read it back
            cur.execute(
                "SELECT org_id, year_id, owner_id, subject_id FROM rm_streams WHERE stream_id = ?",
                (stream,),
            )
            row = cur.fetchone()
            owner = (row[0], row[1], row[2], row[3])
            self._owners[stream] = owner
        return owner

    def _opened(self, cur: Cursor, e: Any, position: int) -> None:
        owner = getattr(e, "student_id", None) or getattr(e, "group_id", None)
        stream = str(e.originator_id)
        self._owners[stream] = (e.org_id, e.year_id, owner, getattr(e, "subject_id", None))
        self._insert(
            cur,
            "rm_streams",
            {
                "stream_id": stream,
                "org_id": e.org_id,
                "year_id": e.year_id,
                "owner_id": owner,
                "subject_id": getattr(e, "subject_id", None),
            },
        )

    def _next_version(
        self, cur: Cursor, table: str, key: str, record_id: str, at: str
    ) -> dict[str, Any]:
        """Close the current row of a record and return it, to copy into the next version.

        A row still in this batch's buffer is closed there; otherwise it is read back."""
        pending = self._open_rows.get((table, record_id))
        if pending is not None:
            pending["valid_to"] = at
            current = dict(pending)
        else:
            cur.execute(f"SELECT * FROM {table} WHERE {key} = ? AND valid_to IS NULL", (record_id,))
            row = cur.fetchone()
            current = dict(zip([c.strip() for c in _COLUMNS[table].split(",")], row, strict=True))
            cur.execute(
                f"UPDATE {table} SET valid_to = ? WHERE {key} = ? AND seq = ?",
                (at, record_id, current["seq"]),
            )
        current["seq"] = int(current["seq"]) + 1
        current["valid_from"], current["valid_to"] = at, None
        return current

    def _insert(self, cur: Cursor, table: str, values: dict[str, Any]) -> None:
        self._pending.setdefault(table, []).append(values)
        key = _KEYS.get(table)
        if key is not None:
            self._open_rows[(table, values[key])] = values

    def _first_version(self, cur: Cursor, table: str, e: Any, fields: dict[str, Any]) -> None:
        """A record's first row: its stream's organisation, year and owner (the student, or the
        group of a subject page), version 0, recorded by the event's author, valid from its
        time; `fields` are the record's own."""
        org, year, owner, subject = self._stream(cur, e)
        owner_column = "group_id" if table == "rm_lessons" else "student_id"
        row: dict[str, Any] = {
            "org_id": org,
            "year_id": year,
            owner_column: owner,
            "subject_id": subject,
        }
        row.update(fields)
        row.update(seq=0, recorded_by=e.actor_id, valid_from=stamp(e.timestamp), valid_to=None)
        self._insert(cur, table, row)

    def _mark_recorded(self, cur: Cursor, e: Any, position: int) -> None:
        self._first_version(
            cur,
            "rm_marks",
            e,
            {
                "subject_id": e.subject_id,
                "mark_id": e.mark_id,
                "lesson_date": e.lesson_date.isoformat(),
                "lesson_no": e.lesson_no,
                "work_kind": e.work_kind,
                "weight": e.weight,
                "value": e.value,
                "status": "active",
            },
        )

    def _mark_changed(self, cur: Cursor, e: Any, position: int) -> None:
        row = self._next_version(cur, "rm_marks", "mark_id", e.mark_id, stamp(e.timestamp))
        if isinstance(e, J.MarkCorrected):
            row["value"] = e.value
        else:
            row["status"] = "cancelled"
        self._insert(cur, "rm_marks", row)

    def _absence_recorded(self, cur: Cursor, e: Any, position: int) -> None:
        self._first_version(
            cur,
            "rm_absences",
            e,
            {
                "subject_id": e.subject_id,
                "absence_id": e.absence_id,
                "lesson_date": e.lesson_date.isoformat(),
                "lesson_no": e.lesson_no,
                "code": e.code,
                "reason": e.reason,
                "status": "active",
                "source": e.source,
                "present_at": "[]",
            },
        )

    def _notice_filed(self, cur: Cursor, e: Any, position: int) -> None:
        for day in notice_days(e.from_date, e.to_date):
            self._first_version(
                cur,
                "rm_absences",
                e,
                {
                    "subject_id": None,
                    "absence_id": notice_absence_id(e.notice_id, day),
                    "lesson_date": day.isoformat(),
                    "lesson_no": None,
                    "code": "НУ",
                    "reason": e.reason,
                    "status": "active",
                    "source": "parent_notice",
                    "present_at": "[]",
                },
            )

    def _absence_changed(self, cur: Cursor, e: Any, position: int) -> None:
        row = self._next_version(cur, "rm_absences", "absence_id", e.absence_id, stamp(e.timestamp))
        if isinstance(e, J.AbsenceReasonSet):
            row["code"], row["reason"] = e.code, e.reason
        elif row["subject_id"] is None and e.subject_id is not None:
            present = json.loads(row["present_at"])
            present.append([e.subject_id, e.lesson_no])
            row["present_at"] = json.dumps(present, ensure_ascii=False)
        else:
            row["status"] = "withdrawn"
        self._insert(cur, "rm_absences", row)

    def _attestation_recorded(self, cur: Cursor, e: Any, position: int) -> None:
        self._first_version(
            cur,
            "rm_attestations",
            e,
            {
                "subject_id": e.subject_id,
                "period_id": e.period_id,
                "attestation_id": e.attestation_id,
                "result": e.result,
                "debt": debt_status(e.result, False),
            },
        )

    def _attestation_corrected(self, cur: Cursor, e: Any, position: int) -> None:
        row = self._next_version(
            cur, "rm_attestations", "attestation_id", e.attestation_id, stamp(e.timestamp)
        )
        row["result"] = e.result
        row["debt"] = debt_status(e.result, row["debt"] is not None)
        self._insert(cur, "rm_attestations", row)

    def _acknowledged(self, cur: Cursor, e: Any, position: int) -> None:
        org, year, student, _ = self._stream(cur, e)
        cur.execute(
            "INSERT INTO rm_acknowledgements (org_id, year_id, student_id, parent_id, "
            "acknowledged_at, position) VALUES (?, ?, ?, ?, ?, ?)",
            (org, year, student, e.actor_id, stamp(e.timestamp), position),
        )

    def _lesson_recorded(self, cur: Cursor, e: Any, position: int) -> None:
        self._first_version(
            cur,
            "rm_lessons",
            e,
            {
                "lesson_id": e.lesson_id,
                "lesson_date": e.lesson_date.isoformat(),
                "lesson_no": e.lesson_no,
                "topic": e.topic,
                "homework": e.homework,
                "substitute_id": e.substitute_id,
                "status": "active",
            },
        )

    def _lesson_changed(self, cur: Cursor, e: Any, position: int) -> None:
        row = self._next_version(cur, "rm_lessons", "lesson_id", e.lesson_id, stamp(e.timestamp))
        if isinstance(e, P.LessonChanged):
            row["topic"], row["homework"] = e.after["topic"], e.after["homework"]
        elif isinstance(e, P.SubstituteAssigned):
            row["substitute_id"] = e.teacher_id
        else:
            row["status"] = "cancelled"
        self._insert(cur, "rm_lessons", row)

    def _membership_changed(self, cur: Cursor, e: Any, position: int) -> None:
        org, year, _, _ = self._stream(cur, e)
        at = stamp(e.timestamp)
        key = (org, year, e.group_id, e.student_id)
        cur.execute(
            "SELECT MAX(seq) FROM rm_memberships WHERE org_id = ? AND year_id = ? "
            "AND group_id = ? AND student_id = ?",
            key,
        )
        last = cur.fetchone()[0]
        if last is not None:
            cur.execute(
                "UPDATE rm_memberships SET valid_to = ? WHERE org_id = ? AND year_id = ? "
                "AND group_id = ? AND student_id = ? AND valid_to IS NULL",
                (at, *key),
            )
        if e.after is not None:
            cur.execute(
                f"INSERT INTO rm_memberships ({_MEM_COLS}) VALUES ({_placeholders(_MEM_COLS)})",
                (
                    *key,
                    0 if last is None else int(last) + 1,
                    e.after["from"],
                    e.after["to"],
                    at,
                    None,
                ),
            )


_HANDLERS: dict[type[Any], Any] = {
    J.Opened: JournalFacts._opened,
    P.Opened: JournalFacts._opened,
    AcademicYear.Opened: JournalFacts._opened,
    J.MarkRecorded: JournalFacts._mark_recorded,
    J.MarkCorrected: JournalFacts._mark_changed,
    J.MarkCancelled: JournalFacts._mark_changed,
    J.AbsenceRecorded: JournalFacts._absence_recorded,
    J.AbsenceNoticeFiled: JournalFacts._notice_filed,
    J.AbsenceReasonSet: JournalFacts._absence_changed,
    J.AbsenceWithdrawn: JournalFacts._absence_changed,
    J.AttestationRecorded: JournalFacts._attestation_recorded,
    J.AttestationCorrected: JournalFacts._attestation_corrected,
    J.DiaryAcknowledged: JournalFacts._acknowledged,
    P.LessonRecorded: JournalFacts._lesson_recorded,
    P.LessonChanged: JournalFacts._lesson_changed,
    P.SubstituteAssigned: JournalFacts._lesson_changed,
    P.LessonCancelled: JournalFacts._lesson_changed,
    AcademicYear.MembershipChanged: JournalFacts._membership_changed,
}


def year_streams(cur: Cursor, org_id: str, year_id: str) -> list[str]:
    """Every stream of an academic year: the year itself, its journals and subject pages."""
    cur.execute(
        "SELECT stream_id FROM rm_streams WHERE org_id = ? AND year_id = ? ORDER BY stream_id",
        (org_id, year_id),
    )
    return [str(r[0]) for r in cur.fetchall()]
