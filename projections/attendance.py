"""Attendance report (API.md `GET /api/v1/attendance`) and unexplained absences (R-ABS-5)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from adapters.sql import Cursor
from projections.queries import absences_in_stays, marks, members, notice_lessons, validity

CODES = ("Н", "НУ", "НН", "Б")
SOURCES = ("teacher", "curator", "parent_notice")


@dataclass
class AttendanceRow:
    student_id: str
    absent_lessons: int = 0
    by_code: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CODES, 0))
    by_source: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0))


@dataclass
class Attendance:
    rows: list[AttendanceRow]
    unexplained: list[dict[str, Any]]


def attendance(
    cur: Cursor,
    *,
    org_id: str,
    year_id: str,
    group_id: str,
    from_date: date,
    to_date: date,
    today: date,
    unexplained_days: int = 3,
    as_of: datetime | None = None,
    subjects: frozenset[str] | None = None,
) -> Attendance:
    """Lessons missed per student by code; withdrawn absences do not count. `subjects`
    limits the report to those subjects (a subject teacher's view).

    A parent's notice covers every lesson the group had that day (recorded lessons, less those
    a teacher found the student at); a notice day without recorded lessons counts once."""
    cond, at = validity(as_of)
    span = [from_date.isoformat(), to_date.isoformat()]
    stays = members(cur, org_id, year_id, group_id, from_date, to_date, as_of)
    rows = {s: AttendanceRow(s) for s in stays}
    students = list(stays)
    if not students:
        return Attendance([], [])
    cur.execute(
        f"SELECT lesson_date, subject_id, lesson_no FROM rm_lessons WHERE org_id = ? "
        f"AND year_id = ? AND group_id = ? AND lesson_date BETWEEN ? AND ? "
        f"AND status = 'active' AND {cond}",
        [org_id, year_id, group_id, *span, *at],
    )
    lessons_by_day: dict[str, list[tuple[str, int]]] = {}
    for day, subject, number in cur.fetchall():
        if subjects is None or subject in subjects:
            lessons_by_day.setdefault(day, []).append((subject, int(number)))
    cur.execute(
        f"SELECT student_id, absence_id, subject_id, lesson_date, lesson_no, code, source, "
        f"present_at FROM rm_absences WHERE org_id = ? AND year_id = ? "
        f"AND student_id IN ({marks(students)}) AND lesson_date BETWEEN ? AND ? "
        f"AND status = 'active' AND {cond} ORDER BY lesson_date, absence_id",
        [org_id, year_id, *students, *span, *at],
    )
    unexplained = []
    found, recorded = absences_in_stays(cur.fetchall(), stays)
    if subjects is not None:  # a subject teacher sees their own subjects only
        found = [r for r in found if r[2] is None or r[2] in subjects]
    for student_id, absence_id, subject, day, number, code, source, present in found:
        if subject is None:
            lessons = lessons_by_day.get(day, [])
            attended = {(s, n) for s, n in json.loads(present)}
            covered = notice_lessons(lessons, attended, recorded.get((student_id, day), set()))
            count = len(covered) if lessons else 1
        else:
            count = 1
        row = rows[student_id]
        row.absent_lessons += count
        row.by_code[code] += count
        row.by_source[source] += count
        open_days = (today - date.fromisoformat(day)).days
        if code == "Н" and open_days > unexplained_days:
            unexplained.append(
                {
                    "student_id": student_id,
                    "absence_id": absence_id,
                    "subject_id": subject,
                    "lesson_date": day,
                    "lesson_no": number,
                    "days_open": open_days,
                }
            )
    return Attendance([rows[s] for s in sorted(rows)], unexplained)
