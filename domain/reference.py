"""Reference data from the external systems (000 §3.1): organisation, academic year, people.

Each is event-sourced like a mark, so a changed deadline or a transfer is audited too.
The `sync_*` commands compare the wanted state with the current one and record only the
differences, so re-importing the same roster records nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.actors import Actor
from domain.base import Audited
from domain.errors import RecordNotFound, RuleViolation, YearClosed
from domain.ids import academic_year_id, organisation_id, person_id
from domain.rules import JournalRules


class YearNotOver(RuleViolation):
    code = "year-not-over"
    title = "Учебный год ещё не окончен"


class Organisation(Audited):
    """A school or college; every other aggregate and row carries its id."""

    @staticmethod
    def create_id(org_id: str) -> UUID:
        return organisation_id(org_id)

    class Registered(Audited.Created):
        org_id: str
        name: str

    def __init__(self, org_id: str, name: str, actor_id: str, actor_role: str) -> None:
        self.org_id = org_id
        self.name = name
        self.subjects: dict[str, str] = {}
        # Subject ids in the roster's order: documents list subjects so (issue 14).
        self.subject_order: list[str] = []
        self.years: list[str] = []
        # IANA zone of the organisation's day; None: the deployment's default.
        self.timezone: str | None = None

    @classmethod
    def register(cls, *, org_id: str, name: str, actor: Actor, at: datetime) -> Organisation:
        return cls._create(
            cls.Registered,
            id=organisation_id(org_id),
            timestamp=at,
            org_id=org_id,
            name=name,
            actor_id=actor.id,
            actor_role=actor.role,
        )

    class Renamed(Audited.Event):
        before: str
        after: str

        def apply(self, org: Organisation) -> None:
            org.name = self.after

    class SubjectNamed(Audited.Event):
        subject_id: str
        before: str | None
        after: str

        def apply(self, org: Organisation) -> None:
            org.subjects[self.subject_id] = self.after

    class SubjectsOrdered(Audited.Event):
        """The roster lists the subjects in another order (ids, first to last)."""

        before: list[str]
        after: list[str]

        def apply(self, org: Organisation) -> None:
            org.subject_order = list(self.after)

    class YearAdded(Audited.Event):
        year_id: str

        def apply(self, org: Organisation) -> None:
            org.years.append(self.year_id)

    class TimezoneChanged(Audited.Event):
        before: str | None
        after: str | None

        def apply(self, org: Organisation) -> None:
            org.timezone = self.after

    def sync(
        self,
        *,
        name: str,
        subjects: dict[str, str],
        year_id: str,
        actor: Actor,
        at: datetime,
        timezone: str | None = None,
    ) -> None:
        """Bring the organisation to the roster's state; `subjects` in the roster's order."""
        if year_id not in self.years:
            self._record(self.YearAdded, actor, at, year_id=year_id)
        if timezone != self.timezone:
            self._record(self.TimezoneChanged, actor, at, before=self.timezone, after=timezone)
        if name != self.name:
            self._record(self.Renamed, actor, at, before=self.name, after=name)
        for subject_id, subject_name in sorted(subjects.items()):
            current = self.subjects.get(subject_id)
            if current != subject_name:
                self._record(
                    self.SubjectNamed,
                    actor,
                    at,
                    subject_id=subject_id,
                    before=current,
                    after=subject_name,
                )
        # The roster's order is the order of `subjects` (the document's).
        order = list(subjects)
        if order != self.subject_order:
            self._record(
                self.SubjectsOrdered, actor, at, before=list(self.subject_order), after=order
            )


def in_roster_order(subject_ids: Iterable[str], order: Sequence[str]) -> list[str]:
    """Subject ids as the roster lists them (`Organisation.subject_order`); ids it does not
    list come last, by id."""
    rank = {s: i for i, s in enumerate(order)}
    return sorted(set(subject_ids), key=lambda s: (rank.get(s, len(rank)), s))


@dataclass(frozen=True)
class Period:
    period_id: str
    name: str
    starts_on: date
    ends_on: date

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.period_id,
            "name": self.name,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Period:
        return cls(
            d["id"], d["name"], date.fromisoformat(d["starts_on"]), date.fromisoformat(d["ends_on"])
        )


@dataclass(frozen=True)
class GroupInfo:
    name: str
    curator_id: str | None
    marks_enabled: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "curator_id": self.curator_id,
            "marks_enabled": self.marks_enabled,
        }


@dataclass(frozen=True)
class Membership:
    """A student's stay in a group: from `starts_on` to `ends_on` inclusive (None: open)."""

    starts_on: date
    ends_on: date | None

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.starts_on.isoformat(),
            "to": self.ends_on.isoformat() if self.ends_on else None,
        }


Assignment = tuple[str, str, str]  # (teacher_id, group_id, subject_id)


class AcademicYear(Audited):
    """An organisation's academic year: dates, periods, rules, groups and teaching load."""

    @staticmethod
    def create_id(org_id: str, year_id: str) -> UUID:
        return academic_year_id(org_id, year_id)

    class Opened(Audited.Created):
        org_id: str
        year_id: str
        starts_on: date
        ends_on: date

    def __init__(
        self,
        org_id: str,
        year_id: str,
        starts_on: date,
        ends_on: date,
        actor_id: str,
        actor_role: str,
    ) -> None:
        self.org_id = org_id
        self.year_id = year_id
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.periods: dict[str, Period] = {}
        self.rules = JournalRules()
        self.groups: dict[str, GroupInfo] = {}
        # (group_id, student_id) -> membership
        self.memberships: dict[tuple[str, str], Membership] = {}
        self.assignments: set[Assignment] = set()
        # Subjects with their own attestation schedule (R-ATT-3); others use `periods`.
        self.subject_periods: dict[str, dict[str, Period]] = {}
        self.closed_at: datetime | None = None
        self.closed_by: str | None = None
        self.closed_reason: str | None = None

    @classmethod
    def open(
        cls,
        *,
        org_id: str,
        year_id: str,
        starts_on: date,
        ends_on: date,
        actor: Actor,
        at: datetime,
    ) -> AcademicYear:
        return cls._create(
            cls.Opened,
            id=academic_year_id(org_id, year_id),
            timestamp=at,
            org_id=org_id,
            year_id=year_id,
            starts_on=starts_on,
            ends_on=ends_on,
            actor_id=actor.id,
            actor_role=actor.role,
        )

    class DatesChanged(Audited.Event):
        before: dict[str, str]
        after: dict[str, str]

        def apply(self, year: AcademicYear) -> None:
            year.starts_on = date.fromisoformat(self.after["starts_on"])
            year.ends_on = date.fromisoformat(self.after["ends_on"])

    class PeriodsChanged(Audited.Event):
        before: list[dict[str, Any]]
        after: list[dict[str, Any]]

        def apply(self, year: AcademicYear) -> None:
            year.periods = {p["id"]: Period.from_dict(p) for p in self.after}

    class RulesChanged(Audited.Event):
        before: dict[str, Any]
        after: dict[str, Any]

        def apply(self, year: AcademicYear) -> None:
            year.rules = JournalRules.from_dict(self.after)

    class GroupChanged(Audited.Event):
        group_id: str
        before: dict[str, Any] | None
        after: dict[str, Any]

        def apply(self, year: AcademicYear) -> None:
            a = self.after
            year.groups[self.group_id] = GroupInfo(a["name"], a["curator_id"], a["marks_enabled"])

    class MembershipChanged(Audited.Event):
        group_id: str
        student_id: str
        before: dict[str, Any] | None
        after: dict[str, Any] | None

        def apply(self, year: AcademicYear) -> None:
            key = (self.group_id, self.student_id)
            year._by_student = None
            if self.after is None:
                year.memberships.pop(key, None)
            else:
                to = self.after["to"]
                year.memberships[key] = Membership(
                    date.fromisoformat(self.after["from"]),
                    date.fromisoformat(to) if to else None,
                )

    class TeacherAssigned(Audited.Event):
        teacher_id: str
        group_id: str
        subject_id: str

        def apply(self, year: AcademicYear) -> None:
            year.assignments.add((self.teacher_id, self.group_id, self.subject_id))

    class AssignmentWithdrawn(Audited.Event):
        teacher_id: str
        group_id: str
        subject_id: str

        def apply(self, year: AcademicYear) -> None:
            year.assignments.discard((self.teacher_id, self.group_id, self.subject_id))

    class SubjectScheduleChanged(Audited.Event):
        subject_id: str
        before: list[dict[str, Any]] | None
        after: list[dict[str, Any]] | None

        def apply(self, year: AcademicYear) -> None:
            if self.after is None:
                year.subject_periods.pop(self.subject_id, None)
            else:
                year.subject_periods[self.subject_id] = {
                    p["id"]: Period.from_dict(p) for p in self.after
                }

    class Closed(Audited.Event):
        """The year is closed (R-ARC-7): nothing more is written into it.

        v2 added `reason`: why a year was closed before its last period ended (None: closed
        when the year was over, or stored before v2)."""

        class_version = 2
        reason: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reason"] = None

        def apply(self, year: AcademicYear) -> None:
            year.closed_at = self.timestamp
            year.closed_by = self.actor_id
            year.closed_reason = self.reason

    def last_day(self) -> date:
        """The last day of the year's last period (the year's end when it has no periods)."""
        return max((p.ends_on for p in self.periods.values()), default=self.ends_on)

    def close(
        self,
        *,
        actor: Actor,
        at: datetime,
        today: date | None = None,
        reason: str | None = None,
    ) -> None:
        """Close the year. `today` is the organisation's day: before `last_day()` a reason is
        required (`year-not-over`); None leaves the date unchecked."""
        self.ensure_open()
        text = (reason or "").strip() or None
        if today is not None and today < self.last_day() and text is None:
            raise YearNotOver(
                f"Учебный год {self.year_id} ещё не окончен (последний день — "
                f"{self.last_day().isoformat()}): чтобы закрыть его раньше, укажите причину",
                field="reason",
            )
        self._record(self.Closed, actor, at, reason=text)

    def ensure_open(self) -> None:
        if self.closed_at is not None:
            raise YearClosed(
                f"Учебный год {self.year_id} закрыт {self.closed_at.date().isoformat()}; "
                "изменения в него не вносятся"
            )

    def periods_of(self, subject_id: str) -> dict[str, Period]:
        """The attestation periods of a subject: its own schedule or the year's."""
        return self.subject_periods.get(subject_id) or self.periods

    def sync(
        self,
        *,
        starts_on: date,
        ends_on: date,
        periods: list[Period],
        rules: JournalRules,
        groups: dict[str, GroupInfo],
        memberships: dict[tuple[str, str], Membership],
        assignments: set[Assignment],
        actor: Actor,
        at: datetime,
        subject_periods: dict[str, list[Period]] | None = None,
    ) -> None:
        """Bring the year to the roster's state, recording only the differences."""
        if (starts_on, ends_on) != (self.starts_on, self.ends_on):
            self._record(
                self.DatesChanged,
                actor,
                at,
                before={
                    "starts_on": self.starts_on.isoformat(),
                    "ends_on": self.ends_on.isoformat(),
                },
                after={"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()},
            )
        wanted_periods = [p.as_dict() for p in periods]
        current_periods = [p.as_dict() for p in self.periods.values()]
        if wanted_periods != current_periods:
            self._record(
                self.PeriodsChanged, actor, at, before=current_periods, after=wanted_periods
            )
        if rules != self.rules:
            self._record(
                self.RulesChanged, actor, at, before=self.rules.as_dict(), after=rules.as_dict()
            )
        for group_id, info in sorted(groups.items()):
            current = self.groups.get(group_id)
            if current != info:
                self._record(
                    self.GroupChanged,
                    actor,
                    at,
                    group_id=group_id,
                    before=current.as_dict() if current else None,
                    after=info.as_dict(),
                )
        # Memberships absent from the roster are closed by removal: the roster is the truth.
        for key in sorted(set(self.memberships) | set(memberships)):
            old, new = self.memberships.get(key), memberships.get(key)
            if old != new:
                self._record(
                    self.MembershipChanged,
                    actor,
                    at,
                    group_id=key[0],
                    student_id=key[1],
                    before=old.as_dict() if old else None,
                    after=new.as_dict() if new else None,
                )
        for t, g, s in sorted(assignments - self.assignments):
            self._record(self.TeacherAssigned, actor, at, teacher_id=t, group_id=g, subject_id=s)
        for t, g, s in sorted(self.assignments - assignments):
            self._record(
                self.AssignmentWithdrawn, actor, at, teacher_id=t, group_id=g, subject_id=s
            )
        schedule = {k: [p.as_dict() for p in v] for k, v in (subject_periods or {}).items() if v}
        recorded = {k: [p.as_dict() for p in v.values()] for k, v in self.subject_periods.items()}
        for subject_id in sorted(set(schedule) | set(recorded)):
            if schedule.get(subject_id) != recorded.get(subject_id):
                self._record(
                    self.SubjectScheduleChanged,
                    actor,
                    at,
                    subject_id=subject_id,
                    before=recorded.get(subject_id),
                    after=schedule.get(subject_id),
                )

    # --- queries used by the journal's commands ----------------------------------------

    # The memberships by student, built when first asked and dropped when one changes: a
    # question about one student is a lookup, not a pass over the school's memberships
    # (a lesson's entries ask several per student). Derived, never stored.
    _by_student: dict[str, dict[str, Membership]] | None = None

    def memberships_of(self, student_id: str) -> dict[str, Membership]:
        """The student's memberships this year, by group."""
        index = self._by_student
        if index is None:
            index = {}
            for (g, s), m in self.memberships.items():
                index.setdefault(s, {})[g] = m
            self._by_student = index
        return index.get(student_id, {})

    def groups_of(self, student_id: str, on: date) -> list[str]:
        """Groups the student belongs to on a day."""
        return sorted(g for g, m in self.memberships_of(student_id).items() if m.covers(on))

    def ever_in_year(self, student_id: str) -> bool:
        return bool(self.memberships_of(student_id))

    def curates(self, teacher_id: str, student_id: str, on: date | None = None) -> bool:
        """Whether the person is curator of a group the student is in (on a day, or ever)."""
        groups = (
            self.groups_of(student_id, on) if on is not None else self.memberships_of(student_id)
        )
        return any(self.groups[g].curator_id == teacher_id for g in groups if g in self.groups)

    def is_assigned(self, teacher_id: str, group_id: str, subject_id: str) -> bool:
        return (teacher_id, group_id, subject_id) in self.assignments

    def teaches(self, teacher_id: str, student_id: str, subject_id: str | None = None) -> bool:
        """Whether the teacher is assigned to any group the student was ever in this year."""
        student_groups = self.memberships_of(student_id)
        return any(
            t == teacher_id and g in student_groups and (subject_id is None or subj == subject_id)
            for t, g, subj in self.assignments
        )


class Person(Audited):
    """A staff member, student or parent of an organisation: ids and roles, no names.

    Names and contacts are personal data (152-FZ) kept in a separate store, keyed by id.
    """

    @staticmethod
    def create_id(org_id: str, person: str) -> UUID:
        return person_id(org_id, person)

    class Registered(Audited.Created):
        org_id: str
        person: str
        kind: str
        roles: list[str]
        children: list[str]

    def __init__(
        self,
        org_id: str,
        person: str,
        kind: str,
        roles: list[str],
        children: list[str],
        actor_id: str,
        actor_role: str,
    ) -> None:
        self.org_id = org_id
        self.person = person
        self.kind = kind
        self.roles = list(roles)
        self.children = list(children)
        self.active = True
        # The last deactivation (None while active): by_import, reason, actor_id, at.
        self.deactivation: dict[str, Any] | None = None
        self.delegations: dict[str, dict[str, Any]] = {}

    @classmethod
    def register(
        cls,
        *,
        org_id: str,
        person: str,
        kind: str,
        roles: list[str],
        children: list[str],
        actor: Actor,
        at: datetime,
    ) -> Person:
        return cls._create(
            cls.Registered,
            id=person_id(org_id, person),
            timestamp=at,
            org_id=org_id,
            person=person,
            kind=kind,
            roles=sorted(roles),
            children=sorted(children),
            actor_id=actor.id,
            actor_role=actor.role,
        )

    class RolesChanged(Audited.Event):
        before: list[str]
        after: list[str]

        def apply(self, person: Person) -> None:
            person.roles = list(self.after)

    class ChildrenChanged(Audited.Event):
        before: list[str]
        after: list[str]

        def apply(self, person: Person) -> None:
            person.children = list(self.after)

    # The reason the roster import gives when a person is absent from the document.
    IMPORT_REASON = "нет в списках"

    class Deactivated(Audited.Event):
        """v2 added `by_import`: whether the roster import switched the person off (absent
        from the document) rather than an administrator. A v1 event came from the import
        exactly when its reason is the import's fixed one."""

        class_version = 2
        reason: str
        by_import: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["by_import"] = state.get("reason") == Person.IMPORT_REASON

        def apply(self, person: Person) -> None:
            person.active = False
            person.deactivation = {
                "by_import": self.by_import,
                "reason": self.reason,
                "actor_id": self.actor_id,
                "at": self.timestamp,
            }

    class Reactivated(Audited.Event):
        reason: str

        def apply(self, person: Person) -> None:
            person.active = True
            person.deactivation = None

    @property
    def held_inactive(self) -> bool:
        """Switched off in the journal (not by the import): a roster does not switch it on."""
        deactivation = getattr(self, "deactivation", None)
        return not self.active and deactivation is not None and not deactivation["by_import"]

    def sync(self, *, roles: list[str], children: list[str], actor: Actor, at: datetime) -> None:
        """Bring roles and children to the roster's. A person the import switched off comes
        back; one an administrator switched off stays off (`held_inactive`)."""
        if not self.active and not self.held_inactive:
            self._record(self.Reactivated, actor, at, reason="снова в списках")
        if sorted(roles) != self.roles:
            self._record(self.RolesChanged, actor, at, before=self.roles, after=sorted(roles))
        if sorted(children) != self.children:
            self._record(
                self.ChildrenChanged, actor, at, before=self.children, after=sorted(children)
            )

    def deactivate(
        self, *, reason: str, actor: Actor, at: datetime, by_import: bool = False
    ) -> None:
        if self.active:
            self._record(self.Deactivated, actor, at, reason=reason, by_import=by_import)

    def reactivate(self, *, reason: str, actor: Actor, at: datetime) -> None:
        """An administrator switches an account on again (a roster import never does)."""
        if not self.active:
            self._record(self.Reactivated, actor, at, reason=reason)

    # --- trusted persons (000 §3.1.5) ---------------------------------------------------

    class DelegationGranted(Audited.Event):
        """A parent lets a trusted person read what the parent reads, until `expires_at`."""

        delegation_id: str
        trustee_id: str
        children: list[str]
        expires_at: datetime

        def apply(self, person: Person) -> None:
            person.delegations[self.delegation_id] = {
                "trustee_id": self.trustee_id,
                "children": list(self.children),
                "expires_at": self.expires_at,
                "revoked": False,
            }

    class DelegationRevoked(Audited.Event):
        delegation_id: str
        reason: str | None

        def apply(self, person: Person) -> None:
            person.delegations[self.delegation_id]["revoked"] = True

    def grant_delegation(
        self,
        *,
        delegation_id: str,
        trustee_id: str,
        children: list[str],
        expires_at: datetime,
        actor: Actor,
        at: datetime,
    ) -> None:
        if self.kind != "parent":
            raise RuleViolation("Доверенность выдаёт родитель (законный представитель)")
        if trustee_id == self.person:
            raise RuleViolation("Нельзя выдать доверенность самому себе", field="trustee_id")
        unknown = sorted(set(children) - set(self.children))
        if not children or unknown:
            raise RuleViolation("Доверить можно только своих детей", field="student_ids")
        if expires_at <= at:
            raise RuleViolation("Срок доверенности уже истёк", field="expires_at")
        if expires_at > _a_year_after(at):
            raise RuleViolation("Доверенность выдаётся не больше чем на год", field="expires_at")
        self._record(
            self.DelegationGranted,
            actor,
            at,
            delegation_id=delegation_id,
            trustee_id=trustee_id,
            children=sorted(children),
            expires_at=expires_at,
        )

    def revoke_delegation(
        self, *, delegation_id: str, reason: str | None, actor: Actor, at: datetime
    ) -> None:
        delegation = self.delegations.get(delegation_id)
        if delegation is None:
            raise RecordNotFound("Доверенность не найдена")
        if delegation["revoked"]:
            raise RuleViolation("Доверенность уже отозвана", field="delegation_id")
        self._record(
            self.DelegationRevoked,
            actor,
            at,
            delegation_id=delegation_id,
            reason=(reason or "").strip() or None,
        )


def _a_year_after(moment: datetime) -> datetime:
    """The same moment a calendar year later (29 February → 28 February)."""
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:
        return moment.replace(year=moment.year + 1, day=28)
