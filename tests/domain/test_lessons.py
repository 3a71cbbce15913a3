"""SubjectPage: lessons of a group in a subject (R-LES-1, R-LES-2)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from domain.actors import Actor
from domain.errors import RecordNotFound, RuleViolation
from domain.ids import subject_page_id
from domain.lessons import ACTIVE, CANCELLED, SubjectPage
from tests.domain.builders import DEPUTY, LESSON_DAY, ORG, SYSTEM, T0, TEACHER, YEAR, at
from tests.domain.gwt import given, replay

Recorded = SubjectPage.LessonRecorded
Changed = SubjectPage.LessonChanged
SubstituteAssigned = SubjectPage.SubstituteAssigned
Cancelled = SubjectPage.LessonCancelled

GROUP = "5a"
SUBJECT = "math"
NEXT_DAY = date(2026, 9, 4)

Command = Any


def page_events(*commands: Command) -> list[Any]:
    page = SubjectPage.open(
        org_id=ORG, year_id=YEAR, group_id=GROUP, subject_id=SUBJECT, actor=SYSTEM, at=T0
    )
    for command in commands:
        command(page)
    return list(page.collect_events())


def lesson(
    lesson_id: str = "l1",
    *,
    lesson_date: date = LESSON_DAY,
    lesson_no: Any = 2,
    topic: str | None = "Дроби",
    homework: str | None = "№ 12",
    actor: Actor = TEACHER,
    when: datetime | None = None,
    **extra: Any,
) -> Command:
    def command(p: SubjectPage) -> None:
        p.record_lesson(
            lesson_id=lesson_id,
            lesson_date=lesson_date,
            lesson_no=lesson_no,
            topic=topic,
            homework=homework,
            actor=actor,
            at=when or at(10),
            **extra,
        )

    return command


def change(
    lesson_id: str = "l1",
    *,
    topic: str | None = "Дроби",
    homework: str | None = "№ 12",
    actor: Actor = TEACHER,
    when: datetime | None = None,
    **extra: Any,
) -> Command:
    def command(p: SubjectPage) -> None:
        p.change_lesson(
            lesson_id=lesson_id,
            topic=topic,
            homework=homework,
            actor=actor,
            at=when or at(20),
            **extra,
        )

    return command


def substitute(
    lesson_id: str = "l1",
    *,
    teacher_id: str | None = "t-petrov",
    reason: str | None = "больничный",
    actor: Actor = DEPUTY,
    when: datetime | None = None,
) -> Command:
    def command(p: SubjectPage) -> None:
        p.assign_substitute(
            lesson_id=lesson_id,
            teacher_id=teacher_id,
            reason=reason,
            actor=actor,
            at=when or at(30),
        )

    return command


def cancel(
    lesson_id: str = "l1",
    *,
    reason: str | None = "карантин",
    actor: Actor = DEPUTY,
    when: datetime | None = None,
) -> Command:
    def command(p: SubjectPage) -> None:
        p.cancel_lesson(lesson_id=lesson_id, reason=reason, actor=actor, at=when or at(40))

    return command


def plain_violation(error: RuleViolation, field: str) -> None:
    assert type(error) is RuleViolation
    assert error.code == "validation-error"
    assert error.field == field


# --- opening ----------------------------------------------------------------------------------


def test_a_page_is_named_by_org_year_group_and_subject() -> None:
    page = replay(page_events())
    assert page.id == subject_page_id(ORG, YEAR, GROUP, SUBJECT)
    assert page.id == SubjectPage.create_id(ORG, YEAR, GROUP, SUBJECT)
    assert page.id != subject_page_id(ORG, YEAR, "5b", SUBJECT)
    assert page.id != subject_page_id(ORG, YEAR, GROUP, "rus")
    assert (page.org_id, page.year_id, page.group_id, page.subject_id) == (
        ORG,
        YEAR,
        GROUP,
        SUBJECT,
    )
    assert page.lessons == {}


# --- recording a lesson (R-LES-1) -------------------------------------------------------------


def test_a_lesson_is_recorded_with_date_number_topic_and_homework() -> None:
    scenario = given(*page_events())
    scenario.when(lesson(when=at(15))).then(
        (
            Recorded,
            {
                "lesson_id": "l1",
                "lesson_date": LESSON_DAY,
                "lesson_no": 2,
                "topic": "Дроби",
                "homework": "№ 12",
                "substitute_id": None,
                "late": False,
                "actor_id": TEACHER.id,
                "actor_role": "teacher",
                "timestamp": at(15),
            },
        )
    )
    recorded = scenario.aggregate.lessons["l1"]
    assert recorded.status == ACTIVE
    assert (recorded.recorded_by, recorded.recorded_at) == (TEACHER.id, at(15))
    assert recorded.fields() == {"topic": "Дроби", "homework": "№ 12"}


def test_topic_and_homework_are_trimmed_and_blank_is_none() -> None:
    given(*page_events()).when(lesson(topic="  Дроби \n", homework="   ")).then(
        (Recorded, {"topic": "Дроби", "homework": None})
    )
    given(*page_events()).when(lesson(topic=None, homework="\t№ 5 ")).then(
        (Recorded, {"topic": None, "homework": "№ 5"})
    )


@pytest.mark.parametrize("number", [1, 7, 20])
def test_lesson_numbers_1_to_20_are_accepted(number: int) -> None:
    given(*page_events()).when(lesson(lesson_no=number)).then((Recorded, {"lesson_no": number}))


@pytest.mark.parametrize("number", [0, -1, 21, 100])
def test_lesson_numbers_outside_1_to_20_are_refused(number: int) -> None:
    error = given(*page_events()).when(lesson(lesson_no=number)).then_raises(RuleViolation)
    plain_violation(error, "lesson_no")


def test_the_same_date_and_number_twice_is_refused() -> None:
    error = (
        given(*page_events(lesson("l1")))
        .when(lesson("l2", topic="Другая тема"))
        .then_raises(RuleViolation)
    )
    plain_violation(error, "lesson_no")


def test_the_same_number_on_another_date_or_another_number_on_the_date_is_fine() -> None:
    scenario = given(*page_events(lesson("l1")))
    scenario.when(lesson("l2", lesson_date=NEXT_DAY)).then((Recorded, {"lesson_id": "l2"}))
    scenario.when(lesson("l3", lesson_no=3)).then((Recorded, {"lesson_id": "l3"}))


def test_a_cancelled_lessons_slot_can_be_recorded_again() -> None:
    scenario = given(*page_events(lesson("l1"), cancel("l1")))
    scenario.when(lesson("l2", topic="Перенесённый урок")).then((Recorded, {"lesson_id": "l2"}))
    page = scenario.aggregate
    assert page.lessons["l1"].status == CANCELLED
    assert page.lesson_at(LESSON_DAY, 2) is page.lessons["l2"]


def test_the_same_lesson_id_twice_is_refused() -> None:
    error = (
        given(*page_events(lesson("l1")))
        .when(lesson("l1", lesson_date=NEXT_DAY))
        .then_raises(RuleViolation)
    )
    plain_violation(error, "lesson_id")


def test_a_lesson_may_be_recorded_with_a_substitute_and_late() -> None:
    given(*page_events()).when(lesson(substitute_id="t-petrov", late=True, actor=DEPUTY)).then(
        (Recorded, {"substitute_id": "t-petrov", "late": True, "actor_role": "deputy"})
    )


# --- changing a lesson ------------------------------------------------------------------------


def test_a_change_records_before_and_after() -> None:
    scenario = given(*page_events(lesson()))
    scenario.when(change(topic=" Сложение дробей ", homework=None, reason=" уточнение ")).then(
        (
            Changed,
            {
                "lesson_id": "l1",
                "before": {"topic": "Дроби", "homework": "№ 12"},
                "after": {"topic": "Сложение дробей", "homework": None},
                "reason": "уточнение",
                "late": False,
                "actor_id": TEACHER.id,
                "timestamp": at(20),
            },
        )
    )
    assert scenario.aggregate.lessons["l1"].fields() == {
        "topic": "Сложение дробей",
        "homework": None,
    }


@pytest.mark.parametrize(
    ("topic", "homework"),
    [("Дроби", "№ 12"), ("  Дроби ", "№ 12  "), ("Дроби", " № 12")],
)
def test_a_change_that_changes_nothing_is_refused(topic: str, homework: str) -> None:
    error = (
        given(*page_events(lesson()))
        .when(change(topic=topic, homework=homework))
        .then_raises(RuleViolation)
    )
    plain_violation(error, "topic")


def test_clearing_both_blank_fields_again_is_no_change() -> None:
    error = (
        given(*page_events(lesson(topic=None, homework="")))
        .when(change(topic="  ", homework=None))
        .then_raises(RuleViolation)
    )
    plain_violation(error, "topic")


def test_a_late_change_by_a_deputy_is_flagged() -> None:
    given(*page_events(lesson())).when(
        change(homework="№ 13", actor=DEPUTY, late=True, reason="исправление")
    ).then((Changed, {"late": True, "actor_role": "deputy", "reason": "исправление"}))


def test_an_unknown_lesson_is_not_found() -> None:
    given(*page_events()).when(change("l9", topic="x")).then_raises(RecordNotFound, "not-found")


# --- substitutions (R-LES-2) ------------------------------------------------------------------


def test_a_substitute_is_assigned_with_the_previous_one_and_a_reason() -> None:
    scenario = given(*page_events(lesson()))
    scenario.when(substitute(reason="  больничный  ")).then(
        (
            SubstituteAssigned,
            {
                "lesson_id": "l1",
                "teacher_id": "t-petrov",
                "previous_id": None,
                "reason": "больничный",
                "actor_role": "deputy",
            },
        )
    )
    assert scenario.aggregate.lessons["l1"].substitute_id == "t-petrov"


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_substitution_needs_a_reason(reason: str | None) -> None:
    error = given(*page_events(lesson())).when(substitute(reason=reason)).then_raises(RuleViolation)
    plain_violation(error, "reason")


def test_the_same_substitute_again_is_refused() -> None:
    error = (
        given(*page_events(lesson(), substitute(teacher_id="t-petrov")))
        .when(substitute(teacher_id="t-petrov", reason="повторно"))
        .then_raises(RuleViolation)
    )
    plain_violation(error, "teacher_id")


def test_another_substitute_replaces_the_first() -> None:
    given(*page_events(lesson(), substitute(teacher_id="t-petrov"))).when(
        substitute(teacher_id="t-smirnova", reason="замена замены")
    ).then((SubstituteAssigned, {"teacher_id": "t-smirnova", "previous_id": "t-petrov"}))


def test_none_removes_the_substitute() -> None:
    scenario = given(*page_events(lesson(), substitute(teacher_id="t-petrov")))
    scenario.when(substitute(teacher_id=None, reason="учитель вышел")).then(
        (SubstituteAssigned, {"teacher_id": None, "previous_id": "t-petrov"})
    )
    assert scenario.aggregate.lessons["l1"].substitute_id is None


def test_removing_a_substitute_from_a_lesson_without_one_is_refused() -> None:
    error = (
        given(*page_events(lesson()))
        .when(substitute(teacher_id=None, reason="нет"))
        .then_raises(RuleViolation)
    )
    plain_violation(error, "teacher_id")


def test_substituted_by_lists_active_lessons_of_that_teacher_and_day() -> None:
    page = replay(
        page_events(
            lesson("l1", lesson_no=1),
            lesson("l2", lesson_no=2),
            lesson("l3", lesson_no=3),
            lesson("l4", lesson_no=1, lesson_date=NEXT_DAY),
            substitute("l1", teacher_id="t-petrov"),
            substitute("l2", teacher_id="t-smirnova"),
            substitute("l3", teacher_id="t-petrov"),
            substitute("l4", teacher_id="t-petrov"),
            cancel("l3"),
        )
    )
    assert [x.lesson_id for x in page.substituted_by("t-petrov", LESSON_DAY)] == ["l1"]
    assert [x.lesson_id for x in page.substituted_by("t-smirnova", LESSON_DAY)] == ["l2"]
    assert [x.lesson_id for x in page.substituted_by("t-petrov", NEXT_DAY)] == ["l4"]
    assert page.substituted_by("t-sokolova", LESSON_DAY) == []


def test_a_removed_substitute_no_longer_substitutes() -> None:
    page = replay(
        page_events(lesson(), substitute(teacher_id="t-petrov"), substitute(teacher_id=None))
    )
    assert page.substituted_by("t-petrov", LESSON_DAY) == []


# --- cancelling (R-LES-2) ---------------------------------------------------------------------


def test_a_lesson_is_cancelled_with_a_reason() -> None:
    scenario = given(*page_events(lesson()))
    scenario.when(cancel(reason=" карантин ")).then(
        (Cancelled, {"lesson_id": "l1", "reason": "карантин", "actor_role": "deputy"})
    )
    assert scenario.aggregate.lessons["l1"].status == CANCELLED
    assert scenario.aggregate.lesson_at(LESSON_DAY, 2) is None


@pytest.mark.parametrize("reason", [None, "", "  "])
def test_cancelling_needs_a_reason(reason: str | None) -> None:
    error = given(*page_events(lesson())).when(cancel(reason=reason)).then_raises(RuleViolation)
    plain_violation(error, "reason")


@pytest.mark.parametrize(
    "command",
    [
        change(topic="Новая тема"),
        substitute(teacher_id="t-petrov"),
        cancel(reason="ещё раз"),
    ],
    ids=["change", "substitute", "cancel-again"],
)
def test_a_cancelled_lesson_cannot_be_changed(command: Command) -> None:
    error = given(*page_events(lesson(), cancel())).when(command).then_raises(RuleViolation)
    plain_violation(error, "lesson_id")


def test_replaying_a_page_rebuilds_the_same_lessons() -> None:
    live = replay(page_events())
    for command in (
        lesson("l1"),
        lesson("l2", lesson_no=3),
        change("l1", topic="Дроби: сложение"),
        substitute("l2"),
        cancel("l1"),
        lesson("l3"),
    ):
        command(live)
    rebuilt = replay([*page_events(), *live.collect_events()])
    assert rebuilt.lessons == live.lessons
    assert rebuilt.version == live.version
