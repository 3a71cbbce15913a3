"""Importing a roster: reference data becomes events; accounts and names go to their tables.

All events of one import are saved in one transaction, so a document either applies whole or
not at all. Only differences are recorded: the same document twice records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from adapters.accounts import Account, Accounts, PersonalData
from adapters.journal_app import EJournal
from adapters.passwords import Passwords
from adapters.roster import RosterDocument, RosterInvalid
from adapters.service.entries import EntriesRefused
from domain.actors import Actor, Role
from domain.errors import Forbidden, RecordNotFound, RuleViolation
from domain.reference import AcademicYear, GroupInfo, Membership, Organisation, Period, Person
from domain.rules import JournalRules

# An import that would remove more than this share of the students or of the groups of the
# year needs `force` (issue 11.10): a document that lost a section must not apply at once.
MAX_REMOVED_SHARE = 0.1


@dataclass(frozen=True)
class ImportPlan:
    """What an import changes in the year's roster and accounts (the same for a dry run).

    Students and groups "present" are those with memberships in the year now; "removed" ones
    are present and absent from the document; "moved" students changed their memberships."""

    students_present: int = 0
    students_added: list[str] = field(default_factory=list)
    students_moved: list[str] = field(default_factory=list)
    students_removed: list[str] = field(default_factory=list)
    groups_present: int = 0
    groups_added: list[str] = field(default_factory=list)
    groups_removed: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)

    def excesses(self) -> list[dict[str, Any]]:
        """The removals over MAX_REMOVED_SHARE, each with its counts (empty: none)."""
        found = []
        for what, removed, present, label in (
            ("students", self.students_removed, self.students_present, "обучающихся"),
            ("groups", self.groups_removed, self.groups_present, "групп"),
        ):
            if present and len(removed) > MAX_REMOVED_SHARE * present:
                found.append(
                    {
                        "field": what,
                        "code": ImportTooDestructive.code,
                        "message": f"удаляется {len(removed)} из {present} {label}",
                        "removed": len(removed),
                        "present": present,
                    }
                )
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "students": {
                "present": self.students_present,
                "added": len(self.students_added),
                "moved": len(self.students_moved),
                "removed": len(self.students_removed),
                "added_ids": self.students_added,
                "moved_ids": self.students_moved,
                "removed_ids": self.students_removed,
            },
            "groups": {
                "present": self.groups_present,
                "added": len(self.groups_added),
                "removed": len(self.groups_removed),
                "added_ids": self.groups_added,
                "removed_ids": self.groups_removed,
            },
            "deactivated_ids": self.deactivated,
        }


class ImportTooDestructive(EntriesRefused):
    """422 `import-too-destructive`; `errors` (as for refused entries) has one item per
    excess with its counts: {field: students|groups, code, message, removed, present}."""

    code = "import-too-destructive"
    title = "Загрузка удалит слишком много"

    def __init__(self, excesses: list[dict[str, Any]]) -> None:
        RuleViolation.__init__(
            self,
            "Документ удаляет больше десятой части: "
            + "; ".join(e["message"] for e in excesses)
            + ". Ничего не изменено. Проверьте документ пробной загрузкой (dry_run=true, "
            "--dry-run) и, если удаление задумано, повторите с force=true (--force)",
        )
        self.errors = excesses


@dataclass(frozen=True)
class ImportReport:
    org_id: str
    year_id: str
    events: int
    position: int | None
    people: int
    plan: ImportPlan = field(default_factory=ImportPlan)
    # People in the document an administrator switched off: they stay off (issue 11.8).
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False
    # The import needs `force` (only a dry run answers this; a real one is refused instead).
    force_required: bool = False


def _plan_of_year(year: AcademicYear | None, doc: RosterDocument) -> ImportPlan:
    current = dict(year.memberships) if year is not None else {}
    wanted = {(g.id, m.id): Membership(m.from_, m.to) for g in doc.groups for m in g.students}
    groups_now = {g for g, _ in current}
    groups_wanted = {g.id for g in doc.groups}
    known_groups = set(year.groups) if year is not None else set()
    students_now = {s for _, s in current}
    students_wanted = {s for _, s in wanted}

    def stays(student: str, memberships: dict[tuple[str, str], Membership]) -> dict[Any, Any]:
        return {k: v for k, v in memberships.items() if k[1] == student}

    return ImportPlan(
        students_present=len(students_now),
        students_added=sorted(students_wanted - students_now),
        students_moved=sorted(
            s for s in students_now & students_wanted if stays(s, current) != stays(s, wanted)
        ),
        students_removed=sorted(students_now - students_wanted),
        groups_present=len(groups_now),
        groups_added=sorted(groups_wanted - groups_now - known_groups),
        groups_removed=sorted(groups_now - groups_wanted),
    )


def import_roster(
    app: EJournal,
    passwords: Passwords,
    doc: RosterDocument,
    actor: Actor,
    *,
    dry_run: bool = False,
    force: bool = False,
) -> ImportReport:
    """Apply the document. `dry_run`: compute the same report and save nothing. Removing more
    than MAX_REMOVED_SHARE of the year's students or groups needs `force`
    (`import-too-destructive`)."""
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
        plan = _plan_of_year(year, doc)
    except RecordNotFound:
        plan = _plan_of_year(None, doc)
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
    conflicts: list[dict[str, Any]] = []
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
            if person.held_inactive:
                assert person.deactivation is not None
                conflicts.append(
                    {
                        "person_id": p.id,
                        "reason": person.deactivation["reason"],
                        "deactivated_by": person.deactivation["actor_id"],
                        "deactivated_at": person.deactivation["at"].isoformat(),
                    }
                )
        persons[p.id] = person
    existing = accounts.all_of(org_id)
    gone = []
    for person_id in sorted(set(existing) - set(persons)):
        person = app.person(org_id, person_id, for_update=True)
        if person is not None and person.active:
            person.deactivate(reason=Person.IMPORT_REASON, actor=actor, at=now, by_import=True)
            gone.append(person)
    plan = replace(plan, deactivated=[person.person for person in gone])
    excesses = plan.excesses()

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
    if dry_run:  # the loaded copies are private: dropping them drops the pending events
        return ImportReport(
            org_id,
            y.id,
            events,
            None,
            len(persons),
            plan,
            conflicts,
            dry_run=True,
            force_required=bool(excesses),
        )
    if excesses and not force:
        raise ImportTooDestructive(excesses)
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
                    persons[p.id].active,  # switched off by an administrator: stays off
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
    return ImportReport(org_id, y.id, events, position, len(persons), plan, conflicts)


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
