"""Who may do what, beyond marks by assigned teachers (R-ROLE, R-LES-2, R-ABS-2/3, R-ARC-7):
substitutes, curators, own-entry corrections, absence reasons, parents' notices, lessons,
substitutions, closing the year and reading a group's pages.

Given a year's roster (groups, memberships, teaching load), when an actor in a role asks,
then the decision is the role they act in, or a refusal with a stable code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from domain.actors import Actor, Role
from domain.errors import Forbidden, MarksDisabled, NotEnrolled, RecordNotFound, RuleViolation
from domain.policy import (
    authorise_absence_reason,
    authorise_journal_write,
    authorise_lesson_write,
    authorise_notice,
    authorise_own_entry_change,
    authorise_substitution,
    authorise_year_close,
    may_read_group,
)
from domain.reference import AcademicYear, Assignment, GroupInfo, Membership
from domain.rules import JournalRules
from tests.domain.builders import ORG, SYSTEM, T0, YEAR, at

SEP_1 = date(2026, 9, 1)
JUN_30 = date(2027, 6, 30)
SCHOOL_DAY = date(2026, 9, 10)
LAST_DAY_IN_5A = date(2026, 12, 31)
AFTER_TRANSFER = date(2027, 1, 15)

GROUPS = {
    "5a": GroupInfo("5 «А»", "c-ivanova", True),
    "5b": GroupInfo("5 «Б»", "c-petrova", True),
    "1a": GroupInfo("1 «А»", "c-lebedeva", False),
}
MEMBERSHIPS = {
    ("5a", "s01"): Membership(SEP_1, None),
    # s02 moves from 5a to 5b after the first semester.
    ("5a", "s02"): Membership(SEP_1, LAST_DAY_IN_5A),
    ("5b", "s02"): Membership(date(2027, 1, 1), None),
    ("1a", "s10"): Membership(SEP_1, None),
}
ASSIGNMENTS: set[Assignment] = {
    ("t-math", "5a", "math"),
    ("t-geo", "5a", "geo"),
    ("t-rus", "5b", "rus"),
    ("t-math", "5b", "math"),
    ("t-1a", "1a", "read"),
}


@pytest.fixture(scope="module")
def year() -> AcademicYear:
    y = AcademicYear.open(
        org_id=ORG, year_id=YEAR, starts_on=SEP_1, ends_on=JUN_30, actor=SYSTEM, at=T0
    )
    y.sync(
        starts_on=SEP_1,
        ends_on=JUN_30,
        periods=[],
        rules=JournalRules(),
        groups=GROUPS,
        memberships=MEMBERSHIPS,
        assignments=ASSIGNMENTS,
        actor=SYSTEM,
        at=at(1),
    )
    y.collect_events()
    return y


def actor(person: str, role: str, *roles: str, org: str = ORG) -> Actor:
    return Actor(person, role, org, frozenset({role, *roles}))


T_MATH = actor("t-math", Role.TEACHER)
T_GEO = actor("t-geo", Role.TEACHER)
T_RUS = actor("t-rus", Role.TEACHER)
T_1A = actor("t-1a", Role.TEACHER)
# A teacher with no load of their own, called in to substitute.
T_SUB = actor("t-sub", Role.TEACHER)
CURATOR_5A = actor("c-ivanova", Role.TEACHER)
CURATOR_5B = actor("c-petrova", Role.TEACHER)
CURATOR_1A = actor("c-lebedeva", Role.TEACHER)
DEPUTY = actor("d-orlova", Role.DEPUTY)
DIRECTOR = actor("dir-1", Role.DIRECTOR)
ADMIN = actor("a-smirnov", Role.ADMIN)
ARCHIVIST = actor("ar-1", Role.ARCHIVIST)
STUDENT_S01 = actor("s01", Role.STUDENT)
PARENT = actor("p-kuznetsova", Role.PARENT)


def refused(
    error: type[RuleViolation], code: str, call: Callable[..., object], *args: Any, **kw: Any
) -> RuleViolation:
    with pytest.raises(error) as info:
        call(*args, **kw)
    assert type(info.value) is error
    assert info.value.code == code
    return info.value


def write(
    who: Actor,
    year: AcademicYear,
    student: str = "s01",
    subject: str = "math",
    day: date = SCHOOL_DAY,
    **kw: Any,
) -> str:
    return authorise_journal_write(who, year, student, subject, day, **{"is_mark": True, **kw})


# --- substitutes (R-LES-2) -------------------------------------------------------------------


@pytest.mark.parametrize("is_mark", [True, False])
def test_a_substitute_writes_for_the_substituted_lesson_as_substitute(
    year: AcademicYear, is_mark: bool
) -> None:
    role = write(T_SUB, year, is_mark=is_mark, substitute_lessons=[("5a", 3)], lesson_no=3)
    assert role == "substitute"
    assert type(role) is str


def test_a_substitute_without_a_lesson_number_writes_for_the_substituted_day(
    year: AcademicYear,
) -> None:
    assert write(T_SUB, year, substitute_lessons=[("5a", 3)], lesson_no=None) == "substitute"


def test_a_substitute_of_several_lessons_writes_for_any_of_them(year: AcademicYear) -> None:
    lessons = [("5a", 2), ("5a", 5)]
    assert write(T_SUB, year, substitute_lessons=lessons, lesson_no=2) == "substitute"
    assert write(T_SUB, year, substitute_lessons=lessons, lesson_no=5) == "substitute"


@pytest.mark.parametrize("number", [1, 2, 4, 8])
def test_a_substitute_cannot_write_for_another_lesson_of_the_day(
    year: AcademicYear, number: int
) -> None:
    with pytest.raises((NotEnrolled, Forbidden)):
        write(T_SUB, year, substitute_lessons=[("5a", 3)], lesson_no=number)


def test_a_substitute_cannot_write_for_a_student_of_another_group(year: AcademicYear) -> None:
    # t-sub substitutes in 5b; s01 is in 5a.
    with pytest.raises((NotEnrolled, Forbidden)):
        write(T_SUB, year, "s01", substitute_lessons=[("5b", 3)], lesson_no=3)
    with pytest.raises((NotEnrolled, Forbidden)):
        write(T_SUB, year, "s01", substitute_lessons=[("5b", 3)], lesson_no=None)


def test_without_substituted_lessons_the_same_teacher_is_forbidden(year: AcademicYear) -> None:
    refused(Forbidden, "forbidden", write, T_SUB, year, lesson_no=3)


def test_a_substitute_follows_the_students_group_on_the_lesson_date(year: AcademicYear) -> None:
    # s02 is in 5b after the transfer: a 5a substitution no longer covers them.
    with pytest.raises((NotEnrolled, Forbidden)):
        write(T_SUB, year, "s02", day=AFTER_TRANSFER, substitute_lessons=[("5a", 1)], lesson_no=1)
    assert (
        write(T_SUB, year, "s02", day=AFTER_TRANSFER, substitute_lessons=[("5b", 1)], lesson_no=1)
        == "substitute"
    )


def test_a_substitute_in_a_group_without_marks_records_absences_only(year: AcademicYear) -> None:
    lessons = [("1a", 1)]
    refused(
        MarksDisabled,
        "marks-disabled",
        write,
        T_SUB,
        year,
        "s10",
        "read",
        substitute_lessons=lessons,
        lesson_no=1,
    )
    assert (
        write(T_SUB, year, "s10", "read", is_mark=False, substitute_lessons=lessons, lesson_no=1)
        == "substitute"
    )


def test_an_assigned_teacher_who_also_substitutes_writes_as_teacher(year: AcademicYear) -> None:
    assert write(T_MATH, year, substitute_lessons=[("5a", 3)], lesson_no=3) == "teacher"


@pytest.mark.parametrize("who", [PARENT, STUDENT_S01, DIRECTOR], ids=lambda a: a.role)
def test_only_a_teacher_can_act_as_substitute(year: AcademicYear, who: Actor) -> None:
    refused(Forbidden, "forbidden", write, who, year, substitute_lessons=[("5a", 3)], lesson_no=3)


# --- curators (R-ABS-2) -------------------------------------------------------------------------


def test_a_curator_records_an_absence_of_their_group_as_curator(year: AcademicYear) -> None:
    assert write(CURATOR_5A, year, "s01", "math", is_mark=False, allow_curator=True) == "curator"
    assert write(CURATOR_1A, year, "s10", "read", is_mark=False, allow_curator=True) == "curator"


def test_a_curator_does_not_record_marks(year: AcademicYear) -> None:
    refused(Forbidden, "forbidden", write, CURATOR_5A, year, "s01", "math", allow_curator=True)


def test_a_curator_writes_only_where_curators_are_allowed(year: AcademicYear) -> None:
    refused(Forbidden, "forbidden", write, CURATOR_5A, year, "s01", "math", is_mark=False)


def test_a_curator_follows_the_students_group_on_the_day(year: AcademicYear) -> None:
    kw: dict[str, Any] = {"is_mark": False, "allow_curator": True}
    assert write(CURATOR_5A, year, "s02", "math", LAST_DAY_IN_5A, **kw) == "curator"
    refused(Forbidden, "forbidden", write, CURATOR_5A, year, "s02", "math", AFTER_TRANSFER, **kw)
    assert write(CURATOR_5B, year, "s02", "math", AFTER_TRANSFER, **kw) == "curator"
    refused(Forbidden, "forbidden", write, CURATOR_5B, year, "s02", "math", LAST_DAY_IN_5A, **kw)


def test_a_curator_of_another_group_is_refused(year: AcademicYear) -> None:
    refused(
        Forbidden,
        "forbidden",
        write,
        CURATOR_1A,
        year,
        "s01",
        "math",
        is_mark=False,
        allow_curator=True,
    )


def test_a_teacher_of_the_subject_writes_as_teacher_even_where_curators_may(
    year: AcademicYear,
) -> None:
    assert write(T_MATH, year, is_mark=False, allow_curator=True) == "teacher"


# --- own entries (000 §4.2) ---------------------------------------------------------------------


def test_a_teacher_changes_their_own_entry() -> None:
    assert authorise_own_entry_change("teacher", T_MATH, "t-math") is None


@pytest.mark.parametrize("role", ["teacher", "substitute", "curator"])
def test_a_teacher_cannot_change_another_teachers_entry(role: str) -> None:
    refused(Forbidden, "forbidden", authorise_own_entry_change, role, T_MATH, "t-rus")


@pytest.mark.parametrize("recorded_by", ["t-math", "t-rus", "d-orlova", "system"])
def test_a_deputy_changes_anyones_entry(recorded_by: str) -> None:
    assert authorise_own_entry_change("deputy", DEPUTY, recorded_by) is None


def test_a_deputy_who_teaches_acting_as_teacher_changes_own_entries_only() -> None:
    both = actor("t-math", Role.TEACHER, Role.DEPUTY)
    refused(Forbidden, "forbidden", authorise_own_entry_change, "teacher", both, "t-rus")
    assert authorise_own_entry_change("deputy", both, "t-rus") is None


# --- absence reasons (R-ABS-2) ------------------------------------------------------------------


def reason_role(
    who: Actor,
    year: AcademicYear,
    student: str = "s01",
    subject: str | None = "math",
    day: date = SCHOOL_DAY,
) -> str:
    return authorise_absence_reason(who, year, student, subject, day)


def test_the_lessons_teacher_gives_the_reason_as_teacher(year: AcademicYear) -> None:
    assert reason_role(T_MATH, year, "s01", "math") == "teacher"
    assert reason_role(T_GEO, year, "s01", "geo") == "teacher"


def test_a_teacher_of_another_subject_of_the_group_is_forbidden(year: AcademicYear) -> None:
    refused(Forbidden, "forbidden", reason_role, T_GEO, year, "s01", "math")


def test_an_unrelated_teacher_is_forbidden(year: AcademicYear) -> None:
    refused(Forbidden, "forbidden", reason_role, T_RUS, year, "s01", "math")
    refused(Forbidden, "forbidden", reason_role, T_1A, year, "s01", None)


def test_the_curator_gives_the_reason_as_curator(year: AcademicYear) -> None:
    assert reason_role(CURATOR_5A, year, "s01", "math") == "curator"
    assert reason_role(CURATOR_5A, year, "s01", None) == "curator"


def test_a_deputy_gives_any_reason(year: AcademicYear) -> None:
    assert reason_role(DEPUTY, year, "s01", "math") == "deputy"
    assert reason_role(DEPUTY, year, "s10", None) == "deputy"


@pytest.mark.parametrize("who", [T_MATH, T_GEO], ids=lambda a: a.id)
def test_for_a_notice_day_any_teacher_of_the_students_group_gives_the_reason(
    year: AcademicYear, who: Actor
) -> None:
    assert reason_role(who, year, "s01", None) == "teacher"


def test_for_a_notice_day_the_group_is_the_one_on_that_day(year: AcademicYear) -> None:
    # s02 is in 5a until 31 December, in 5b after.
    assert reason_role(T_GEO, year, "s02", None, day=LAST_DAY_IN_5A) == "teacher"
    refused(Forbidden, "forbidden", reason_role, T_GEO, year, "s02", None, day=AFTER_TRANSFER)
    assert reason_role(T_RUS, year, "s02", None, day=AFTER_TRANSFER) == "teacher"
    refused(Forbidden, "forbidden", reason_role, T_RUS, year, "s02", None, day=LAST_DAY_IN_5A)


@pytest.mark.parametrize("who", [DIRECTOR, ADMIN, ARCHIVIST], ids=lambda a: a.role)
def test_other_staff_cannot_give_a_reason(year: AcademicYear, who: Actor) -> None:
    refused(Forbidden, "forbidden", reason_role, who, year)


def test_an_unknown_student_or_another_organisation_is_not_found(year: AcademicYear) -> None:
    refused(RecordNotFound, "not-found", reason_role, T_MATH, year, "s99")
    refused(RecordNotFound, "not-found", reason_role, actor("d-1", Role.DEPUTY, org="other"), year)


# Regression: at f47a42d a student or parent was told "forbidden" for a student of the year but
# "not found" for an unknown one.
@pytest.mark.parametrize("who", [STUDENT_S01, PARENT], ids=lambda a: a.role)
def test_a_student_or_parent_is_never_told_that_an_absence_exists(
    year: AcademicYear, who: Actor
) -> None:
    refused(RecordNotFound, "not-found", reason_role, who, year, "s01")


# --- parents' notices (R-ABS-3) -----------------------------------------------------------------


def test_a_parent_notifies_for_their_child(year: AcademicYear) -> None:
    assert authorise_notice(PARENT, year, "s01", ["s01"]) == "parent"
    assert authorise_notice(PARENT, year, "s02", ["s01", "s02"]) == "parent"


def test_a_teacher_who_is_the_childs_parent_notifies_as_parent(year: AcademicYear) -> None:
    both = actor("t-rus", Role.TEACHER, Role.PARENT)
    assert authorise_notice(both, year, "s01", ["s01"]) == "parent"


@pytest.mark.parametrize("children", [[], ["s02"]])
def test_another_parent_does_not_learn_the_child_exists(
    year: AcademicYear, children: list[str]
) -> None:
    refused(RecordNotFound, "not-found", authorise_notice, PARENT, year, "s01", children)


def test_a_student_cannot_notify_even_for_themselves(year: AcademicYear) -> None:
    refused(RecordNotFound, "not-found", authorise_notice, STUDENT_S01, year, "s01", [])


def test_a_parent_of_a_child_not_in_this_year_is_not_found(year: AcademicYear) -> None:
    refused(RecordNotFound, "not-found", authorise_notice, PARENT, year, "s99", ["s99"])


@pytest.mark.parametrize(
    "who", [T_MATH, CURATOR_5A, DEPUTY, DIRECTOR, ADMIN, ARCHIVIST], ids=lambda a: a.id
)
def test_staff_cannot_file_a_parents_notice(year: AcademicYear, who: Actor) -> None:
    refused(Forbidden, "forbidden", authorise_notice, who, year, "s01", [])


def test_a_parent_of_another_organisation_is_not_found(year: AcademicYear) -> None:
    other = actor("p-kuznetsova", Role.PARENT, org="other")
    refused(RecordNotFound, "not-found", authorise_notice, other, year, "s01", ["s01"])


# --- lessons (R-LES-1, R-LES-2) -----------------------------------------------------------------


def lesson_role(
    who: Actor,
    year: AcademicYear,
    group: str = "5a",
    subject: str = "math",
    substitute_id: str | None = None,
) -> str:
    return authorise_lesson_write(who, year, group, subject, substitute_id=substitute_id)


def test_the_groups_teacher_of_the_subject_writes_lessons_as_teacher(year: AcademicYear) -> None:
    assert lesson_role(T_MATH, year, "5a", "math") == "teacher"
    assert lesson_role(T_MATH, year, "5b", "math") == "teacher"
    assert lesson_role(T_1A, year, "1a", "read") == "teacher"


def test_the_lessons_substitute_writes_it_as_substitute(year: AcademicYear) -> None:
    assert lesson_role(T_SUB, year, substitute_id="t-sub") == "substitute"


def test_a_teacher_who_is_not_the_substitute_is_forbidden(year: AcademicYear) -> None:
    refused(Forbidden, "forbidden", lesson_role, T_SUB, year, substitute_id="t-other")
    refused(Forbidden, "forbidden", lesson_role, T_GEO, year, "5a", "math")
    refused(Forbidden, "forbidden", lesson_role, T_RUS, year, "5a", "math")


def test_a_non_teacher_named_as_substitute_is_forbidden(year: AcademicYear) -> None:
    refused(Forbidden, "forbidden", lesson_role, PARENT, year, substitute_id=PARENT.id)


def test_a_deputy_writes_any_lesson_as_deputy(year: AcademicYear) -> None:
    assert lesson_role(DEPUTY, year, "5a", "math") == "deputy"
    assert lesson_role(DEPUTY, year, "1a", "anything") == "deputy"


@pytest.mark.parametrize(
    "who", [CURATOR_5A, DIRECTOR, ADMIN, ARCHIVIST, STUDENT_S01, PARENT], ids=lambda a: a.id
)
def test_other_roles_cannot_write_lessons(year: AcademicYear, who: Actor) -> None:
    refused(Forbidden, "forbidden", lesson_role, who, year, "5a", "math")


def test_lessons_of_an_unknown_group_or_another_organisation_are_not_found(
    year: AcademicYear,
) -> None:
    refused(RecordNotFound, "not-found", lesson_role, DEPUTY, year, "9z", "math")
    refused(
        RecordNotFound, "not-found", lesson_role, actor("t-math", Role.TEACHER, org="other"), year
    )


# --- substitutions (R-LES-2) --------------------------------------------------------------------


def test_a_deputy_records_substitutions(year: AcademicYear) -> None:
    assert authorise_substitution(DEPUTY, year) == "deputy"
    assert authorise_substitution(actor("t-math", Role.TEACHER, Role.DEPUTY), year) == "deputy"


@pytest.mark.parametrize(
    "who", [T_MATH, CURATOR_5A, DIRECTOR, ADMIN, ARCHIVIST, STUDENT_S01, PARENT], ids=lambda a: a.id
)
def test_no_one_else_records_substitutions(year: AcademicYear, who: Actor) -> None:
    refused(Forbidden, "forbidden", authorise_substitution, who, year)


def test_a_deputy_of_another_organisation_finds_no_lesson(year: AcademicYear) -> None:
    refused(
        RecordNotFound,
        "not-found",
        authorise_substitution,
        actor("d-1", Role.DEPUTY, org="x"),
        year,
    )


# --- closing the year (R-ARC-7) -----------------------------------------------------------------


@pytest.mark.parametrize(("who", "role"), [(DEPUTY, "deputy"), (ADMIN, "admin")])
def test_a_deputy_or_an_administrator_closes_the_year(
    year: AcademicYear, who: Actor, role: str
) -> None:
    assert authorise_year_close(who, year) == role


def test_someone_both_deputy_and_admin_closes_as_deputy(year: AcademicYear) -> None:
    assert authorise_year_close(actor("x-1", Role.ADMIN, Role.DEPUTY), year) == "deputy"


@pytest.mark.parametrize(
    "who", [T_MATH, CURATOR_5A, DIRECTOR, ARCHIVIST, STUDENT_S01, PARENT], ids=lambda a: a.id
)
def test_no_one_else_closes_the_year(year: AcademicYear, who: Actor) -> None:
    refused(Forbidden, "forbidden", authorise_year_close, who, year)


def test_another_organisation_does_not_find_the_year(year: AcademicYear) -> None:
    refused(
        RecordNotFound, "not-found", authorise_year_close, actor("d-1", Role.DEPUTY, org="x"), year
    )


# --- reading a group's pages --------------------------------------------------------------------


def read(
    who: Actor,
    year: AcademicYear,
    group: str = "5a",
    subject: str | None = None,
    children: list[str] | None = None,
) -> None:
    may_read_group(who, year, group, subject, children or [])


@pytest.mark.parametrize("who", [DEPUTY, DIRECTOR, ADMIN], ids=lambda a: a.role)
@pytest.mark.parametrize("group", ["5a", "5b", "1a"])
def test_deputy_director_and_admin_read_every_group(
    year: AcademicYear, who: Actor, group: str
) -> None:
    assert read(who, year, group) is None
    assert read(who, year, group, "math") is None


def test_the_curator_reads_every_page_of_their_group(year: AcademicYear) -> None:
    assert read(CURATOR_5A, year, "5a") is None
    assert read(CURATOR_5A, year, "5a", "rus") is None
    refused(Forbidden, "forbidden", read, CURATOR_5A, year, "5b")


def test_a_teacher_reads_their_subjects_of_the_group(year: AcademicYear) -> None:
    assert read(T_MATH, year, "5a") is None
    assert read(T_MATH, year, "5a", "math") is None
    assert read(T_MATH, year, "5b", "math") is None
    refused(Forbidden, "forbidden", read, T_MATH, year, "5a", "geo")
    refused(Forbidden, "forbidden", read, T_RUS, year, "5a")
    refused(Forbidden, "forbidden", read, T_SUB, year, "5a", "math")


def test_an_archivist_does_not_read_an_open_years_pages(year: AcademicYear) -> None:
    refused(Forbidden, "forbidden", read, ARCHIVIST, year, "5a")


def test_a_student_reads_the_pages_of_their_groups(year: AcademicYear) -> None:
    assert read(STUDENT_S01, year, "5a", "math") is None
    s02 = actor("s02", Role.STUDENT)
    assert read(s02, year, "5a") is None
    assert read(s02, year, "5b") is None


def test_a_student_does_not_learn_of_another_groups_pages(year: AcademicYear) -> None:
    refused(RecordNotFound, "not-found", read, STUDENT_S01, year, "5b")


def test_a_parent_reads_the_groups_of_their_children(year: AcademicYear) -> None:
    assert read(PARENT, year, "5a", children=["s01"]) is None
    assert read(PARENT, year, "5b", children=["s02"]) is None
    refused(RecordNotFound, "not-found", read, PARENT, year, "5b", children=["s01"])
    refused(RecordNotFound, "not-found", read, PARENT, year, "5a", children=[])


def test_an_unknown_group_or_another_organisation_is_not_found(year: AcademicYear) -> None:
    refused(RecordNotFound, "not-found", read, DEPUTY, year, "9z")
    refused(RecordNotFound, "not-found", read, actor("d-1", Role.DEPUTY, org="x"), year, "5a")
