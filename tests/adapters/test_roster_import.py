"""Roster import on both stores: whole or nothing, idempotent, only differences recorded."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from adapters.roster import RosterInvalid, parse_roster
from adapters.roster_import import import_roster
from api.bootstrap import Services
from domain.actors import system_actor
from domain.reference import AcademicYear, Person

SYSTEM = system_actor("sght")


def run_import(services: Services, doc: dict[str, Any]):
    return import_roster(services.journal, services.passwords, parse_roster(doc), SYSTEM)


def head(services: Services) -> int:
    return int(services.journal.recorder.max_notification_id() or 0)


def test_first_import_creates_aggregates_accounts_and_names(services: Services, roster) -> None:
    report = run_import(services, roster)
    assert report.events > 0 and report.position == head(services)
    year = services.journal.year("sght", "2026-2027")
    assert year.rules.weights == {"control": 2, "monitoring": 2}
    assert year.is_assigned("t1", "g1", "math")
    assert year.groups_of("s25", year.starts_on) == []
    account = services.accounts.by_username("sokolova")
    assert account is not None and account.password_hash.startswith("$argon2id$")
    assert services.personal.names("sght", ["s01"]) == {"s01": roster["students"][0]["full_name"]}


def test_events_hold_ids_not_names_or_passwords(services: Services, roster) -> None:
    run_import(services, roster)
    stored = services.journal.recorder.select_notifications(start=1, limit=10_000)
    blob = b"".join(n.state for n in stored).decode()
    for person in roster["students"] + roster["staff"] + roster["parents"]:
        assert person["full_name"] not in blob
    assert "demo-password-2025" not in blob


def test_same_document_twice_records_nothing(services: Services, roster) -> None:
    run_import(services, roster)
    before = head(services)
    again = run_import(services, roster)
    assert again.events == 0 and again.position is None
    assert head(services) == before


def test_changed_document_records_only_the_differences(services: Services, roster) -> None:
    run_import(services, roster)
    before = head(services)
    changed = copy.deepcopy(roster)
    changed["academic_year"]["rules"]["current_mark_days"] = 3
    changed["assignments"].append({"teacher_id": "t5", "group_id": "g1", "subject_id": "math"})
    changed["groups"][0]["students"][0]["to"] = "2026-12-30"  # s01 leaves at the end of S1
    report = run_import(services, changed)
    events = [
        services.journal.mapper.to_domain_event(n)
        for n in services.journal.recorder.select_notifications(start=before + 1, limit=100)
    ]
    assert sorted(type(e).__name__ for e in events) == [
        "MembershipChanged",
        "RulesChanged",
        "TeacherAssigned",
    ]
    assert report.events == 3
    rules = next(e for e in events if isinstance(e, AcademicYear.RulesChanged))
    assert (rules.before["current_mark_days"], rules.after["current_mark_days"]) == (7, 3)
    assert rules.actor_id == "system"


def test_bad_document_is_rejected_whole_naming_every_field(services: Services, roster) -> None:
    run_import(services, roster)
    before = head(services)
    bad = copy.deepcopy(roster)
    bad["academic_year"]["rules"]["current_mark_days"] = 2  # a valid change in a bad document
    bad["parents"][0]["children"] = ["nobody"]
    bad["students"][1]["password"] = "short"
    bad["assignments"].append({"teacher_id": "t5", "group_id": "g1", "subject_id": "art"})
    with pytest.raises(RosterInvalid) as info:
        run_import(services, bad)
    paths = {e["path"] for e in info.value.errors}
    assert {
        "$.parents[0].children[0]",
        "$.students[1].password",
        "$.assignments[4].subject_id",
    } <= paths
    assert head(services) == before
    assert services.journal.year("sght", "2026-2027").rules.current_mark_days == 7


def test_schema_errors_name_json_paths(roster) -> None:
    bad = copy.deepcopy(roster)
    bad["academic_year"]["rules"]["lowest_mark"] = 3
    del bad["staff"][0]["roles"]
    with pytest.raises(RosterInvalid) as info:
        parse_roster(bad)
    paths = {e["path"] for e in info.value.errors}
    assert {"$.academic_year.rules.lowest_mark", "$.staff[0].roles"} <= paths


def test_removed_person_is_deactivated_and_reactivated_on_return(
    services: Services, roster
) -> None:
    run_import(services, roster)
    without = copy.deepcopy(roster)
    gone = without["parents"].pop(0)
    run_import(services, without)
    account = services.accounts.by_username(gone["username"])
    assert account is not None and not account.active
    person = services.journal.person("sght", gone["id"])
    assert isinstance(person, Person) and not person.active
    run_import(services, roster)
    assert services.accounts.by_username(gone["username"]).active
    assert services.journal.person("sght", gone["id"]).active


def test_second_organisation_is_separate(services: Services, roster) -> None:
    run_import(services, roster)
    other = copy.deepcopy(roster)
    other["organization"] = {"id": "other", "name": "МБОУ «Школа № 2»"}
    for section in ("staff", "students", "parents"):
        for person in other[section]:
            person["username"] = "o." + person["username"]
    import_roster(services.journal, services.passwords, parse_roster(other), system_actor("other"))
    assert services.journal.year("other", "2026-2027").org_id == "other"
    assert services.accounts.by_username("o.sokolova").org_id == "other"
    assert services.accounts.by_username("sokolova").org_id == "sght"


def test_username_taken_by_another_organisation_is_rejected(services: Services, roster) -> None:
    run_import(services, roster)
    other = copy.deepcopy(roster)
    other["organization"] = {"id": "other", "name": "МБОУ «Школа № 2»"}
    with pytest.raises(RosterInvalid) as info:
        import_roster(
            services.journal, services.passwords, parse_roster(other), system_actor("other")
        )
    assert info.value.errors[0]["path"] == "$.staff[0].username"
    assert services.journal.organisation("other") is None
