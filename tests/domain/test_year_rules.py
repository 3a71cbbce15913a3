"""Closing the year (R-ARC-7), per-subject attestation schedules (R-ATT-3) and the organisation's
time zone (ADR 0007), as given-when-then scenarios on AcademicYear and Organisation."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.actors import Actor, Role
from domain.errors import YearClosed
from domain.reference import AcademicYear, GroupInfo, Membership, Organisation, Period
from domain.rules import JournalRules
from tests.domain.builders import DEPUTY, ORG, SYSTEM, T0, YEAR, at
from tests.domain.gwt import given, replay

SEP_1 = date(2026, 9, 1)
JUN_30 = date(2027, 6, 30)
ADMIN = Actor("a-smirnov", Role.ADMIN, ORG, frozenset({Role.ADMIN}))

PERIODS = [
    Period("s1", "1 полугодие", SEP_1, date(2026, 12, 31)),
    Period("s2", "2 полугодие", date(2027, 1, 9), JUN_30),
]
# Physics is attested by modules, not by semesters (R-ATT-3).
MODULES = [
    Period("m1", "Модуль 1", SEP_1, date(2026, 10, 31)),
    Period("m2", "Модуль 2", date(2026, 11, 1), date(2027, 3, 31)),
]


def roster(**overrides: Any) -> dict[str, Any]:
    wanted: dict[str, Any] = {
        "starts_on": SEP_1,
        "ends_on": JUN_30,
        "periods": list(PERIODS),
        "rules": JournalRules(),
        "groups": {"5a": GroupInfo("5 «А»", "c-ivanova", True)},
        "memberships": {("5a", "s01"): Membership(SEP_1, None)},
        "assignments": {("t-math", "5a", "math")},
    }
    wanted.update(overrides)
    return wanted


def year_events(*, subject_periods: dict[str, list[Period]] | None = None) -> list[Any]:
    """A year opened and synced with the roster (and, when given, subject schedules)."""
    year = AcademicYear.open(
        org_id=ORG, year_id=YEAR, starts_on=SEP_1, ends_on=JUN_30, actor=SYSTEM, at=T0
    )
    year.sync(**roster(), subject_periods=subject_periods, actor=SYSTEM, at=at(1))
    return list(year.collect_events())


def with_schedule(subject_id: str, periods: list[Period] | None) -> list[Any]:
    """A synced year plus a recorded schedule of one subject, without going through `sync`."""
    year = replay(year_events())
    year.trigger_event(
        AcademicYear.SubjectScheduleChanged,
        timestamp=at(2),
        actor_id=SYSTEM.id,
        actor_role=SYSTEM.role,
        subject_id=subject_id,
        before=None,
        after=[p.as_dict() for p in periods] if periods is not None else None,
    )
    return year_events() + list(year.collect_events())


def close(actor: Actor = DEPUTY, minutes: int = 100) -> Any:
    return lambda year: year.close(actor=actor, at=at(minutes))


def closed_events() -> list[Any]:
    year = replay(year_events())
    year.close(actor=DEPUTY, at=at(100))
    return list(year.collect_events())


# --- closing the year (R-ARC-7) -----------------------------------------------------------------


def test_a_new_year_is_open() -> None:
    year = replay(year_events())
    assert (year.closed_at, year.closed_by) == (None, None)
    assert year.ensure_open() is None


@pytest.mark.parametrize("who", [DEPUTY, ADMIN], ids=["deputy", "admin"])
def test_closing_records_who_closed_the_year_and_when(who: Actor) -> None:
    scenario = given(*year_events())
    scenario.when(close(who, 100)).then(
        (
            AcademicYear.Closed,
            {"actor_id": who.id, "actor_role": who.role, "timestamp": at(100)},
        )
    )
    year = scenario.aggregate
    assert (year.closed_by, year.closed_at) == (who.id, at(100))


def test_a_closed_year_replays_closed() -> None:
    rebuilt = replay(year_events() + closed_events())
    assert (rebuilt.closed_by, rebuilt.closed_at) == (DEPUTY.id, at(100))


def test_closing_a_closed_year_is_refused() -> None:
    error = (
        given(*year_events(), *closed_events())
        .when(close(ADMIN, 200))
        .then_raises(YearClosed, "year-closed")
    )
    assert "закрыт" in error.detail


def test_a_closed_year_is_not_open() -> None:
    year = replay(year_events() + closed_events())
    with pytest.raises(YearClosed) as info:
        year.ensure_open()
    assert info.value.code == "year-closed"
    # The first closing stays the one on record.
    assert (year.closed_by, year.closed_at) == (DEPUTY.id, at(100))


# --- per-subject attestation schedules (R-ATT-3) ------------------------------------------------


def test_a_subject_without_its_own_schedule_uses_the_years_periods() -> None:
    year = replay(year_events())
    assert year.subject_periods == {}
    assert list(year.periods_of("math").values()) == PERIODS


def test_a_subject_with_its_own_schedule_uses_it_and_others_keep_the_years() -> None:
    year = replay(with_schedule("phys", MODULES))
    assert list(year.periods_of("phys").values()) == MODULES
    assert list(year.periods_of("math").values()) == PERIODS


def test_an_empty_own_schedule_falls_back_to_the_years_periods() -> None:
    year = replay(with_schedule("phys", []))
    assert list(year.periods_of("phys").values()) == PERIODS


def test_a_removed_schedule_falls_back_to_the_years_periods() -> None:
    year = replay(with_schedule("phys", MODULES))
    year.trigger_event(
        AcademicYear.SubjectScheduleChanged,
        timestamp=at(3),
        actor_id=SYSTEM.id,
        actor_role=SYSTEM.role,
        subject_id="phys",
        before=[p.as_dict() for p in MODULES],
        after=None,
    )
    assert "phys" not in year.subject_periods
    assert list(year.periods_of("phys").values()) == PERIODS


# Regression: at f47a42d `sync` took `subject_periods` but never recorded them, so a roster's
# per-subject schedules (R-ATT-3) were silently dropped.


def test_a_first_sync_with_a_subject_schedule_records_it() -> None:
    scenario = given(*year_events())
    scenario.when(
        lambda year: year.sync(
            **roster(), subject_periods={"phys": MODULES}, actor=SYSTEM, at=at(2)
        )
    ).then(
        (
            AcademicYear.SubjectScheduleChanged,
            {
                "subject_id": "phys",
                "before": None,
                "after": [p.as_dict() for p in MODULES],
                "timestamp": at(2),
            },
        )
    )
    assert list(scenario.aggregate.periods_of("phys").values()) == MODULES


def test_syncing_the_same_subject_schedule_again_records_nothing() -> None:
    scenario = given(*year_events(subject_periods={"phys": MODULES}))
    assert list(scenario.aggregate.periods_of("phys").values()) == MODULES
    scenario.when(
        lambda year: year.sync(
            **roster(),
            subject_periods={"phys": [Period.from_dict(p.as_dict()) for p in MODULES]},
            actor=SYSTEM,
            at=at(2),
        )
    ).then_nothing()


def test_a_changed_subject_schedule_records_before_and_after() -> None:
    shorter = MODULES[:1]
    given(*year_events(subject_periods={"phys": MODULES})).when(
        lambda year: year.sync(
            **roster(), subject_periods={"phys": shorter}, actor=SYSTEM, at=at(2)
        )
    ).then(
        (
            AcademicYear.SubjectScheduleChanged,
            {
                "subject_id": "phys",
                "before": [p.as_dict() for p in MODULES],
                "after": [p.as_dict() for p in shorter],
            },
        )
    )


def test_a_schedule_missing_from_the_roster_is_removed() -> None:
    scenario = given(*year_events(subject_periods={"phys": MODULES}))
    scenario.when(
        lambda year: year.sync(**roster(), subject_periods={}, actor=SYSTEM, at=at(2))
    ).then(
        (
            AcademicYear.SubjectScheduleChanged,
            {"subject_id": "phys", "before": [p.as_dict() for p in MODULES], "after": None},
        )
    )
    assert list(scenario.aggregate.periods_of("phys").values()) == PERIODS


def test_a_sync_without_schedules_on_a_year_without_them_records_nothing() -> None:
    given(*year_events()).when(
        lambda year: year.sync(**roster(), actor=SYSTEM, at=at(2))
    ).then_nothing()


# --- the organisation's time zone (ADR 0007) -----------------------------------------------------


def org_events(timezone: str | None = None) -> list[Any]:
    org = Organisation.register(org_id=ORG, name="Гимназия № 1", actor=SYSTEM, at=T0)
    org.sync(
        name="Гимназия № 1",
        subjects={"math": "Математика"},
        year_id=YEAR,
        actor=SYSTEM,
        at=at(1),
        timezone=timezone,
    )
    return list(org.collect_events())


def org_sync(timezone: str | None, minutes: int = 2) -> Any:
    return lambda org: org.sync(
        name="Гимназия № 1",
        subjects={"math": "Математика"},
        year_id=YEAR,
        actor=SYSTEM,
        at=at(minutes),
        timezone=timezone,
    )


def test_a_new_organisation_has_no_timezone_of_its_own() -> None:
    assert replay(org_events()).timezone is None
    assert not any(isinstance(e, Organisation.TimezoneChanged) for e in org_events())


def test_a_timezone_change_is_recorded_once() -> None:
    scenario = given(*org_events())
    scenario.when(org_sync("Asia/Yekaterinburg")).then(
        (
            Organisation.TimezoneChanged,
            {
                "before": None,
                "after": "Asia/Yekaterinburg",
                "actor_id": "system",
                "timestamp": at(2),
            },
        )
    )
    assert scenario.aggregate.timezone == "Asia/Yekaterinburg"
    scenario.when(org_sync("Asia/Yekaterinburg", 3)).then_nothing()
    assert scenario.aggregate.timezone == "Asia/Yekaterinburg"


def test_a_first_sync_with_a_timezone_records_it_after_the_year() -> None:
    events = org_events("Europe/Moscow")
    kinds = [type(e) for e in events]
    assert kinds[:3] == [
        Organisation.Registered,
        Organisation.YearAdded,
        Organisation.TimezoneChanged,
    ]
    assert replay(events).timezone == "Europe/Moscow"


def test_moving_to_another_timezone_records_before_and_after() -> None:
    given(*org_events("Europe/Moscow")).when(org_sync("Asia/Yekaterinburg")).then(
        (Organisation.TimezoneChanged, {"before": "Europe/Moscow", "after": "Asia/Yekaterinburg"})
    )


def test_dropping_the_timezone_records_a_change_back_to_the_default() -> None:
    scenario = given(*org_events("Europe/Moscow"))
    scenario.when(org_sync(None)).then(
        (Organisation.TimezoneChanged, {"before": "Europe/Moscow", "after": None})
    )
    assert scenario.aggregate.timezone is None
