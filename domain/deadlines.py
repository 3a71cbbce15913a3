"""Deadlines (R-MARK-2, R-MARK-4, R-ATT-4), counted in the organisation's days.

`today` is the school's date (the injected clock in the organisation's time zone). A teacher
past the deadline is refused; a deputy director may act late, giving a reason, and the event
records the change as an authorised late one.
"""

from __future__ import annotations

from datetime import date, timedelta

from domain.actors import Role
from domain.errors import DeadlinePassed, LessonInFuture, PeriodNotStarted, RuleViolation
from domain.rules import JournalRules


def _late_allowed(role: str, reason: str | None, what: str) -> bool:
    if role != Role.DEPUTY:
        raise DeadlinePassed(
            f"Срок {what} истёк; исправление после срока организует заместитель директора"
        )
    if not (reason or "").strip():
        raise RuleViolation(
            f"Срок {what} истёк: укажите причину изменения после срока", field="reason"
        )
    return True


def current_entry_is_late(
    *, role: str, lesson_date: date, today: date, rules: JournalRules, reason: str | None
) -> bool:
    """Whether a current mark or absence for `lesson_date` is recorded late (deputy only)."""
    if lesson_date > today:
        raise LessonInFuture(
            f"Урок {lesson_date.isoformat()} ещё не прошёл (сегодня {today.isoformat()})",
            field="lesson_date",
        )
    deadline = lesson_date + timedelta(days=rules.current_mark_days)
    if today <= deadline:
        return False
    return _late_allowed(role, reason, f"внесения записей за {lesson_date.isoformat()}")


def attestation_is_late(
    *,
    role: str,
    starts_on: date,
    ends_on: date,
    today: date,
    rules: JournalRules,
    reason: str | None,
) -> bool:
    """Results are accepted during the period and until its end + attestation_mark_days."""
    if today < starts_on:
        raise PeriodNotStarted(
            f"Период начнётся {starts_on.isoformat()}; результаты вносятся в течение периода",
            field="period_id",
        )
    if today <= ends_on + timedelta(days=rules.attestation_mark_days):
        return False
    return _late_allowed(role, reason, "внесения результатов аттестации")
