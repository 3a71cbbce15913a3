"""Who may write and read whose journal (R-ROLE, R-MARK-5, R-LES-3, R-SEC-2)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.actors import Actor, Role
from domain.errors import Forbidden, MarksDisabled, NotEnrolled, RecordNotFound, RuleViolation
from domain.policy import authorise_journal_write, visible_subjects
from domain.reference import AcademicYear, Assignment, GroupInfo, Membership
from domain.rules import JournalRules
from tests.domain.builders import ORG, SYSTEM, T0, YEAR, at

SEP_1 = date(2026, 9, 1)
SCHOOL_DAY = date(2026, 9, 10)
AFTER_TRANSFER = date(2027, 1, 15)

GROUPS = {
    "5a": GroupInfo("5 «А»", "c-ivanova", True),
    "5b": GroupInfo("5 «Б»", None, True),
    "1a": GroupInfo("1 «А»", "c-lebedeva", False),
}
MEMBERSHIPS = {
    ("5a", "s01"): Membership(SEP_1, None),
    # s02 moves from 5a to 5b after the first semester.
    ("5a", "s02"): Membership(SEP_1, date(2026, 12, 31)),
    ("5b", "s02"): Membership(date(2027, 1, 1), None),
    # s03 joins 5b only in October.
    ("5b", "s03"): Membership(date(2026, 10, 1), None),
    ("1a", "s10"): Membership(SEP_1, None),
}
ASSIGNMENTS: set[Assignment] = {
    ("t-math", "5a", "math"),
    ("t-math", "5a", "geo"),
    ("t-math", "5b", "algebra"),
    ("t-rus", "5b", "rus"),
    ("t-1a", "1a", "read"),
}


@pytest.fixture(scope="module")
def year() -> AcademicYear:
    y = AcademicYear.open(
        org_id=ORG, year_id=YEAR, starts_on=SEP_1, ends_on=date(2027, 6, 30), actor=SYSTEM, at=T0
    )
    y.sync(
        starts_on=SEP_1,
        ends_on=date(2027, 6, 30),
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
T_RUS = actor("t-rus", Role.TEACHER)
T_1A = actor("t-1a", Role.TEACHER)
CURATOR_5A = actor("c-ivanova", Role.TEACHER)
DEPUTY = actor("d-orlova", Role.DEPUTY)


def write(
    who: Actor,
    year: AcademicYear,
    student: str = "s01",
    subject: str = "math",
    day: date = SCHOOL_DAY,
    *,
    is_mark: bool = True,
) -> str:
    return authorise_journal_write(who, year, student, subject, day, is_mark=is_mark)


def refused(
    error: type[RuleViolation],
    code: str,
    who: Actor,
    year: AcademicYear,
    student: str = "s01",
    subject: str = "math",
    day: date = SCHOOL_DAY,
    *,
    is_mark: bool = True,
) -> None:
    with pytest.raises(error) as info:
        write(who, year, student, subject, day, is_mark=is_mark)
    assert type(info.value) is error
    assert info.value.code == code


# --- authorise_journal_write ---------------------------------------------------------------


@pytest.mark.parametrize("is_mark", [True, False])
def test_an_assigned_teacher_writes_as_teacher(year: AcademicYear, is_mark: bool) -> None:
    assert write(T_MATH, year, "s01", "math", is_mark=is_mark) == "teacher"
    assert write(T_MATH, year, "s01", "geo", is_mark=is_mark) == "teacher"


def test_the_role_returned_is_a_plain_string(year: AcademicYear) -> None:
    role = write(T_MATH, year)
    assert role == "teacher"
    assert type(role) is str


def test_a_teacher_with_the_subject_in_another_group_only_is_not_enrolled(
    year: AcademicYear,
) -> None:
    # t-rus teaches rus in 5b; s01 is in 5a.
    refused(NotEnrolled, "not-enrolled", T_RUS, year, "s01", "rus")
    # t-math teaches algebra in 5b only.
    refused(NotEnrolled, "not-enrolled", T_MATH, year, "s01", "algebra")


def test_a_teacher_without_the_subject_anywhere_is_forbidden(year: AcademicYear) -> None:
    refused(Forbidden, "forbidden", T_MATH, year, "s01", "rus")
    refused(Forbidden, "forbidden", CURATOR_5A, year, "s01", "math")


@pytest.mark.parametrize(
    ("day", "math_5a", "rus_5b"),
    [
        (date(2026, 12, 31), "teacher", NotEnrolled),
        (date(2027, 1, 1), NotEnrolled, "teacher"),
        (AFTER_TRANSFER, NotEnrolled, "teacher"),
    ],
)
def test_a_transferred_student_is_written_by_the_teacher_of_the_group_on_that_date(
    year: AcademicYear, day: date, math_5a: object, rus_5b: object
) -> None:
    for who, subject, expected in ((T_MATH, "math", math_5a), (T_RUS, "rus", rus_5b)):
        if expected == "teacher":
            assert write(who, year, "s02", subject, day) == "teacher"
        else:
            refused(NotEnrolled, "not-enrolled", who, year, "s02", subject, day)


def test_a_teacher_cannot_write_before_the_student_joins(year: AcademicYear) -> None:
    refused(NotEnrolled, "not-enrolled", T_RUS, year, "s03", "rus", date(2026, 9, 30))
    assert write(T_RUS, year, "s03", "rus", date(2026, 10, 1)) == "teacher"


def test_a_teacher_cannot_write_for_an_unknown_student(year: AcademicYear) -> None:
    # API.md: an unknown id is 404, not "not enrolled".
    refused(RecordNotFound, "not-found", T_MATH, year, "s99", "math")


@pytest.mark.parametrize("student", ["s01", "s02", "s10"])
def test_a_deputy_writes_as_deputy_in_any_group(year: AcademicYear, student: str) -> None:
    assert write(DEPUTY, year, student, "anything", is_mark=False) == "deputy"


def test_a_deputy_records_marks_as_deputy(year: AcademicYear) -> None:
    assert write(DEPUTY, year, "s01", "math") == "deputy"
    assert write(DEPUTY, year, "s02", "rus", AFTER_TRANSFER) == "deputy"


@pytest.mark.parametrize("is_mark", [True, False])
def test_a_deputy_cannot_write_for_a_student_in_no_group_that_day(
    year: AcademicYear, is_mark: bool
) -> None:
    refused(
        NotEnrolled, "not-enrolled", DEPUTY, year, "s03", "rus", date(2026, 9, 15), is_mark=is_mark
    )
    refused(RecordNotFound, "not-found", DEPUTY, year, "s99", "rus", is_mark=is_mark)


@pytest.mark.parametrize(
    "role", [Role.STUDENT, Role.PARENT, Role.DIRECTOR, Role.ADMIN, Role.ARCHIVIST, Role.SYSTEM]
)
@pytest.mark.parametrize("is_mark", [True, False])
def test_other_roles_cannot_write(year: AcademicYear, role: Role, is_mark: bool) -> None:
    refused(Forbidden, "forbidden", actor("x-1", role), year, "s01", "math", is_mark=is_mark)


def test_a_student_cannot_write_even_their_own_journal(year: AcademicYear) -> None:
    refused(Forbidden, "forbidden", actor("s01", Role.STUDENT), year, "s01", "math")


def test_marks_are_refused_in_a_group_with_marks_disabled(year: AcademicYear) -> None:
    refused(MarksDisabled, "marks-disabled", T_1A, year, "s10", "read")
    refused(MarksDisabled, "marks-disabled", DEPUTY, year, "s10", "read")


def test_absences_are_allowed_in_a_group_with_marks_disabled(year: AcademicYear) -> None:
    assert write(T_1A, year, "s10", "read", is_mark=False) == "teacher"
    assert write(DEPUTY, year, "s10", "read", is_mark=False) == "deputy"


def test_a_teacher_who_is_also_deputy_writes_as_teacher_where_assigned(year: AcademicYear) -> None:
    both = actor("t-math", Role.DEPUTY, Role.TEACHER)
    assert write(both, year, "s01", "math") == "teacher"
    # Outside their own load they act as deputy.
    assert write(both, year, "s01", "rus") == "deputy"
    assert write(both, year, "s10", "read", is_mark=False) == "deputy"


def test_the_decision_reads_only_the_year_it_is_given(year: AcademicYear) -> None:
    empty = AcademicYear.open(
        org_id=ORG,
        year_id="2025-2026",
        starts_on=SEP_1,
        ends_on=date(2027, 6, 30),
        actor=SYSTEM,
        at=T0,
    )
    # A student unknown to that year is not found there, whoever asks.
    refused(RecordNotFound, "not-found", T_MATH, empty, "s01", "math")
    refused(RecordNotFound, "not-found", DEPUTY, empty, "s01", "math")


# --- visible_subjects ----------------------------------------------------------------------


def test_a_student_reads_their_own_journal_in_full(year: AcademicYear) -> None:
    assert visible_subjects(actor("s01", Role.STUDENT), year, "s01", []) is None


def test_a_student_does_not_learn_that_another_journal_exists(year: AcademicYear) -> None:
    with pytest.raises(RecordNotFound) as info:
        visible_subjects(actor("s01", Role.STUDENT), year, "s02", [])
    assert info.value.code == "not-found"


def test_a_parent_reads_their_childs_journal_in_full(year: AcademicYear) -> None:
    parent = actor("p-kuznetsova", Role.PARENT)
    assert visible_subjects(parent, year, "s01", ["s01"]) is None
    assert visible_subjects(parent, year, "s02", ["s01", "s02"]) is None


@pytest.mark.parametrize("children", [[], ["s02"]])
def test_a_parent_does_not_learn_that_another_journal_exists(
    year: AcademicYear, children: list[str]
) -> None:
    with pytest.raises(RecordNotFound):
        visible_subjects(actor("p-kuznetsova", Role.PARENT), year, "s01", children)


@pytest.mark.parametrize("role", [Role.DEPUTY, Role.DIRECTOR, Role.ADMIN])
@pytest.mark.parametrize("student", ["s01", "s10", "s99"])
def test_deputy_director_and_admin_read_every_journal(
    year: AcademicYear, role: Role, student: str
) -> None:
    assert visible_subjects(actor("x-1", role), year, student, []) is None


def test_the_curator_reads_every_subject_of_their_group(year: AcademicYear) -> None:
    assert visible_subjects(CURATOR_5A, year, "s01", []) is None
    # s02 left 5a in December; the curator still reads the year's journal.
    assert visible_subjects(CURATOR_5A, year, "s02", []) is None
    assert visible_subjects(actor("c-lebedeva", Role.TEACHER), year, "s10", []) is None


def test_a_curator_of_another_group_is_forbidden(year: AcademicYear) -> None:
    with pytest.raises(Forbidden) as info:
        visible_subjects(CURATOR_5A, year, "s03", [])
    assert info.value.code == "forbidden"


def test_a_teacher_reads_only_the_subjects_they_teach_that_student(year: AcademicYear) -> None:
    assert visible_subjects(T_MATH, year, "s01", []) == frozenset({"math", "geo"})
    # s02 was in 5a and then 5b: every subject t-math taught them this year.
    assert visible_subjects(T_MATH, year, "s02", []) == frozenset({"math", "geo", "algebra"})
    assert visible_subjects(T_MATH, year, "s03", []) == frozenset({"algebra"})
    assert visible_subjects(T_RUS, year, "s03", []) == frozenset({"rus"})


@pytest.mark.parametrize(("who", "student"), [(T_RUS, "s01"), (T_1A, "s01"), (T_MATH, "s10")])
def test_an_unrelated_teacher_is_forbidden(year: AcademicYear, who: Actor, student: str) -> None:
    with pytest.raises(Forbidden):
        visible_subjects(who, year, student, [])


@pytest.mark.parametrize(
    "who",
    [
        actor("x-1", Role.DEPUTY, org="other"),
        actor("x-1", Role.DIRECTOR, org="other"),
        actor("t-math", Role.TEACHER, org="other"),
        actor("c-ivanova", Role.TEACHER, org="other"),
        actor("s01", Role.STUDENT, org="other"),
        actor("p-1", Role.PARENT, org="other"),
    ],
    ids=lambda a: f"{a.role}:{a.id}",
)
def test_an_actor_of_another_organisation_finds_nothing(year: AcademicYear, who: Actor) -> None:
    with pytest.raises(RecordNotFound) as info:
        visible_subjects(who, year, "s01", ["s01"])
    assert info.value.code == "not-found"


def test_a_teacher_who_is_also_a_parent_reads_their_own_childs_journal(
    year: AcademicYear,
) -> None:
    teacher_parent = actor("t-rus", Role.TEACHER, Role.PARENT)
    assert visible_subjects(teacher_parent, year, "s01", ["s01"]) is None
