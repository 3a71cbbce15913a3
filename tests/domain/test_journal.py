"""StudentJournal: recording, correcting, cancelling marks; recording absences (R-MARK, R-ABS)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.actors import Actor, Role
from domain.errors import AlreadyCancelled, InvalidMark, RecordNotFound, RuleViolation
from domain.ids import journal_id
from domain.journal import ACTIVE, CANCELLED, StudentJournal
from domain.rules import ABSENCE_CODES, WORK_KINDS, JournalRules
from tests.domain.builders import (
    DEPUTY,
    LESSON_DAY,
    ORG,
    RULES,
    RULES_WITH_ONE,
    STUDENT,
    SYSTEM,
    T0,
    TEACHER,
    YEAR,
    absent,
    at,
    cancel,
    correct,
    journal_events,
    record,
)
from tests.domain.gwt import given, replay

Recorded = StudentJournal.MarkRecorded
Corrected = StudentJournal.MarkCorrected
Cancelled = StudentJournal.MarkCancelled
AbsenceRecorded = StudentJournal.AbsenceRecorded


def plain_violation(error: RuleViolation, field: str) -> None:
    """A generic rule violation (not one of the specific subclasses) about `field`."""
    assert type(error) is RuleViolation
    assert error.code == "validation-error"
    assert error.field == field


# --- opening -------------------------------------------------------------------------------


def test_opening_records_who_opened_the_journal_and_when() -> None:
    journal = StudentJournal.open(org_id=ORG, year_id=YEAR, student_id=STUDENT, actor=SYSTEM, at=T0)
    [opened] = journal.collect_events()
    assert isinstance(opened, StudentJournal.Opened)
    assert (opened.org_id, opened.year_id, opened.student_id) == (ORG, YEAR, STUDENT)
    assert (opened.actor_id, opened.actor_role, opened.timestamp) == ("system", "system", T0)
    assert (
        journal.id == journal_id(ORG, YEAR, STUDENT) == StudentJournal.create_id(ORG, YEAR, STUDENT)
    )
    assert journal.marks == {} and journal.absences == {}


def test_the_same_student_and_year_always_name_the_same_journal() -> None:
    assert journal_id(ORG, YEAR, STUDENT) == journal_id(ORG, YEAR, STUDENT)
    assert journal_id(ORG, YEAR, STUDENT) != journal_id(ORG, YEAR, "s02")
    assert journal_id(ORG, YEAR, STUDENT) != journal_id(ORG, "2027-2028", STUDENT)
    assert journal_id(ORG, YEAR, STUDENT) != journal_id("other", YEAR, STUDENT)


# --- recording a mark (R-MARK-1) -----------------------------------------------------------


def test_a_mark_is_recorded_with_every_field_author_role_and_time() -> None:
    given(*journal_events()).when(
        record(
            "m1",
            value=5,
            work_kind="written",
            subject_id="rus",
            lesson_date=date(2026, 9, 2),
            lesson_no=3,
            comment="диктант",
            when=at(15),
        )
    ).then(
        (
            Recorded,
            {
                "mark_id": "m1",
                "subject_id": "rus",
                "lesson_date": date(2026, 9, 2),
                "lesson_no": 3,
                "work_kind": "written",
                "value": 5,
                "weight": 1,
                "comment": "диктант",
                "reason": None,
                "actor_id": TEACHER.id,
                "actor_role": "teacher",
                "timestamp": at(15),
            },
        )
    )


def test_a_recorded_mark_is_active_with_one_version() -> None:
    journal = replay(journal_events(record("m1", value=5, when=at(15))))
    mark = journal.marks["m1"]
    assert mark.status == ACTIVE
    assert mark.value == 5
    assert mark.recorded_by == TEACHER.id
    assert mark.recorded_at == at(15)
    assert not mark.corrected
    assert [
        (v.value, v.status, v.actor_id, v.actor_role, v.occurred_at, v.reason)
        for v in mark.versions
    ] == [(5, ACTIVE, TEACHER.id, "teacher", at(15), None)]


@pytest.mark.parametrize("value", [2, 3, 4, 5])
def test_marks_2_to_5_are_accepted_on_the_default_scale(value: int) -> None:
    given(*journal_events()).when(record(value=value)).then((Recorded, {"value": value}))


@pytest.mark.parametrize("value", [1, 2, 3, 4, 5])
def test_marks_1_to_5_are_accepted_where_the_school_allows_1(value: int) -> None:
    given(*journal_events()).when(record(value=value, rules=RULES_WITH_ONE)).then(
        (Recorded, {"value": value})
    )


@pytest.mark.parametrize("value", [1, 0, -1, 6, 10])
def test_marks_outside_2_to_5_are_rejected_on_the_default_scale(value: int) -> None:
    error = (
        given(*journal_events()).when(record(value=value)).then_raises(InvalidMark, "invalid-mark")
    )
    assert error.field == "value"


@pytest.mark.parametrize("value", [0, -1, 6])
def test_marks_outside_1_to_5_are_rejected_where_the_school_allows_1(value: int) -> None:
    given(*journal_events()).when(record(value=value, rules=RULES_WITH_ONE)).then_raises(
        InvalidMark, "invalid-mark"
    )


def test_the_default_rules_have_lowest_mark_2() -> None:
    given(*journal_events()).when(record(value=1, rules=JournalRules())).then_raises(
        InvalidMark, "invalid-mark"
    )


@pytest.mark.parametrize("value", [True, False, 4.0, 5.5, "5", None, [5]], ids=repr)
@pytest.mark.parametrize("rules", [RULES, RULES_WITH_ONE], ids=["lowest-2", "lowest-1"])
def test_a_bool_or_non_integer_value_is_not_a_mark(value: Any, rules: JournalRules) -> None:
    # True == 1 in Python: with lowest_mark 1 it would pass a plain range check.
    error = (
        given(*journal_events())
        .when(record(value=value, rules=rules))
        .then_raises(InvalidMark, "invalid-mark")
    )
    assert error.field == "value"


@pytest.mark.parametrize("work_kind", WORK_KINDS)
def test_every_kind_of_work_of_the_vocabulary_is_accepted(work_kind: str) -> None:
    given(*journal_events()).when(record(work_kind=work_kind)).then(
        (Recorded, {"work_kind": work_kind})
    )


@pytest.mark.parametrize("work_kind", ["exam", "", "Oral", "oral ", "устный"])
def test_an_unknown_kind_of_work_is_a_validation_error(work_kind: str) -> None:
    error = (
        given(*journal_events())
        .when(record(work_kind=work_kind))
        .then_raises(RuleViolation, "validation-error")
    )
    plain_violation(error, "work_kind")


def test_a_mark_id_cannot_be_recorded_twice() -> None:
    error = (
        given(*journal_events(record("m1", value=5)))
        .when(record("m1", value=3))
        .then_raises(RuleViolation, "validation-error")
    )
    plain_violation(error, "mark_id")


def test_a_cancelled_mark_id_cannot_be_reused() -> None:
    given(*journal_events(record("m1"), cancel("m1"))).when(record("m1")).then_raises(
        RuleViolation, "validation-error"
    )


def test_a_second_mark_with_another_id_is_recorded() -> None:
    journal = replay(journal_events(record("m1", value=5), record("m2", value=3)))
    assert {k: m.value for k, m in journal.marks.items()} == {"m1": 5, "m2": 3}


@pytest.mark.parametrize(
    ("work_kind", "weight"), [("control", 2), ("test", 3), ("oral", 1), ("homework", 1)]
)
def test_the_weight_comes_from_the_rules_default_1(work_kind: str, weight: int) -> None:
    given(*journal_events()).when(record(work_kind=work_kind)).then((Recorded, {"weight": weight}))


def test_with_no_weights_every_kind_weighs_1() -> None:
    given(*journal_events()).when(record(work_kind="control", rules=JournalRules())).then(
        (Recorded, {"weight": 1})
    )


def test_the_weight_is_fixed_when_the_mark_is_recorded() -> None:
    heavier = JournalRules(weights={"control": 5})
    events = journal_events(record("m1", work_kind="control", value=4, rules=RULES))
    scenario = given(*events)
    scenario.when(correct("m1", value=5, rules=heavier)).then(
        (Corrected, {"value": 5, "previous_value": 4})
    )
    assert scenario.aggregate.marks["m1"].weight == 2


def test_an_empty_comment_and_a_blank_reason_are_stored_as_none() -> None:
    given(*journal_events()).when(record(comment="", reason="   ")).then(
        (Recorded, {"comment": None, "reason": None})
    )


def test_the_reason_of_a_recorded_mark_is_stripped() -> None:
    given(*journal_events()).when(record(reason="  за отсутствовавшего  ")).then(
        (Recorded, {"reason": "за отсутствовавшего"})
    )


def test_a_deputy_recording_a_mark_is_recorded_as_deputy() -> None:
    given(*journal_events()).when(record(actor=DEPUTY, when=at(99))).then(
        (Recorded, {"actor_id": DEPUTY.id, "actor_role": "deputy", "timestamp": at(99)})
    )


# --- correcting a mark (R-MARK-3) ----------------------------------------------------------


def test_a_correction_is_a_new_event_with_previous_value_author_time_and_reason() -> None:
    given(*journal_events(record("m1", value=5))).when(
        correct("m1", value=4, reason="  опечатка ", actor=DEPUTY, when=at(45))
    ).then(
        (
            Corrected,
            {
                "mark_id": "m1",
                "value": 4,
                "previous_value": 5,
                "reason": "опечатка",
                "actor_id": DEPUTY.id,
                "actor_role": "deputy",
                "timestamp": at(45),
            },
        )
    )


def test_a_correction_never_overwrites_the_history() -> None:
    journal = replay(
        journal_events(
            record("m1", value=5, when=at(1)),
            correct("m1", value=4, reason="опечатка", when=at(2)),
            correct("m1", value=3, reason="перепроверил", actor=DEPUTY, when=at(3)),
        )
    )
    mark = journal.marks["m1"]
    assert mark.value == 3
    assert mark.corrected
    assert mark.status == ACTIVE
    # The original author, time and weight stay.
    assert (mark.recorded_by, mark.recorded_at, mark.weight) == (TEACHER.id, at(1), 1)
    assert [
        (v.value, v.status, v.actor_id, v.actor_role, v.occurred_at, v.reason)
        for v in mark.versions
    ] == [
        (5, ACTIVE, TEACHER.id, "teacher", at(1), None),
        (4, ACTIVE, TEACHER.id, "teacher", at(2), "опечатка"),
        (3, ACTIVE, DEPUTY.id, "deputy", at(3), "перепроверил"),
    ]


def test_a_second_correction_records_the_corrected_value_as_previous() -> None:
    given(*journal_events(record("m1", value=4), correct("m1", value=3))).when(
        correct("m1", value=5)
    ).then((Corrected, {"value": 5, "previous_value": 3}))


@pytest.mark.parametrize("reason", [None, "", " ", "\t\n  "], ids=repr)
def test_a_correction_needs_a_reason(reason: str | None) -> None:
    error = (
        given(*journal_events(record("m1", value=5)))
        .when(correct("m1", value=4, reason=reason))
        .then_raises(RuleViolation, "validation-error")
    )
    plain_violation(error, "reason")


def test_a_correction_must_change_the_value() -> None:
    error = (
        given(*journal_events(record("m1", value=5)))
        .when(correct("m1", value=5))
        .then_raises(RuleViolation, "validation-error")
    )
    plain_violation(error, "value")


def test_correcting_back_to_the_original_value_is_a_change() -> None:
    given(*journal_events(record("m1", value=5), correct("m1", value=4))).when(
        correct("m1", value=5)
    ).then((Corrected, {"value": 5, "previous_value": 4}))


@pytest.mark.parametrize("value", [1, 0, 6, True, 4.0, "4"], ids=repr)
def test_a_correction_stays_within_the_scale(value: Any) -> None:
    given(*journal_events(record("m1", value=5))).when(correct("m1", value=value)).then_raises(
        InvalidMark, "invalid-mark"
    )


def test_a_correction_to_1_is_allowed_where_the_school_allows_1() -> None:
    given(*journal_events(record("m1", value=2, rules=RULES_WITH_ONE))).when(
        correct("m1", value=1, rules=RULES_WITH_ONE)
    ).then((Corrected, {"value": 1, "previous_value": 2}))


def test_correcting_an_unknown_mark_is_not_found() -> None:
    given(*journal_events(record("m1"))).when(correct("m2")).then_raises(
        RecordNotFound, "not-found"
    )


def test_correcting_a_cancelled_mark_is_already_cancelled() -> None:
    given(*journal_events(record("m1", value=5), cancel("m1"))).when(
        correct("m1", value=4)
    ).then_raises(AlreadyCancelled, "already-cancelled")


def test_the_corrected_mark_keeps_its_weight_and_kind() -> None:
    journal = replay(
        journal_events(record("m1", value=5, work_kind="test"), correct("m1", value=3))
    )
    mark = journal.marks["m1"]
    assert (mark.work_kind, mark.weight, mark.value) == ("test", 3, 3)


# --- cancelling a mark ---------------------------------------------------------------------


def test_a_cancellation_records_author_time_and_stripped_reason() -> None:
    given(*journal_events(record("m1", value=5))).when(
        cancel("m1", reason=" не тот ученик ", actor=DEPUTY, when=at(50))
    ).then(
        (
            Cancelled,
            {
                "mark_id": "m1",
                "reason": "не тот ученик",
                "actor_id": DEPUTY.id,
                "actor_role": "deputy",
                "timestamp": at(50),
            },
        )
    )


def test_a_cancelled_mark_stays_in_the_history() -> None:
    journal = replay(
        journal_events(
            record("m1", value=5, when=at(1)),
            correct("m1", value=4, reason="опечатка", when=at(2)),
            cancel("m1", reason="не тот ученик", when=at(3)),
        )
    )
    mark = journal.marks["m1"]
    assert mark.status == CANCELLED
    assert mark.value == 4
    assert [(v.value, v.status, v.reason) for v in mark.versions] == [
        (5, ACTIVE, None),
        (4, ACTIVE, "опечатка"),
        (4, CANCELLED, "не тот ученик"),
    ]


@pytest.mark.parametrize("reason", [None, "", "   "], ids=repr)
def test_a_cancellation_needs_a_reason(reason: str | None) -> None:
    error = (
        given(*journal_events(record("m1")))
        .when(cancel("m1", reason=reason))
        .then_raises(RuleViolation, "validation-error")
    )
    plain_violation(error, "reason")


def test_a_mark_cannot_be_cancelled_twice() -> None:
    given(*journal_events(record("m1"), cancel("m1"))).when(cancel("m1")).then_raises(
        AlreadyCancelled, "already-cancelled"
    )


def test_cancelling_an_unknown_mark_is_not_found() -> None:
    given(*journal_events()).when(cancel("m1")).then_raises(RecordNotFound, "not-found")


def test_cancelling_one_mark_leaves_the_others_active() -> None:
    journal = replay(journal_events(record("m1"), record("m2"), cancel("m1")))
    assert journal.marks["m1"].status == CANCELLED
    assert journal.marks["m2"].status == ACTIVE


def test_mark_lookup_errors() -> None:
    journal = replay(journal_events(record("m1"), cancel("m1")))
    assert journal.mark("m1").mark_id == "m1"
    with pytest.raises(RecordNotFound):
        journal.mark("nope")
    with pytest.raises(AlreadyCancelled):
        journal.active_mark("m1")


# --- absences (R-ABS) ----------------------------------------------------------------------


@pytest.mark.parametrize("code", ABSENCE_CODES)
def test_each_absence_code_is_recorded(code: str) -> None:
    given(*journal_events()).when(
        absent(
            "a1",
            code=code,
            subject_id="rus",
            lesson_date=date(2026, 9, 4),
            lesson_no=2,
            reason=" справка ",
            when=at(70),
        )
    ).then(
        (
            AbsenceRecorded,
            {
                "absence_id": "a1",
                "subject_id": "rus",
                "lesson_date": date(2026, 9, 4),
                "lesson_no": 2,
                "code": code,
                "reason": "справка",
                "source": "teacher",
                "actor_id": TEACHER.id,
                "actor_role": "teacher",
                "timestamp": at(70),
            },
        )
    )


# "H" and "HH" are Latin look-alikes of the Cyrillic codes.
@pytest.mark.parametrize("code", ["H", "HH", "н", "нн", "У", "", "НН ", "N"])
def test_other_absence_codes_are_rejected(code: str) -> None:
    error = (
        given(*journal_events())
        .when(absent(code=code))
        .then_raises(RuleViolation, "validation-error")
    )
    plain_violation(error, "code")


@pytest.mark.parametrize("source", ["teacher", "curator"])
def test_each_absence_source_is_accepted(source: str) -> None:
    given(*journal_events()).when(absent(source=source)).then((AbsenceRecorded, {"source": source}))


# parent_notice absences come only from a parent's notice (file_absence_notice).
@pytest.mark.parametrize("source", ["parent", "deputy", "", "Teacher", "parent_notice"])
def test_other_absence_sources_are_rejected(source: str) -> None:
    error = (
        given(*journal_events())
        .when(absent(source=source))
        .then_raises(RuleViolation, "validation-error")
    )
    plain_violation(error, "source")


def test_an_absence_without_a_reason_has_reason_none() -> None:
    given(*journal_events()).when(absent(code="Н")).then(
        (AbsenceRecorded, {"reason": None, "lesson_no": None, "source": "teacher"})
    )


def test_an_absence_id_cannot_be_recorded_twice() -> None:
    error = (
        given(*journal_events(absent("a1", code="НН")))
        .when(absent("a1", code="НУ"))
        .then_raises(RuleViolation, "validation-error")
    )
    plain_violation(error, "absence_id")


def test_a_recorded_absence_is_active_with_author_and_time() -> None:
    curator = Actor("c-ivanova", Role.TEACHER, ORG)
    journal = replay(
        journal_events(absent("a1", code="Б", source="curator", actor=curator, when=at(5)))
    )
    absence = journal.absences["a1"]
    assert (absence.status, absence.code, absence.source) == (ACTIVE, "Б", "curator")
    assert (absence.recorded_by, absence.recorded_at) == ("c-ivanova", at(5))
    assert journal.absence("a1") is absence
    assert journal.active_absence("a1") is absence
    with pytest.raises(RecordNotFound):
        journal.absence("a2")


def test_marks_and_absences_of_one_lesson_live_side_by_side() -> None:
    journal = replay(journal_events(record("m1"), absent("a1"), absent("a2", code="НУ")))
    assert set(journal.marks) == {"m1"}
    assert set(journal.absences) == {"a1", "a2"}
    assert journal.marks["m1"].subject_id == journal.absences["a2"].subject_id == "math"
    with pytest.raises(RecordNotFound):
        journal.absence("m1")


# --- every event is audited ----------------------------------------------------------------


def test_every_event_carries_its_actor_role_and_injected_time() -> None:
    events = journal_events(
        record("m1", value=5, actor=TEACHER, when=at(1)),
        correct("m1", value=4, actor=DEPUTY, when=at(2)),
        cancel("m1", actor=TEACHER, when=at(3)),
        absent("a1", actor=DEPUTY, when=at(4)),
        opened_by=SYSTEM,
    )
    assert [(type(e), e.actor_id, e.actor_role, e.timestamp) for e in events] == [
        (StudentJournal.Opened, "system", "system", T0),
        (Recorded, TEACHER.id, "teacher", at(1)),
        (Corrected, DEPUTY.id, "deputy", at(2)),
        (Cancelled, TEACHER.id, "teacher", at(3)),
        (AbsenceRecorded, DEPUTY.id, "deputy", at(4)),
    ]
    assert [e.originator_version for e in events] == [1, 2, 3, 4, 5]
    journal = replay(events)
    assert journal.version == 5
    assert journal.modified_on == at(4)


def test_replaying_the_events_rebuilds_the_same_journal() -> None:
    commands = (
        record("m1", value=5),
        record("m2", value=3, work_kind="control"),
        correct("m2", value=4),
        cancel("m1"),
        absent("a1", code="НУ", reason="справка"),
    )
    live = StudentJournal.open(org_id=ORG, year_id=YEAR, student_id=STUDENT, actor=SYSTEM, at=T0)
    for command in commands:
        command(live)
    rebuilt = replay(live.collect_events())
    assert rebuilt.marks == live.marks
    assert rebuilt.absences == live.absences
    assert rebuilt.version == live.version
    assert (rebuilt.org_id, rebuilt.year_id, rebuilt.student_id) == (ORG, YEAR, STUDENT)


def test_optional_fields_of_a_mark_default_to_none() -> None:
    given(*journal_events()).when(record(lesson_date=LESSON_DAY)).then(
        (Recorded, {"lesson_date": LESSON_DAY, "lesson_no": None, "comment": None})
    )


def test_rules_used_are_the_ones_passed_not_a_global() -> None:
    # The same journal accepts 1 under one organisation's rules and refuses it under another's.
    events = journal_events()
    given(*events).when(record("m1", value=1, rules=RULES_WITH_ONE)).then((Recorded, {"value": 1}))
    given(*events).when(record("m1", value=1, rules=RULES)).then_raises(InvalidMark)
