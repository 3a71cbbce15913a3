"""Small builders for the domain tests: fixed actors, fixed aware times, "given" event lists."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.actors import Actor, Role
from domain.journal import StudentJournal
from domain.rules import JournalRules

ORG = "sght"
YEAR = "2026-2027"
STUDENT = "s01"

TEACHER = Actor("t-sokolova", Role.TEACHER, ORG, frozenset({Role.TEACHER}))
OTHER_TEACHER = Actor("t-petrov", Role.TEACHER, ORG, frozenset({Role.TEACHER}))
DEPUTY = Actor("d-orlova", Role.DEPUTY, ORG, frozenset({Role.DEPUTY}))
SYSTEM = Actor("system", Role.SYSTEM, ORG, frozenset({Role.SYSTEM}))

# 2026-09-03 10:00 in Perm (UTC+5); every time in these tests is fixed and aware.
T0 = datetime(2026, 9, 3, 5, 0, tzinfo=UTC)
LESSON_DAY = date(2026, 9, 3)


def at(minutes: int) -> datetime:
    """A fixed moment `minutes` after T0."""
    return T0 + timedelta(minutes=minutes)


RULES = JournalRules(weights={"control": 2, "test": 3})
RULES_WITH_ONE = JournalRules(lowest_mark=1, weights={"control": 2, "test": 3})

Command = Callable[[StudentJournal], None]


def journal_events(*commands: Command, opened_by: Actor = SYSTEM) -> list[Any]:
    """The events of a fresh journal after running `commands` on it (for `given`)."""
    journal = StudentJournal.open(
        org_id=ORG, year_id=YEAR, student_id=STUDENT, actor=opened_by, at=T0
    )
    for command in commands:
        command(journal)
    return list(journal.collect_events())


def record(
    mark_id: str = "m1",
    *,
    value: Any = 4,
    work_kind: str = "oral",
    subject_id: str = "math",
    lesson_date: date = LESSON_DAY,
    rules: JournalRules = RULES,
    actor: Actor = TEACHER,
    when: datetime | None = None,
    **extra: Any,
) -> Command:
    def command(j: StudentJournal) -> None:
        j.record_mark(
            mark_id=mark_id,
            subject_id=subject_id,
            lesson_date=lesson_date,
            work_kind=work_kind,
            value=value,
            rules=rules,
            actor=actor,
            at=when or at(10),
            **extra,
        )

    return command


def correct(
    mark_id: str = "m1",
    *,
    value: Any = 3,
    reason: str | None = "опечатка",
    rules: JournalRules = RULES,
    actor: Actor = TEACHER,
    when: datetime | None = None,
) -> Command:
    def command(j: StudentJournal) -> None:
        j.correct_mark(
            mark_id=mark_id, value=value, reason=reason, rules=rules, actor=actor, at=when or at(20)
        )

    return command


def cancel(
    mark_id: str = "m1",
    *,
    reason: str | None = "не тот ученик",
    actor: Actor = TEACHER,
    when: datetime | None = None,
) -> Command:
    def command(j: StudentJournal) -> None:
        j.cancel_mark(mark_id=mark_id, reason=reason, actor=actor, at=when or at(30))

    return command


def absent(
    absence_id: str = "a1",
    *,
    code: str = "НН",
    subject_id: str = "math",
    lesson_date: date = LESSON_DAY,
    actor: Actor = TEACHER,
    when: datetime | None = None,
    **extra: Any,
) -> Command:
    def command(j: StudentJournal) -> None:
        j.record_absence(
            absence_id=absence_id,
            subject_id=subject_id,
            lesson_date=lesson_date,
            code=code,
            actor=actor,
            at=when or at(40),
            **extra,
        )

    return command
