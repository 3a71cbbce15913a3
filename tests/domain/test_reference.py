"""Reference data (000 §3.1): a sync records only the differences; the year's queries."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.ids import academic_year_id, organisation_id, person_id
from domain.reference import (
    AcademicYear,
    Assignment,
    GroupInfo,
    Membership,
    Organisation,
    Period,
    Person,
    in_roster_order,
)
from domain.rules import JournalRules
from tests.domain.builders import ORG, SYSTEM, T0, YEAR, at
from tests.domain.gwt import given, replay

SEP_1 = date(2026, 9, 1)
JUN_30 = date(2027, 6, 30)

# --- Organisation ----------------------------------------------------------------------------

SUBJECTS = {"rus": "Русский язык", "math": "Математика"}


def registered_org(name: str = "Гимназия № 1") -> list[Any]:
    org = Organisation.register(org_id=ORG, name=name, actor=SYSTEM, at=T0)
    return list(org.collect_events())


def synced_org(**overrides: Any) -> list[Any]:
    org = Organisation.register(org_id=ORG, name="Гимназия № 1", actor=SYSTEM, at=T0)
    wanted: dict[str, Any] = {"name": "Гимназия № 1", "subjects": SUBJECTS, "year_id": YEAR}
    wanted.update(overrides)
    org.sync(**wanted, actor=SYSTEM, at=at(1))
    return list(org.collect_events())


def test_registering_an_organisation() -> None:
    [registered] = registered_org()
    assert isinstance(registered, Organisation.Registered)
    assert (registered.org_id, registered.name) == (ORG, "Гимназия № 1")
    assert (registered.actor_id, registered.actor_role, registered.timestamp) == (
        "system",
        "system",
        T0,
    )
    org = replay([registered])
    assert org.id == organisation_id(ORG) == Organisation.create_id(ORG)
    assert (org.subjects, org.years) == ({}, [])


def test_a_first_organisation_sync_adds_the_year_and_names_the_subjects_in_order() -> None:
    given(*registered_org()).when(
        lambda org: org.sync(
            name="Гимназия № 1", subjects=SUBJECTS, year_id=YEAR, actor=SYSTEM, at=at(1)
        )
    ).then(
        (Organisation.YearAdded, {"year_id": YEAR, "actor_id": "system", "timestamp": at(1)}),
        (Organisation.SubjectNamed, {"subject_id": "math", "before": None, "after": "Математика"}),
        (Organisation.SubjectNamed, {"subject_id": "rus", "before": None, "after": "Русский язык"}),
        (Organisation.SubjectsOrdered, {"before": [], "after": ["rus", "math"]}),
    )


def test_syncing_the_same_organisation_again_records_nothing() -> None:
    given(*synced_org()).when(
        lambda org: org.sync(
            name="Гимназия № 1", subjects=dict(SUBJECTS), year_id=YEAR, actor=SYSTEM, at=at(2)
        )
    ).then_nothing()


def test_a_renamed_organisation_records_before_and_after() -> None:
    given(*synced_org()).when(
        lambda org: org.sync(
            name="Лицей № 1", subjects=SUBJECTS, year_id=YEAR, actor=SYSTEM, at=at(2)
        )
    ).then((Organisation.Renamed, {"before": "Гимназия № 1", "after": "Лицей № 1"}))


def test_a_renamed_subject_records_before_and_after() -> None:
    scenario = given(*synced_org())
    scenario.when(
        lambda org: org.sync(
            name="Гимназия № 1",
            subjects={**SUBJECTS, "math": "Алгебра"},
            year_id=YEAR,
            actor=SYSTEM,
            at=at(2),
        )
    ).then(
        (
            Organisation.SubjectNamed,
            {"subject_id": "math", "before": "Математика", "after": "Алгебра"},
        )
    )
    assert scenario.aggregate.subjects == {"rus": "Русский язык", "math": "Алгебра"}


def test_a_new_year_is_added_once() -> None:
    scenario = given(*synced_org())
    scenario.when(
        lambda org: org.sync(
            name="Гимназия № 1", subjects=SUBJECTS, year_id="2027-2028", actor=SYSTEM, at=at(2)
        )
    ).then((Organisation.YearAdded, {"year_id": "2027-2028"}))
    assert scenario.aggregate.years == [YEAR, "2027-2028"]


def test_subjects_keep_the_rosters_order_not_their_ids() -> None:
    assert replay(synced_org()).subject_order == ["rus", "math"]


def test_a_reordered_roster_records_the_new_order_once() -> None:
    reordered = {"math": "Математика", "rus": "Русский язык"}
    scenario = given(*synced_org())
    scenario.when(
        lambda org: org.sync(
            name="Гимназия № 1", subjects=reordered, year_id=YEAR, actor=SYSTEM, at=at(2)
        )
    ).then(
        (
            Organisation.SubjectsOrdered,
            {
                "before": ["rus", "math"],
                "after": ["math", "rus"],
                "actor_id": "system",
                "timestamp": at(2),
            },
        )
    )
    assert scenario.aggregate.subject_order == ["math", "rus"]
    assert scenario.aggregate.subjects == SUBJECTS  # names unchanged: no SubjectNamed
    scenario.when(
        lambda org: org.sync(
            name="Гимназия № 1", subjects=reordered, year_id=YEAR, actor=SYSTEM, at=at(3)
        )
    ).then_nothing()


def test_an_organisation_stored_before_the_order_was_recorded_gets_it_at_the_next_sync() -> None:
    # Events as stored before SubjectsOrdered existed: the names, no order.
    old = [e for e in synced_org() if not isinstance(e, Organisation.SubjectsOrdered)]
    assert replay(old).subject_order == []
    given(*old).when(
        lambda org: org.sync(
            name="Гимназия № 1", subjects=SUBJECTS, year_id=YEAR, actor=SYSTEM, at=at(2)
        )
    ).then((Organisation.SubjectsOrdered, {"before": [], "after": ["rus", "math"]}))


def test_subjects_the_roster_does_not_list_come_last_by_id() -> None:
    assert in_roster_order({"math", "bio", "rus", "art"}, ["rus", "math"]) == [
        "rus",
        "math",
        "art",
        "bio",
    ]
    assert in_roster_order(["math", "rus"], []) == ["math", "rus"]


# --- AcademicYear ----------------------------------------------------------------------------

PERIODS = [
    Period("s1", "1 полугодие", SEP_1, date(2026, 12, 31)),
    Period("s2", "2 полугодие", date(2027, 1, 9), JUN_30),
]
RULES = JournalRules(current_mark_days=7, lowest_mark=2, weights={"control": 2})
GROUPS = {
    "5a": GroupInfo("5 «А»", "c-ivanova", True),
    "1a": GroupInfo("1 «А»", None, False),
}
MEMBERSHIPS = {
    ("5a", "s01"): Membership(SEP_1, None),
    ("5a", "s02"): Membership(SEP_1, date(2026, 12, 31)),
    ("1a", "s10"): Membership(SEP_1, None),
}
ASSIGNMENTS: set[Assignment] = {("t-math", "5a", "math"), ("t-rus", "5a", "rus")}


def roster(**overrides: Any) -> dict[str, Any]:
    wanted: dict[str, Any] = {
        "starts_on": SEP_1,
        "ends_on": JUN_30,
        "periods": list(PERIODS),
        "rules": RULES,
        "groups": dict(GROUPS),
        "memberships": dict(MEMBERSHIPS),
        "assignments": set(ASSIGNMENTS),
    }
    wanted.update(overrides)
    return wanted


def opened_year() -> list[Any]:
    year = AcademicYear.open(
        org_id=ORG, year_id=YEAR, starts_on=SEP_1, ends_on=JUN_30, actor=SYSTEM, at=T0
    )
    return list(year.collect_events())


def synced_year(**overrides: Any) -> list[Any]:
    year = replay(opened_year())
    year.sync(**roster(**overrides), actor=SYSTEM, at=at(1))
    return opened_year() + list(year.collect_events())


def sync(**overrides: Any) -> Any:
    return lambda year: year.sync(**roster(**overrides), actor=SYSTEM, at=at(2))


def test_opening_a_year() -> None:
    year = replay(opened_year())
    assert year.id == academic_year_id(ORG, YEAR) == AcademicYear.create_id(ORG, YEAR)
    assert (year.starts_on, year.ends_on) == (SEP_1, JUN_30)
    assert year.rules == JournalRules()
    assert (year.periods, year.groups, year.memberships, year.assignments) == ({}, {}, {}, set())
    assert year.closed_at is None


def test_a_first_year_sync_records_every_part_of_the_roster() -> None:
    given(*opened_year()).when(lambda year: year.sync(**roster(), actor=SYSTEM, at=at(1))).then(
        (
            AcademicYear.PeriodsChanged,
            {"before": [], "after": [p.as_dict() for p in PERIODS], "timestamp": at(1)},
        ),
        (
            AcademicYear.RulesChanged,
            {"before": JournalRules().as_dict(), "after": RULES.as_dict()},
        ),
        (
            AcademicYear.GroupChanged,
            {"group_id": "1a", "before": None, "after": GROUPS["1a"].as_dict()},
        ),
        (
            AcademicYear.GroupChanged,
            {
                "group_id": "5a",
                "before": None,
                "after": {"name": "5 «А»", "curator_id": "c-ivanova", "marks_enabled": True},
            },
        ),
        (
            AcademicYear.MembershipChanged,
            {
                "group_id": "1a",
                "student_id": "s10",
                "before": None,
                "after": {"from": "2026-09-01", "to": None},
            },
        ),
        (
            AcademicYear.MembershipChanged,
            {"group_id": "5a", "student_id": "s01", "before": None},
        ),
        (
            AcademicYear.MembershipChanged,
            {
                "group_id": "5a",
                "student_id": "s02",
                "after": {"from": "2026-09-01", "to": "2026-12-31"},
            },
        ),
        (
            AcademicYear.TeacherAssigned,
            {"teacher_id": "t-math", "group_id": "5a", "subject_id": "math"},
        ),
        (
            AcademicYear.TeacherAssigned,
            {"teacher_id": "t-rus", "group_id": "5a", "subject_id": "rus"},
        ),
    )


def test_a_first_sync_builds_the_state_of_the_roster() -> None:
    year = replay(synced_year())
    assert (year.starts_on, year.ends_on) == (SEP_1, JUN_30)
    assert list(year.periods.values()) == PERIODS
    assert year.rules == RULES
    assert year.groups == GROUPS
    assert year.memberships == MEMBERSHIPS
    assert year.assignments == ASSIGNMENTS


def test_default_rules_and_no_periods_record_no_rules_or_periods_event() -> None:
    given(*opened_year()).when(
        lambda year: year.sync(
            **roster(
                periods=[], rules=JournalRules(), groups={}, memberships={}, assignments=set()
            ),
            actor=SYSTEM,
            at=at(1),
        )
    ).then_nothing()


def test_syncing_the_same_year_again_records_nothing() -> None:
    given(*synced_year()).when(sync()).then_nothing()


def test_syncing_equal_but_rebuilt_values_records_nothing() -> None:
    # Equal values, new objects: the comparison is by value, not identity.
    given(*synced_year()).when(
        sync(
            rules=JournalRules.from_dict(RULES.as_dict()),
            groups={k: GroupInfo(v.name, v.curator_id, v.marks_enabled) for k, v in GROUPS.items()},
            memberships={k: Membership(v.starts_on, v.ends_on) for k, v in MEMBERSHIPS.items()},
            periods=[Period.from_dict(p.as_dict()) for p in PERIODS],
        )
    ).then_nothing()


@pytest.mark.parametrize(
    "changed",
    [
        JournalRules(current_mark_days=8, lowest_mark=2, weights={"control": 2}),
        JournalRules(current_mark_days=7, lowest_mark=1, weights={"control": 2}),
        JournalRules(current_mark_days=7, lowest_mark=2, weights={"control": 3}),
        JournalRules(current_mark_days=7, lowest_mark=2, weights={}),
        JournalRules(current_mark_days=7, attestation_mark_days=1, weights={"control": 2}),
    ],
    ids=["deadline", "lowest-mark", "weight", "no-weights", "attestation-days"],
)
def test_a_changed_rule_records_rules_changed_with_before_and_after(changed: JournalRules) -> None:
    scenario = given(*synced_year())
    scenario.when(sync(rules=changed)).then(
        (
            AcademicYear.RulesChanged,
            {
                "before": RULES.as_dict(),
                "after": changed.as_dict(),
                "actor_id": "system",
                "timestamp": at(2),
            },
        )
    )
    assert scenario.aggregate.rules == changed


def test_changed_dates_record_dates_changed() -> None:
    scenario = given(*synced_year())
    scenario.when(sync(ends_on=date(2027, 5, 31))).then(
        (
            AcademicYear.DatesChanged,
            {
                "before": {"starts_on": "2026-09-01", "ends_on": "2027-06-30"},
                "after": {"starts_on": "2026-09-01", "ends_on": "2027-05-31"},
            },
        )
    )
    assert scenario.aggregate.ends_on == date(2027, 5, 31)


def test_changed_periods_record_periods_changed() -> None:
    quarters = [Period("q1", "1 четверть", SEP_1, date(2026, 10, 26))]
    scenario = given(*synced_year())
    scenario.when(sync(periods=quarters)).then(
        (
            AcademicYear.PeriodsChanged,
            {"before": [p.as_dict() for p in PERIODS], "after": [quarters[0].as_dict()]},
        )
    )
    assert list(scenario.aggregate.periods) == ["q1"]


def test_a_group_whose_marks_get_disabled_records_group_changed() -> None:
    scenario = given(*synced_year())
    scenario.when(sync(groups={**GROUPS, "5a": GroupInfo("5 «А»", "c-ivanova", False)})).then(
        (
            AcademicYear.GroupChanged,
            {
                "group_id": "5a",
                "before": {"name": "5 «А»", "curator_id": "c-ivanova", "marks_enabled": True},
                "after": {"name": "5 «А»", "curator_id": "c-ivanova", "marks_enabled": False},
            },
        )
    )
    assert not scenario.aggregate.groups["5a"].marks_enabled


def test_a_membership_moved_to_a_new_end_date_records_membership_changed() -> None:
    left = date(2026, 11, 15)
    scenario = given(*synced_year())
    scenario.when(sync(memberships={**MEMBERSHIPS, ("5a", "s01"): Membership(SEP_1, left)})).then(
        (
            AcademicYear.MembershipChanged,
            {
                "group_id": "5a",
                "student_id": "s01",
                "before": {"from": "2026-09-01", "to": None},
                "after": {"from": "2026-09-01", "to": "2026-11-15"},
            },
        )
    )
    assert scenario.aggregate.memberships[("5a", "s01")] == Membership(SEP_1, left)


def test_a_reopened_membership_records_an_open_end() -> None:
    scenario = given(*synced_year())
    scenario.when(sync(memberships={**MEMBERSHIPS, ("5a", "s02"): Membership(SEP_1, None)})).then(
        (
            AcademicYear.MembershipChanged,
            {
                "student_id": "s02",
                "before": {"from": "2026-09-01", "to": "2026-12-31"},
                "after": {"from": "2026-09-01", "to": None},
            },
        )
    )
    assert scenario.aggregate.memberships[("5a", "s02")].ends_on is None


def test_a_membership_missing_from_the_roster_is_removed() -> None:
    remaining = {k: v for k, v in MEMBERSHIPS.items() if k != ("5a", "s02")}
    scenario = given(*synced_year())
    scenario.when(sync(memberships=remaining)).then(
        (
            AcademicYear.MembershipChanged,
            {
                "group_id": "5a",
                "student_id": "s02",
                "before": {"from": "2026-09-01", "to": "2026-12-31"},
                "after": None,
            },
        )
    )
    assert ("5a", "s02") not in scenario.aggregate.memberships
    assert not scenario.aggregate.ever_in_year("s02")


def test_a_new_assignment_records_teacher_assigned() -> None:
    given(*synced_year()).when(sync(assignments=ASSIGNMENTS | {("t-math", "1a", "math")})).then(
        (
            AcademicYear.TeacherAssigned,
            {"teacher_id": "t-math", "group_id": "1a", "subject_id": "math"},
        )
    )


def test_a_removed_assignment_records_assignment_withdrawn() -> None:
    scenario = given(*synced_year())
    scenario.when(sync(assignments={("t-math", "5a", "math")})).then(
        (
            AcademicYear.AssignmentWithdrawn,
            {"teacher_id": "t-rus", "group_id": "5a", "subject_id": "rus", "timestamp": at(2)},
        )
    )
    assert not scenario.aggregate.is_assigned("t-rus", "5a", "rus")
    assert scenario.aggregate.is_assigned("t-math", "5a", "math")


def test_a_moved_assignment_is_assigned_then_withdrawn() -> None:
    given(*synced_year()).when(
        sync(assignments={("t-math", "5a", "math"), ("t-petrov", "5a", "rus")})
    ).then(
        (AcademicYear.TeacherAssigned, {"teacher_id": "t-petrov", "subject_id": "rus"}),
        (AcademicYear.AssignmentWithdrawn, {"teacher_id": "t-rus", "subject_id": "rus"}),
    )


def test_replaying_a_synced_year_rebuilds_the_same_state() -> None:
    live = replay(synced_year())
    live.sync(
        **roster(
            rules=JournalRules(lowest_mark=1),
            memberships={("5a", "s01"): Membership(SEP_1, date(2027, 3, 1))},
            assignments={("t-rus", "5a", "rus")},
        ),
        actor=SYSTEM,
        at=at(5),
    )
    rebuilt = replay(synced_year() + list(live.collect_events()))
    for attribute in ("starts_on", "ends_on", "periods", "rules", "groups", "memberships"):
        assert getattr(rebuilt, attribute) == getattr(live, attribute), attribute
    assert rebuilt.assignments == live.assignments
    assert rebuilt.version == live.version


# --- queries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "covered"),
    [
        (date(2026, 8, 31), False),
        (date(2026, 9, 1), True),
        (date(2026, 10, 15), True),
        (date(2026, 12, 31), True),
        (date(2027, 1, 1), False),
    ],
)
def test_a_membership_covers_from_and_to_inclusive(day: date, covered: bool) -> None:
    assert Membership(SEP_1, date(2026, 12, 31)).covers(day) is covered


@pytest.mark.parametrize(
    ("day", "covered"),
    [(date(2026, 8, 31), False), (SEP_1, True), (JUN_30, True), (date(2099, 1, 1), True)],
)
def test_an_open_membership_covers_every_day_from_its_start(day: date, covered: bool) -> None:
    assert Membership(SEP_1, None).covers(day) is covered


def test_a_one_day_membership_covers_that_day_only() -> None:
    day = date(2026, 9, 10)
    m = Membership(day, day)
    assert m.covers(day)
    assert not m.covers(date(2026, 9, 9))
    assert not m.covers(date(2026, 9, 11))


def test_membership_as_dict() -> None:
    assert Membership(SEP_1, None).as_dict() == {"from": "2026-09-01", "to": None}
    assert Membership(SEP_1, JUN_30).as_dict() == {"from": "2026-09-01", "to": "2027-06-30"}


TRANSFER = {
    ("5a", "s02"): Membership(SEP_1, date(2026, 12, 31)),
    ("5b", "s02"): Membership(date(2027, 1, 1), None),
    ("5a", "s01"): Membership(SEP_1, None),
    ("elective", "s01"): Membership(date(2026, 10, 1), date(2026, 10, 31)),
}


@pytest.mark.parametrize(
    ("student", "day", "groups"),
    [
        ("s02", date(2026, 8, 31), []),
        ("s02", SEP_1, ["5a"]),
        ("s02", date(2026, 12, 31), ["5a"]),
        ("s02", date(2027, 1, 1), ["5b"]),
        ("s02", JUN_30, ["5b"]),
        ("s01", date(2026, 9, 30), ["5a"]),
        ("s01", date(2026, 10, 1), ["5a", "elective"]),
        ("s01", date(2026, 10, 31), ["5a", "elective"]),
        ("s01", date(2026, 11, 1), ["5a"]),
        ("s99", date(2026, 10, 1), []),
    ],
)
def test_groups_of_a_student_on_a_day(student: str, day: date, groups: list[str]) -> None:
    year = replay(synced_year(memberships=TRANSFER))
    assert year.groups_of(student, day) == groups


def test_ever_in_year() -> None:
    year = replay(synced_year(memberships=TRANSFER))
    assert year.ever_in_year("s01")
    assert year.ever_in_year("s02")
    assert not year.ever_in_year("s99")


def test_questions_about_a_student_follow_membership_changes_asked_before() -> None:
    # The memberships by student are built at the first question; a change must reach the
    # next one (a transfer, a new student, a membership removed).
    year = replay(synced_year(memberships=TRANSFER))
    assert year.groups_of("s02", date(2027, 1, 1)) == ["5b"]
    assert not year.ever_in_year("s03")
    year.sync(
        **roster(
            memberships={
                ("5a", "s02"): Membership(SEP_1, None),
                ("5b", "s03"): Membership(SEP_1, None),
            }
        ),
        actor=SYSTEM,
        at=at(2),
    )
    assert year.groups_of("s02", date(2027, 1, 1)) == ["5a"]
    assert year.groups_of("s03", SEP_1) == ["5b"]
    assert not year.ever_in_year("s01")
    assert year.memberships_of("s03") == {"5b": Membership(SEP_1, None)}


def test_is_assigned_needs_teacher_group_and_subject_to_match() -> None:
    year = replay(synced_year())
    assert year.is_assigned("t-math", "5a", "math")
    assert not year.is_assigned("t-math", "5a", "rus")
    assert not year.is_assigned("t-math", "1a", "math")
    assert not year.is_assigned("t-rus", "5a", "math")


def test_teaches_covers_any_group_the_student_was_ever_in_this_year() -> None:
    year = replay(
        synced_year(
            memberships=TRANSFER,
            assignments={("t-math", "5a", "math"), ("t-geo", "5b", "geo"), ("t-1a", "1a", "read")},
        )
    )
    # s02 left 5a at the end of December: t-math still taught them this year.
    assert year.teaches("t-math", "s02")
    assert year.teaches("t-math", "s02", "math")
    assert not year.teaches("t-math", "s02", "geo")
    assert year.teaches("t-geo", "s02", "geo")
    assert not year.teaches("t-geo", "s01")
    assert not year.teaches("t-1a", "s01")
    assert not year.teaches("t-math", "s99")


# --- Person ----------------------------------------------------------------------------------


def registered_person(
    roles: list[str] | None = None, children: list[str] | None = None
) -> list[Any]:
    person = Person.register(
        org_id=ORG,
        person="p-kuznetsova",
        kind="staff",
        roles=roles if roles is not None else ["teacher", "parent"],
        children=children if children is not None else ["s02", "s01"],
        actor=SYSTEM,
        at=T0,
    )
    return list(person.collect_events())


def test_registering_a_person_sorts_roles_and_children() -> None:
    [registered] = registered_person()
    assert isinstance(registered, Person.Registered)
    assert registered.roles == ["parent", "teacher"]
    assert registered.children == ["s01", "s02"]
    person = replay([registered])
    assert person.id == person_id(ORG, "p-kuznetsova") == Person.create_id(ORG, "p-kuznetsova")
    assert (person.kind, person.roles, person.children, person.active) == (
        "staff",
        ["parent", "teacher"],
        ["s01", "s02"],
        True,
    )


def test_syncing_the_same_person_records_nothing_whatever_the_order() -> None:
    given(*registered_person()).when(
        lambda p: p.sync(
            roles=["teacher", "parent"], children=["s02", "s01"], actor=SYSTEM, at=at(1)
        )
    ).then_nothing()


def test_changed_roles_record_roles_changed() -> None:
    scenario = given(*registered_person())
    scenario.when(
        lambda p: p.sync(
            roles=["teacher", "deputy"], children=["s01", "s02"], actor=SYSTEM, at=at(1)
        )
    ).then(
        (
            Person.RolesChanged,
            {"before": ["parent", "teacher"], "after": ["deputy", "teacher"], "timestamp": at(1)},
        )
    )
    assert scenario.aggregate.roles == ["deputy", "teacher"]


def test_changed_children_record_children_changed() -> None:
    scenario = given(*registered_person())
    scenario.when(
        lambda p: p.sync(roles=["parent", "teacher"], children=["s01"], actor=SYSTEM, at=at(1))
    ).then((Person.ChildrenChanged, {"before": ["s01", "s02"], "after": ["s01"]}))
    assert scenario.aggregate.children == ["s01"]


def test_deactivating_records_the_reason_once() -> None:
    scenario = given(*registered_person())
    scenario.when(lambda p: p.deactivate(reason="уволена", actor=SYSTEM, at=at(1))).then(
        (Person.Deactivated, {"reason": "уволена", "actor_id": "system", "timestamp": at(1)})
    )
    assert not scenario.aggregate.active
    scenario.when(lambda p: p.deactivate(reason="ещё раз", actor=SYSTEM, at=at(2))).then_nothing()


def test_a_deactivated_person_back_in_the_roster_is_reactivated_first() -> None:
    person = replay(registered_person())
    person.deactivate(reason="нет в списках", actor=SYSTEM, at=at(1), by_import=True)
    scenario = given(*registered_person(), *person.collect_events())
    scenario.when(
        lambda p: p.sync(roles=["teacher"], children=["s01", "s02"], actor=SYSTEM, at=at(2))
    ).then(
        (Person.Reactivated, {"reason": "снова в списках"}),
        (Person.RolesChanged, {"before": ["parent", "teacher"], "after": ["teacher"]}),
    )
    assert scenario.aggregate.active
