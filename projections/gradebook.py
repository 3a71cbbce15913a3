"""Gradebook (API.md `GET /api/v1/gradebook`): a group's page in a subject for a period,
exactly as it stood at any record time."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from adapters.sql import Cursor
from projections.queries import (
    absences_in_stays,
    marks,
    mean,
    members,
    notice_lessons,
    round_half,
    validity,
)


@dataclass
class GradebookRow:
    student_id: str
    marks: list[dict[str, Any]] = field(default_factory=list)
    absences: list[dict[str, Any]] = field(default_factory=list)
    attestation: dict[str, Any] | None = None
    average: Decimal | None = None
    weighted_average: Decimal | None = None


@dataclass
class Gradebook:
    columns: list[dict[str, Any]]
    rows: list[GradebookRow]


def gradebook(
    cur: Cursor,
    *,
    org_id: str,
    year_id: str,
    group_id: str,
    subject_id: str,
    period_id: str,
    starts_on: date,
    ends_on: date,
    as_of: datetime | None = None,
) -> Gradebook:
    cond, at = validity(as_of)
    span = [starts_on.isoformat(), ends_on.isoformat()]
    stays = members(cur, org_id, year_id, group_id, starts_on, ends_on, as_of)
    cur.execute(
        f"SELECT lesson_id, lesson_date, lesson_no, topic, homework FROM rm_lessons "
        f"WHERE org_id = ? AND year_id = ? AND group_id = ? AND subject_id = ? "
        f"AND lesson_date BETWEEN ? AND ? AND status = 'active' AND {cond} "
        f"ORDER BY lesson_date, lesson_no",
        [org_id, year_id, group_id, subject_id, *span, *at],
    )
    columns = [
        {"lesson_id": r[0], "lesson_date": r[1], "lesson_no": r[2], "topic": r[3], "homework": r[4]}
        for r in cur.fetchall()
    ]
    rows = {s: GradebookRow(s) for s in stays}
    students = list(stays)
    if not students:
        return Gradebook(columns, [])
    inside = marks(students)
    cur.execute(
        f"SELECT student_id, mark_id, lesson_date, lesson_no, work_kind, weight, value "
        f"FROM rm_marks WHERE org_id = ? AND year_id = ? AND subject_id = ? "
        f"AND student_id IN ({inside}) AND lesson_date BETWEEN ? AND ? AND status = 'active' "
        f"AND {cond} ORDER BY lesson_date, lesson_no, mark_id",
        [org_id, year_id, subject_id, *students, *span, *at],
    )
    for student_id, mark_id, day, number, kind, weight, value in cur.fetchall():
        if any(m.covers(date.fromisoformat(day)) for m in stays[student_id]):
            rows[student_id].marks.append(
                {
                    "mark_id": mark_id,
                    "lesson_date": day,
                    "lesson_no": number,
                    "work_kind": kind,
                    "weight": int(weight),
                    "value": int(value),
                }
            )
    lessons_by_day: dict[str, list[int]] = {}
    for column in columns:
        lessons_by_day.setdefault(column["lesson_date"], []).append(column["lesson_no"])
    cur.execute(
        f"SELECT student_id, absence_id, subject_id, lesson_date, lesson_no, code, source, "
        f"present_at FROM rm_absences WHERE org_id = ? AND year_id = ? "
        f"AND student_id IN ({inside}) AND (subject_id = ? OR subject_id IS NULL) "
        f"AND lesson_date BETWEEN ? AND ? AND status = 'active' AND {cond} "
        f"ORDER BY lesson_date, lesson_no, absence_id",
        [org_id, year_id, *students, subject_id, *span, *at],
    )
    found, recorded = absences_in_stays(cur.fetchall(), stays)
    for student_id, absence_id, subj, day, number, code, source, present in found:
        entry = {"absence_id": absence_id, "lesson_date": day, "code": code, "source": source}
        if subj is not None:
            rows[student_id].absences.append({**entry, "lesson_no": number})
            continue
        # A parent's notice: every lesson of the subject that day, unless found present.
        attended = {(s, n) for s, n in json.loads(present)}
        day_lessons = [(subject_id, n) for n in lessons_by_day.get(day, [])]
        for _, lesson_no in notice_lessons(
            day_lessons, attended, recorded.get((student_id, day), set())
        ):
            rows[student_id].absences.append({**entry, "lesson_no": lesson_no})
    cur.execute(
        f"SELECT student_id, attestation_id, result, debt FROM rm_attestations "
        f"WHERE org_id = ? AND year_id = ? AND subject_id = ? AND period_id = ? "
        f"AND student_id IN ({inside}) AND {cond}",
        [org_id, year_id, subject_id, period_id, *students, *at],
    )
    for student_id, attestation_id, result, debt in cur.fetchall():
        rows[student_id].attestation = {
            "attestation_id": attestation_id,
            "result": result,
            "debt": debt,
        }
    for row in rows.values():
        values = [m["value"] for m in row.marks]
        average = mean(values)
        weighted = mean(values, [m["weight"] for m in row.marks])
        row.average = round_half(average, "0.01") if average is not None else None
        row.weighted_average = round_half(weighted, "0.01") if weighted is not None else None
    return Gradebook(columns, [rows[s] for s in sorted(rows)])
