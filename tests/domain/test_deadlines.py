"""Deadlines in the school's days (R-MARK-2, R-MARK-4, R-ATT-4): pure rules of domain/deadlines.

Given a lesson (or an attestation period), the rules and today's date, when someone in a role
writes, then the write is on time (False), late but authorised (True, a deputy with a reason)
or refused with a stable code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from domain.actors import Role
from domain.deadlines import attestation_is_late, current_entry_is_late
from domain.errors import DeadlinePassed, LessonInFuture, PeriodNotStarted, RuleViolation
from domain.rules import JournalRules

LESSON = date(2026, 9, 3)
WEEK = JournalRules(current_mark_days=7)
SAME_DAY = JournalRules(current_mark_days=0)

NON_DEPUTY_WRITERS = [Role.TEACHER.value, Role.SUBSTITUTE.value, Role.CURATOR.value]
EVERY_WRITER = [*NON_DEPUTY_WRITERS, Role.DEPUTY.value]


def entry(
    role: str,
    today: date,
    *,
    lesson_date: date = LESSON,
    rules: JournalRules = WEEK,
    reason: str | None = None,
) -> bool:
    return current_entry_is_late(
        role=role, lesson_date=lesson_date, today=today, rules=rules, reason=reason
    )


def refused(
    error: type[RuleViolation], code: str, call: Callable[..., object], *args: Any, **kw: Any
) -> RuleViolation:
    """The call raises exactly `error` with `code`; the error is returned for more checks."""
    with pytest.raises(error) as info:
        call(*args, **kw)
    assert type(info.value) is error
    assert info.value.code == code
    return info.value


# --- current marks and absences ---------------------------------------------------------------


@pytest.mark.parametrize("role", EVERY_WRITER)
@pytest.mark.parametrize("days_after", [0, 1, 3, 6, 7])
def test_from_the_lesson_day_to_the_last_day_of_the_deadline_an_entry_is_on_time(
    role: str, days_after: int
) -> None:
    # Given a 7-day deadline, when writing on the lesson day up to lesson + 7 inclusive,
    # then the entry is not late, whoever writes and whether or not a reason is given.
    today = LESSON + timedelta(days=days_after)
    assert entry(role, today) is False
    assert entry(role, today, reason="исправление") is False


def test_the_last_day_of_the_deadline_is_inclusive_for_a_teacher() -> None:
    assert entry(Role.TEACHER, LESSON + timedelta(days=7)) is False


@pytest.mark.parametrize("role", NON_DEPUTY_WRITERS)
@pytest.mark.parametrize("days_after", [8, 9, 30, 365])
def test_the_day_after_the_deadline_a_teacher_substitute_or_curator_is_refused(
    role: str, days_after: int
) -> None:
    error = refused(
        DeadlinePassed,
        "deadline-passed",
        entry,
        role,
        LESSON + timedelta(days=days_after),
        reason="забыла внести",
    )
    assert error.field is None


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.ADMIN, Role.ARCHIVIST, Role.SYSTEM])
def test_past_the_deadline_only_a_deputy_may_act_late(role: str) -> None:
    refused(DeadlinePassed, "deadline-passed", entry, role, LESSON + timedelta(days=8), reason="x")


@pytest.mark.parametrize("days_after", [8, 20, 200])
@pytest.mark.parametrize("reason", ["ошибка учителя", "  служебная записка  "])
def test_past_the_deadline_a_deputy_with_a_reason_records_a_late_entry(
    days_after: int, reason: str
) -> None:
    assert entry(Role.DEPUTY, LESSON + timedelta(days=days_after), reason=reason) is True


@pytest.mark.parametrize("reason", [None, "", " ", "   \t\n"])
def test_past_the_deadline_a_deputy_without_a_reason_is_asked_for_one(
    reason: str | None,
) -> None:
    error = refused(
        RuleViolation,
        "validation-error",
        entry,
        Role.DEPUTY,
        LESSON + timedelta(days=8),
        reason=reason,
    )
    assert error.field == "reason"


@pytest.mark.parametrize("role", [*EVERY_WRITER, Role.DIRECTOR])
@pytest.mark.parametrize("days_ahead", [1, 2, 300])
def test_a_lesson_in_the_future_is_refused_to_everyone(role: str, days_ahead: int) -> None:
    error = refused(
        LessonInFuture,
        "lesson-in-future",
        entry,
        role,
        LESSON,
        lesson_date=LESSON + timedelta(days=days_ahead),
        reason="заранее",
    )
    assert error.field == "lesson_date"


@pytest.mark.parametrize("rules", [WEEK, SAME_DAY])
def test_a_future_lesson_is_refused_even_with_a_zero_deadline(rules: JournalRules) -> None:
    refused(
        LessonInFuture,
        "lesson-in-future",
        entry,
        Role.DEPUTY,
        LESSON,
        lesson_date=LESSON + timedelta(days=1),
        rules=rules,
        reason="ok",
    )


def test_with_a_zero_day_deadline_only_the_lesson_day_is_on_time() -> None:
    assert entry(Role.TEACHER, LESSON, rules=SAME_DAY) is False
    refused(
        DeadlinePassed,
        "deadline-passed",
        entry,
        Role.TEACHER,
        LESSON + timedelta(days=1),
        rules=SAME_DAY,
    )
    assert entry(Role.DEPUTY, LESSON + timedelta(days=1), rules=SAME_DAY, reason="р") is True


@pytest.mark.parametrize("days", [1, 3, 8])
def test_the_deadline_follows_the_organisations_setting(days: int) -> None:
    rules = JournalRules(current_mark_days=days)
    assert entry(Role.TEACHER, LESSON + timedelta(days=days), rules=rules) is False
    refused(
        DeadlinePassed,
        "deadline-passed",
        entry,
        Role.TEACHER,
        LESSON + timedelta(days=days + 1),
        rules=rules,
    )


def test_the_deadline_crosses_months_and_years() -> None:
    # Given a lesson on 28 December and 7 days, the last day is 4 January.
    lesson = date(2026, 12, 28)
    assert entry(Role.TEACHER, date(2027, 1, 4), lesson_date=lesson) is False
    refused(
        DeadlinePassed, "deadline-passed", entry, Role.TEACHER, date(2027, 1, 5), lesson_date=lesson
    )


# --- intermediate attestation ------------------------------------------------------------------

STARTS = date(2026, 9, 1)
ENDS = date(2026, 12, 27)


def attestation(
    role: str,
    today: date,
    *,
    rules: JournalRules | None = None,
    reason: str | None = None,
) -> bool:
    return attestation_is_late(
        role=role,
        starts_on=STARTS,
        ends_on=ENDS,
        today=today,
        rules=rules or JournalRules(attestation_mark_days=0),
        reason=reason,
    )


@pytest.mark.parametrize("role", EVERY_WRITER)
@pytest.mark.parametrize("days_before", [1, 2, 60])
def test_before_the_period_starts_results_are_refused(role: str, days_before: int) -> None:
    error = refused(
        PeriodNotStarted,
        "period-not-started",
        attestation,
        role,
        STARTS - timedelta(days=days_before),
        reason="заранее",
    )
    assert error.field == "period_id"


@pytest.mark.parametrize("role", EVERY_WRITER)
@pytest.mark.parametrize("today", [STARTS, date(2026, 10, 15), ENDS])
def test_during_the_period_results_are_on_time(role: str, today: date) -> None:
    assert attestation(role, today) is False


@pytest.mark.parametrize("extra", [0, 1, 3])
def test_results_are_on_time_until_the_end_plus_attestation_mark_days(extra: int) -> None:
    rules = JournalRules(attestation_mark_days=extra)
    assert attestation(Role.TEACHER, ENDS + timedelta(days=extra), rules=rules) is False
    refused(
        DeadlinePassed,
        "deadline-passed",
        attestation,
        Role.TEACHER,
        ENDS + timedelta(days=extra + 1),
        rules=rules,
    )


@pytest.mark.parametrize("role", NON_DEPUTY_WRITERS)
def test_after_the_attestation_deadline_a_teacher_is_refused(role: str) -> None:
    refused(
        DeadlinePassed,
        "deadline-passed",
        attestation,
        role,
        ENDS + timedelta(days=1),
        reason="пересдача",
    )


def test_after_the_attestation_deadline_a_deputy_with_a_reason_records_late() -> None:
    assert attestation(Role.DEPUTY, ENDS + timedelta(days=1), reason="пересдача") is True
    assert attestation(Role.DEPUTY, ENDS + timedelta(days=90), reason="ликвидация а/з") is True


@pytest.mark.parametrize("reason", [None, "", "  "])
def test_after_the_attestation_deadline_a_deputy_must_give_a_reason(reason: str | None) -> None:
    error = refused(
        RuleViolation,
        "validation-error",
        attestation,
        Role.DEPUTY,
        ENDS + timedelta(days=1),
        reason=reason,
    )
    assert error.field == "reason"


def test_the_attestation_deadline_does_not_read_the_current_mark_deadline() -> None:
    rules = JournalRules(current_mark_days=30, attestation_mark_days=0)
    refused(
        DeadlinePassed,
        "deadline-passed",
        attestation,
        Role.TEACHER,
        ENDS + timedelta(days=1),
        rules=rules,
    )
