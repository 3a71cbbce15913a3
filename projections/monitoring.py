"""Monitoring of journal keeping (R-MON-2, R-MON-3) for a group and a date range."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from adapters.sql import Cursor
from projections.facts import VALID_NOW, stamp
from projections.queries import marks, members, round_half


def share(part: int, whole: int) -> Decimal | None:
    return round_half(Decimal(part) / whole, "0.001") if whole else None


def monitoring(
    cur: Cursor,
    *,
    org_id: str,
    year_id: str,
    group_id: str,
    from_date: date,
    to_date: date,
    teachers: list[str],
    parents: dict[str, list[str]],
    zone: ZoneInfo,
) -> dict[str, Any]:
    """`teachers`: assigned to the group; `parents`: each student's parents."""
    span = [from_date.isoformat(), to_date.isoformat()]
    students = sorted(members(cur, org_id, year_id, group_id, from_date, to_date, None))
    inside = marks(students) or "NULL"
    cur.execute(
        f"SELECT student_id, COUNT(*) FROM rm_marks WHERE org_id = ? AND year_id = ? "
        f"AND student_id IN ({inside}) AND lesson_date BETWEEN ? AND ? AND status = 'active' "
        f"AND {VALID_NOW} GROUP BY student_id",
        [org_id, year_id, *students, *span],
    )
    counts = {r[0]: int(r[1]) for r in cur.fetchall()}
    without = [s for s in students if counts.get(s, 0) == 0]
    one = [s for s in students if counts.get(s, 0) == 1]

    active: set[str] = set()
    for table in ("rm_marks", "rm_absences"):
        cur.execute(
            f"SELECT DISTINCT recorded_by FROM {table} WHERE org_id = ? AND year_id = ? "
            f"AND student_id IN ({inside}) AND lesson_date BETWEEN ? AND ? AND seq = 0",
            [org_id, year_id, *students, *span],
        )
        active |= {r[0] for r in cur.fetchall()}
    cur.execute(
        f"SELECT recorded_by, topic, homework FROM rm_lessons WHERE org_id = ? AND year_id = ? "
        f"AND group_id = ? AND lesson_date BETWEEN ? AND ? AND status = 'active' AND {VALID_NOW}",
        [org_id, year_id, group_id, *span],
    )
    lessons = cur.fetchall()
    active |= {r[0] for r in lessons}
    working = sorted(set(teachers) & active)

    cur.execute(
        f"SELECT COUNT(*) FROM rm_attestations WHERE org_id = ? AND year_id = ? "
        f"AND student_id IN ({inside}) AND debt = 'open' AND {VALID_NOW}",
        [org_id, year_id, *students],
    )
    open_debts = int(cur.fetchone()[0])

    all_parents = sorted({p for s in students for p in parents.get(s, [])})
    cur.execute(
        f"SELECT DISTINCT parent_id FROM rm_acknowledgements WHERE org_id = ? AND year_id = ? "
        f"AND student_id IN ({inside}) AND acknowledged_at >= ? AND acknowledged_at < ?",
        [
            org_id,
            year_id,
            *students,
            _school_day_start(from_date, zone),
            _school_day_start(to_date + timedelta(days=1), zone),
        ],
    )
    acknowledged = sorted({r[0] for r in cur.fetchall()} & set(all_parents))
    with_topic = sum(1 for r in lessons if r[1])
    with_homework = sum(1 for r in lessons if r[2])
    return {
        "teachers_assigned": len(teachers),
        "teachers_working": len(working),
        "teachers_working_share": share(len(working), len(teachers)),
        "teachers_not_working": sorted(set(teachers) - set(working)),
        "students": len(students),
        "students_without_marks": len(without),
        "students_without_marks_share": share(len(without), len(students)),
        "students_with_one_mark": len(one),
        "students_with_one_mark_share": share(len(one), len(students)),
        "lessons": len(lessons),
        "lessons_with_topic_share": share(with_topic, len(lessons)),
        "lessons_with_homework_share": share(with_homework, len(lessons)),
        "open_academic_debts": open_debts,
        "parents": len(all_parents),
        "parents_acknowledged": len(acknowledged),
        "parents_acknowledged_share": share(len(acknowledged), len(all_parents)),
    }


def _school_day_start(day: date, zone: ZoneInfo) -> str:
    """The record-time stamp at which the school's `day` begins in its time zone."""
    return stamp(datetime.combine(day, time(0), tzinfo=zone))
