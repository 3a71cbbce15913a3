"""Absences after they are recorded (R-ABS-2, R-ABS-3): reasons, withdrawal, parents' notices."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from domain.actors import Actor, Role
from domain.errors import AlreadyWithdrawn, RecordNotFound, RuleViolation
from domain.journal import ACTIVE, WITHDRAWN, StudentJournal, notice_absence_id, notice_days
from domain.rules import ABSENCE_CODES
from tests.domain.builders import (
    DEPUTY,
    LESSON_DAY,
    ORG,
    OTHER_TEACHER,
    TEACHER,
    absent,
    at,
    journal_events,
)
from tests.domain.gwt import given, replay

ReasonSet = StudentJournal.AbsenceReasonSet
Withdrawn = StudentJournal.AbsenceWithdrawn
NoticeFiled = StudentJournal.AbsenceNoticeFiled

CURATOR = Actor("c-ivanova", Role.CURATOR, ORG, frozenset({Role.TEACHER}))
PARENT = Actor("p-kuznetsova", Role.PARENT, ORG, frozenset({Role.PARENT}))

# A Thursday: the parent files on 3 September for the next days.
TODAY = LESSON_DAY
MONDAY = date(2026, 9, 7)
SUNDAY = date(2026, 9, 6)

Command = Any


def plain_violation(error: RuleViolation, field: str) -> None:
    assert type(error) is RuleViolation
    assert error.code == "validation-error"
    assert error.field == field


def set_reason(
    absence_id: str = "a1",
    *,
    code: str = "Б",
    reason: str | None = "справка",
    actor: Actor = CURATOR,
    when: datetime | None = None,
) -> Command:
    def command(j: StudentJournal) -> None:
        j.set_absence_reason(
            absence_id=absence_id, code=code, reason=reason, actor=actor, at=when or at(50)
        )

    return command


def withdraw(
    absence_id: str = "a1",
    *,
    reason: str | None = "был на уроке",
    actor: Actor = TEACHER,
    when: datetime | None = None,
    **extra: Any,
) -> Command:
    def command(j: StudentJournal) -> None:
        j.withdraw_absence(
            absence_id=absence_id, reason=reason, actor=actor, at=when or at(60), **extra
        )

    return command


def notice(
    notice_id: str = "n1",
    *,
    from_date: date = MONDAY,
    to_date: date = MONDAY,
    reason: str | None = "санаторий",
    today: date = TODAY,
    actor: Actor = PARENT,
    when: datetime | None = None,
) -> Command:
    def command(j: StudentJournal) -> None:
        j.file_absence_notice(
            notice_id=notice_id,
            from_date=from_date,
            to_date=to_date,
            reason=reason,
            today=today,
            actor=actor,
            at=when or at(70),
        )

    return command


def day_id(day: date, notice_id: str = "n1") -> str:
    return notice_absence_id(notice_id, day)


# --- reasons (R-ABS-2) ------------------------------------------------------------------------


@pytest.mark.parametrize("code", ABSENCE_CODES)
def test_the_curator_gives_the_reason_and_code_of_an_absence(code: str) -> None:
    scenario = given(*journal_events(absent("a1", code="Н")))
    scenario.when(set_reason(code=code, reason="  справка  ", when=at(55))).then(
        (
            ReasonSet,
            {
                "absence_id": "a1",
                "code": code,
                "reason": "справка",
                "previous_code": "Н",
                "previous_reason": None,
                "actor_id": CURATOR.id,
                "actor_role": "curator",
                "timestamp": at(55),
            },
        )
    )
    absence = scenario.aggregate.absences["a1"]
    assert (absence.code, absence.reason, absence.status) == (code, "справка", ACTIVE)
    assert [h.action for h in absence.history] == ["recorded", "reason_set"]


@pytest.mark.parametrize("code", ["H", "н", "", "НН ", "У"])
def test_an_unknown_code_is_refused(code: str) -> None:
    error = given(*journal_events(absent())).when(set_reason(code=code)).then_raises(RuleViolation)
    plain_violation(error, "code")


@pytest.mark.parametrize("reason", [None, "", "  ", "\n"])
def test_a_reason_is_required(reason: str | None) -> None:
    error = (
        given(*journal_events(absent())).when(set_reason(reason=reason)).then_raises(RuleViolation)
    )
    plain_violation(error, "reason")


def test_the_same_code_and_reason_again_is_refused() -> None:
    error = (
        given(*journal_events(absent(code="НН"), set_reason(code="Б", reason="справка")))
        .when(set_reason(code="Б", reason=" справка "))
        .then_raises(RuleViolation)
    )
    plain_violation(error, "code")


def test_a_new_reason_with_the_same_code_is_recorded_with_the_previous_one() -> None:
    given(*journal_events(absent(code="НН"), set_reason(code="Б", reason="справка"))).when(
        set_reason(code="Б", reason="справка № 12")
    ).then(
        (
            ReasonSet,
            {
                "code": "Б",
                "reason": "справка № 12",
                "previous_code": "Б",
                "previous_reason": "справка",
            },
        )
    )


def test_a_recorded_reason_with_a_new_code_is_a_change() -> None:
    given(*journal_events(absent(code="НУ", reason="соревнования"))).when(
        set_reason(code="Б", reason="соревнования")
    ).then((ReasonSet, {"previous_code": "НУ", "previous_reason": "соревнования"}))


def test_the_reason_of_a_withdrawn_absence_cannot_be_set() -> None:
    given(*journal_events(absent(), withdraw())).when(set_reason()).then_raises(
        AlreadyWithdrawn, "already-withdrawn"
    )


def test_the_reason_of_an_unknown_absence_is_not_found() -> None:
    given(*journal_events()).when(set_reason("a9")).then_raises(RecordNotFound, "not-found")


# --- withdrawing a teacher's absence (R-ABS-3) ------------------------------------------------


def test_withdrawing_an_absence_records_who_why_and_marks_it_withdrawn() -> None:
    scenario = given(*journal_events(absent("a1", lesson_no=2)))
    scenario.when(withdraw(reason="  опоздал, был на уроке ", when=at(65))).then(
        (
            Withdrawn,
            {
                "absence_id": "a1",
                "reason": "опоздал, был на уроке",
                "subject_id": None,
                "lesson_no": None,
                "late": False,
                "actor_id": TEACHER.id,
                "timestamp": at(65),
            },
        )
    )
    absence = scenario.aggregate.absences["a1"]
    assert absence.status == WITHDRAWN
    assert absence.present_at == []
    assert [(h.action, h.status, h.reason) for h in absence.history] == [
        ("recorded", ACTIVE, None),
        ("withdrawn", WITHDRAWN, "опоздал, был на уроке"),
    ]


def test_naming_the_absences_own_lesson_is_allowed() -> None:
    scenario = given(*journal_events(absent("a1", subject_id="math", lesson_no=2)))
    scenario.when(withdraw(subject_id="math", lesson_no=2)).then(
        (Withdrawn, {"subject_id": None, "lesson_no": None})
    )
    assert scenario.aggregate.absences["a1"].status == WITHDRAWN


def test_withdrawing_twice_is_already_withdrawn() -> None:
    given(*journal_events(absent(), withdraw())).when(withdraw(when=at(61))).then_raises(
        AlreadyWithdrawn, "already-withdrawn"
    )


@pytest.mark.parametrize(
    "lesson",
    [{"subject_id": "rus"}, {"lesson_no": 3}, {"subject_id": "math", "lesson_no": 3}],
    ids=["other-subject", "other-lesson-no", "same-subject-other-lesson"],
)
def test_withdrawing_for_another_lesson_is_refused(lesson: dict[str, Any]) -> None:
    error = (
        given(*journal_events(absent("a1", subject_id="math", lesson_no=2)))
        .when(withdraw(**lesson))
        .then_raises(RuleViolation)
    )
    plain_violation(error, "subject_id")


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_withdrawing_needs_a_reason(reason: str | None) -> None:
    error = (
        given(*journal_events(absent())).when(withdraw(reason=reason)).then_raises(RuleViolation)
    )
    plain_violation(error, "reason")


def test_a_late_withdrawal_by_a_deputy_is_flagged() -> None:
    scenario = given(*journal_events(absent()))
    scenario.when(withdraw(actor=DEPUTY, late=True, reason="служебная записка")).then(
        (Withdrawn, {"late": True, "actor_role": "deputy"})
    )
    assert scenario.aggregate.absences["a1"].history[-1].late is True


# --- parents' notices (R-ABS-3) ----------------------------------------------------------------


def test_a_notice_from_today_is_accepted() -> None:
    given(*journal_events()).when(notice(from_date=TODAY, to_date=TODAY)).then(
        (
            NoticeFiled,
            {
                "notice_id": "n1",
                "from_date": TODAY,
                "to_date": TODAY,
                "reason": "санаторий",
                "actor_id": PARENT.id,
                "actor_role": "parent",
            },
        )
    )


@pytest.mark.parametrize("days_before", [1, 2, 30])
def test_a_notice_from_before_today_is_refused(days_before: int) -> None:
    error = (
        given(*journal_events())
        .when(notice(from_date=TODAY - timedelta(days=days_before), to_date=TODAY))
        .then_raises(RuleViolation)
    )
    plain_violation(error, "from_date")


def test_a_notice_ending_before_it_starts_is_refused() -> None:
    error = (
        given(*journal_events())
        .when(notice(from_date=MONDAY, to_date=MONDAY - timedelta(days=1)))
        .then_raises(RuleViolation)
    )
    plain_violation(error, "to_date")


def test_a_notice_of_92_days_span_is_accepted_and_of_93_is_refused() -> None:
    given(*journal_events()).when(
        notice(from_date=MONDAY, to_date=MONDAY + timedelta(days=92))
    ).then((NoticeFiled, {"to_date": MONDAY + timedelta(days=92)}))
    error = (
        given(*journal_events())
        .when(notice(from_date=MONDAY, to_date=MONDAY + timedelta(days=93)))
        .then_raises(RuleViolation)
    )
    plain_violation(error, "to_date")


@pytest.mark.parametrize("reason", [None, "", "  "])
def test_a_notice_needs_a_reason(reason: str | None) -> None:
    error = given(*journal_events()).when(notice(reason=reason)).then_raises(RuleViolation)
    plain_violation(error, "reason")


def test_the_same_notice_id_twice_is_refused() -> None:
    error = (
        given(*journal_events(notice("n1")))
        .when(
            notice("n1", from_date=MONDAY + timedelta(days=7), to_date=MONDAY + timedelta(days=7))
        )
        .then_raises(RuleViolation)
    )
    plain_violation(error, "notice_id")


def test_a_notice_creates_one_valid_absence_per_day_except_sunday() -> None:
    # Thursday 3 September to Tuesday 8 September: six days but Sunday the 6th.
    scenario = given(*journal_events())
    scenario.when(notice(from_date=TODAY, to_date=date(2026, 9, 8), when=at(70))).then(
        (NoticeFiled, {"from_date": TODAY, "to_date": date(2026, 9, 8)})
    )
    journal = scenario.aggregate
    days = [date(2026, 9, d) for d in (3, 4, 5, 7, 8)]
    assert sorted(a.lesson_date for a in journal.absences.values()) == days
    for day in days:
        absence = journal.absences[day_id(day)]
        assert absence.subject_id is None
        assert absence.lesson_no is None
        assert (absence.code, absence.reason) == ("НУ", "санаторий")
        assert (absence.status, absence.source) == (ACTIVE, "parent_notice")
        assert (absence.recorded_by, absence.recorded_at) == (PARENT.id, at(70))
        assert absence.present_at == []
        assert [(h.action, h.code, h.actor_role) for h in absence.history] == [
            ("recorded", "НУ", "parent")
        ]
    assert day_id(SUNDAY) not in journal.absences
    filed = journal.notices["n1"]
    assert (filed.from_date, filed.to_date, filed.reason, filed.filed_by) == (
        TODAY,
        date(2026, 9, 8),
        "санаторий",
        PARENT.id,
    )


def test_a_notice_for_a_sunday_only_creates_no_absence() -> None:
    scenario = given(*journal_events())
    scenario.when(notice(from_date=SUNDAY, to_date=SUNDAY)).then((NoticeFiled, {}))
    assert scenario.aggregate.absences == {}
    assert notice_days(SUNDAY, SUNDAY) == []


def test_notice_days_skip_every_sunday_of_a_long_notice() -> None:
    days = notice_days(MONDAY, MONDAY + timedelta(days=92))
    # 93 days from a Monday: 13 full weeks and two days, so 13 Sundays.
    assert len(days) == 93 - 13
    assert all(d.weekday() != 6 for d in days)
    assert days == sorted(set(days))


def test_a_notice_replays_into_the_same_absences() -> None:
    live = replay(journal_events())
    notice(from_date=TODAY, to_date=date(2026, 9, 12))(live)
    rebuilt = replay([*journal_events(), *live.collect_events()])
    assert rebuilt.absences == live.absences
    assert rebuilt.notices == live.notices
    # 3–12 September: ten days but Sunday the 6th.
    assert len(rebuilt.absences) == 9


# --- withdrawing a notice for one lesson ------------------------------------------------------

NOTICE_DAY = day_id(MONDAY)


def test_withdrawing_a_notice_day_needs_the_lesson_subject() -> None:
    error = (
        given(*journal_events(notice()))
        .when(withdraw(NOTICE_DAY, lesson_no=2))
        .then_raises(RuleViolation)
    )
    plain_violation(error, "subject_id")


def test_withdrawing_a_notice_for_one_lesson_keeps_it_for_the_others() -> None:
    scenario = given(*journal_events(notice()))
    scenario.when(withdraw(NOTICE_DAY, subject_id="math", lesson_no=2, when=at(80))).then(
        (
            Withdrawn,
            {
                "absence_id": NOTICE_DAY,
                "subject_id": "math",
                "lesson_no": 2,
                "reason": "был на уроке",
                "actor_id": TEACHER.id,
                "timestamp": at(80),
            },
        )
    )
    absence = scenario.aggregate.absences[NOTICE_DAY]
    assert absence.status == ACTIVE
    assert absence.present_at == [("math", 2)]
    assert [(h.action, h.status) for h in absence.history] == [
        ("recorded", ACTIVE),
        ("withdrawn", ACTIVE),
    ]
    # Another lesson of the same day, by another teacher.
    scenario.when(
        withdraw(NOTICE_DAY, subject_id="rus", lesson_no=3, actor=OTHER_TEACHER, when=at(81))
    ).then((Withdrawn, {"subject_id": "rus", "lesson_no": 3}))
    assert scenario.aggregate.absences[NOTICE_DAY].present_at == [("math", 2), ("rus", 3)]
    assert scenario.aggregate.absences[NOTICE_DAY].status == ACTIVE


def test_the_same_lesson_of_a_notice_day_twice_is_already_withdrawn() -> None:
    given(*journal_events(notice(), withdraw(NOTICE_DAY, subject_id="math", lesson_no=2))).when(
        withdraw(NOTICE_DAY, subject_id="math", lesson_no=2, when=at(61))
    ).then_raises(AlreadyWithdrawn, "already-withdrawn")


def test_withdrawing_one_notice_day_leaves_the_other_days_untouched() -> None:
    events = journal_events(
        notice(from_date=MONDAY, to_date=MONDAY + timedelta(days=1)),
        withdraw(NOTICE_DAY, subject_id="math", lesson_no=1),
    )
    journal = replay(events)
    assert journal.absences[day_id(MONDAY + timedelta(days=1))].present_at == []
    assert len(journal.absences[day_id(MONDAY + timedelta(days=1))].history) == 1


def test_a_reason_can_still_be_set_on_a_notice_day() -> None:
    given(*journal_events(notice())).when(
        set_reason(NOTICE_DAY, code="Б", reason="заболел в санатории")
    ).then(
        (
            ReasonSet,
            {"code": "Б", "previous_code": "НУ", "previous_reason": "санаторий"},
        )
    )
