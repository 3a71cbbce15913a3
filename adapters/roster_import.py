"""Importing a roster: reference data becomes events; accounts and names go to their tables.

All events of one import are saved in one transaction, so a document either applies whole or
not at all. Only differences are recorded: the same document twice records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.accounts import Account, Accounts, PersonalData
from adapters.journal_app import EJournal
from adapters.passwords import Passwords
from adapters.roster import RosterDocument, RosterInvalid
from domain.actors import Actor, Role
from domain.errors import Forbidden, RecordNotFound
from domain.reference import AcademicYear, GroupInfo, Membership, Organisation, Period, Person
from domain.rules import JournalRules


@dataclass(frozen=True)
class ImportReport:
    org_id: str
    year_id: str
    events: int
    position: int | None
    people: int


def import_roster(
    app: EJournal, passwords: Passwords, doc: RosterDocument, actor: Actor
) -> ImportReport:
    org_id = doc.organization.id
    if actor.role != Role.SYSTEM and (actor.org_id != org_id or not actor.has(Role.ADMIN)):
        raise Forbidden("Импортировать списки может только администратор своей организации")
    accounts = Accounts(app.db)
    _check_usernames(accounts, doc)
    now = app.clock.now()
    y = doc.academic_year

    org = app.organisation(org_id, for_update=True) or Organisation.register(
        org_id=org_id, name=doc.organization.name, actor=actor, at=now
    )
    org.sync(
        name=doc.organization.name,
        subjects={s.id: s.name for s in doc.subjects},
        year_id=y.id,
        actor=actor,
        at=now,
        timezone=doc.organization.timezone,
    )
    try:
        year = app.year(org_id, y.id, for_update=True)
    except RecordNotFound:
        year = AcademicYear.open(
            org_id=org_id,
            year_id=y.id,
            starts_on=y.starts_on,
            ends_on=y.ends_on,
            actor=actor,
            at=now,
        )
    year.sync(
        starts_on=y.starts_on,
        ends_on=y.ends_on,
        periods=[Period(p.id, p.name, p.starts_on, p.ends_on) for p in y.periods],
        rules=JournalRules.from_dict(y.rules.model_dump()),
        groups={g.id: GroupInfo(g.name, g.curator_id, g.marks_enabled) for g in doc.groups},
        memberships={
            (g.id, m.id): Membership(m.from_, m.to) for g in doc.groups for m in g.students
        },
        assignments={(a.teacher_id, a.group_id, a.subject_id) for a in doc.assignments},
        actor=actor,
        at=now,
        subject_periods={
            s.id: [Period(p.id, p.name, p.starts_on, p.ends_on) for p in s.periods]
            for s in doc.subjects
            if s.periods
        },
    )
    if year.closed_at is not None and year.pending_events:
        year.ensure_open()  # a closed year's roster is history: changing it is refused

    persons: dict[str, Person] = {}
    for kind, p in doc.people():
        roles = list(p.roles) if kind == "staff" else [kind]  # type: ignore[attr-defined]
        children = list(getattr(p, "children", []))
        person = app.person(org_id, p.id, for_update=True)
        if person is None:
            person = Person.register(
                org_id=org_id,
                person=p.id,
                kind=kind,
                roles=roles,
                children=children,
                actor=actor,
                at=now,
            )
        else:
            person.sync(roles=roles, children=children, actor=actor, at=now)
        persons[p.id] = person
    existing = accounts.all_of(org_id)
    gone = []
    for person_id in sorted(set(existing) - set(persons)):
        person = app.person(org_id, person_id, for_update=True)
        if person is not None and person.active:
            person.deactivate(reason="нет в списках", actor=actor, at=now)
            gone.append(person)

    # Tokens carry roles: a change of roles ends the person's current sessions.
    bump = {
        pid
        for pid, person in persons.items()
        if any(
            isinstance(e, Person.RolesChanged | Person.Reactivated) for e in person.pending_events
        )
    }
    aggregates: list[Any] = [org, year, *persons.values(), *gone]
    # Only aggregates with news are saved, all of them in one transaction.
    changed = [a for a in aggregates if a.pending_events]
    events = sum(len(a.pending_events) for a in changed)
    position = None
    if changed:
        recordings = app.save(*changed)
        position = int(recordings[-1].notification.id)
        app.indexes.catch_up()
        app.written()

    with app.db.transaction() as cur:
        for kind, p in doc.people():
            old = existing.get(p.id)
            PersonalData.upsert(
                cur,
                org_id,
                p.id,
                p.full_name,
                {k: v for k, v in (("email", p.email), ("phone", p.phone)) if v},
            )
            if not p.username:
                continue
            password_hash = old.password_hash if old else None
            if p.password is not None and not (
                password_hash and passwords.verify(password_hash, p.password)
            ):
                password_hash = passwords.hash(p.password)
            epoch = (old.token_epoch + (p.id in bump)) if old else 0
            Accounts.upsert(
                cur,
                Account(
                    org_id,
                    p.id,
                    p.username,
                    password_hash,
                    "staff" if kind == "staff" else kind,
                    True,
                    epoch,
                ),
            )
        for person in gone:
            old = existing[person.person]
            Accounts.upsert(
                cur,
                Account(
                    old.org_id,
                    old.person_id,
                    old.username,
                    old.password_hash,
                    old.kind,
                    False,
                    old.token_epoch + 1,
                ),
            )
    return ImportReport(org_id, y.id, events, position, len(persons))


def _check_usernames(accounts: Accounts, doc: RosterDocument) -> None:
    errors = []
    for section, items in doc.sections().items():
        for i, p in enumerate(items):
            if not p.username:
                continue
            owner = accounts.username_owner(p.username)
            if owner is not None and owner != (doc.organization.id, p.id):
                errors.append(
                    {
                        "path": f"$.{section}[{i}].username",
                        "message": f"имя пользователя «{p.username}» уже занято",
                    }
                )
    if errors:
        raise RosterInvalid(errors)
