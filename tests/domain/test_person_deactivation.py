"""Issue 11.8: a roster brings back whom the import switched off, not whom an admin did."""

from __future__ import annotations

from domain.actors import Actor, Role
from domain.reference import Person
from tests.domain.builders import ORG, SYSTEM, at
from tests.domain.gwt import given, replay
from tests.domain.test_reference import registered_person

ADMIN = Actor("adm1", Role.ADMIN.value, ORG, frozenset({Role.ADMIN.value}))


def test_an_administrators_deactivation_survives_the_roster() -> None:
    person = replay(registered_person())
    person.deactivate(reason="уволена", actor=ADMIN, at=at(1))
    events = person.collect_events()
    assert events[0].by_import is False
    scenario = given(*registered_person(), *events)
    assert scenario.aggregate.held_inactive
    scenario.when(
        lambda p: p.sync(roles=["teacher"], children=["s01", "s02"], actor=SYSTEM, at=at(2))
    ).then((Person.RolesChanged, {"before": ["parent", "teacher"], "after": ["teacher"]}))
    assert not scenario.aggregate.active and scenario.aggregate.held_inactive


def test_the_imports_deactivation_does_not_hold() -> None:
    person = replay(registered_person())
    person.deactivate(reason=Person.IMPORT_REASON, actor=SYSTEM, at=at(1), by_import=True)
    assert not person.active and not person.held_inactive
    assert person.deactivation is not None and person.deactivation["reason"] == "нет в списках"
