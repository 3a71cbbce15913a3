"""Shared pieces of the report queries: record-time validity and group membership."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

from adapters.sql import Cursor
from projections.facts import VALID_AT, VALID_NOW, stamp


def validity(as_of: datetime | None) -> tuple[str, list[Any]]:
    """SQL condition (and its parameters) for rows as they stood at `as_of`, or now."""
    if as_of is None:
        return VALID_NOW, []
    moment = stamp(as_of)
    return VALID_AT, [moment, moment]


def marks(values: list[str]) -> str:
    return ", ".join("?" for _ in values)


@dataclass(frozen=True)
class Member:
    student_id: str
    starts_on: date
    ends_on: date | None

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


def members(
    cur: Cursor,
    org_id: str,
    year_id: str,
    group_id: str,
    starts_on: date,
    ends_on: date,
    as_of: datetime | None,
) -> dict[str, list[Member]]:
    """Students in the group at some time between the dates, with their stays."""
    cond, params = validity(as_of)
    cur.execute(
        f"SELECT student_id, from_date, to_date FROM rm_memberships WHERE org_id = ? "
        f"AND year_id = ? AND group_id = ? AND from_date <= ? "
        f"AND (to_date IS NULL OR to_date >= ?) AND {cond} ORDER BY student_id",
        [org_id, year_id, group_id, ends_on.isoformat(), starts_on.isoformat(), *params],
    )
    found: dict[str, list[Member]] = {}
    for student_id, start, end in cur.fetchall():
        found.setdefault(student_id, []).append(
            Member(student_id, date.fromisoformat(start), date.fromisoformat(end) if end else None)
        )
    return found


def round_half(value: Decimal, places: str, rule: str = "half_up") -> Decimal:
    mode = ROUND_HALF_EVEN if rule == "half_even" else ROUND_HALF_UP
    return value.quantize(Decimal(places), rounding=mode)


def mean(values: list[int], weights: list[int] | None = None) -> Decimal | None:
    if not values:
        return None
    weights = weights or [1] * len(values)
    total = sum((Decimal(v) * w for v, w in zip(values, weights, strict=True)), Decimal(0))
    return total / Decimal(sum(weights))


def notice_lessons(
    lessons: list[tuple[str, int]],
    attended: set[tuple[str, int | None]],
    recorded: set[tuple[str, int | None]],
) -> list[tuple[str, int]]:
    """The lessons of a day a parent's notice still covers: not those the student was found
    at, nor those a teacher recorded an absence for already (counted once, as recorded)."""

    def named(pairs: set[tuple[str, int | None]], subject: str, number: int) -> bool:
        return (subject, number) in pairs or (subject, None) in pairs

    return [
        (subject, number)
        for subject, number in lessons
        if not named(attended, subject, number) and not named(recorded, subject, number)
    ]


def absences_in_stays(
    rows: list[Any], stays: dict[str, list[Member]]
) -> tuple[list[Any], dict[tuple[str, str], set[tuple[str, int | None]]]]:
    """Absence rows (student, id, subject, day, lesson_no, ...) inside the students' stays in
    the group, and per (student, day) the lessons a teacher recorded an absence for."""
    kept = [r for r in rows if any(m.covers(date.fromisoformat(r[3])) for m in stays[r[0]])]
    recorded: dict[tuple[str, str], set[tuple[str, int | None]]] = {}
    for student_id, _, subject, day, number, *_ in kept:
        if subject is not None:
            recorded.setdefault((student_id, day), set()).add((subject, number))
    return kept, recorded
