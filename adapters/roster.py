"""The roster document delivered by external systems (API.md "Roster document").

`parse_roster` validates the whole document and names every failing field by its JSON path;
a document with any error is rejected as a whole.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.passwords import MIN_PASSWORD_LENGTH
from adapters.text import (
    Ident,
    Name,
    SaneDate,
    ShortText,
    Text,
    russian_message,
)
from domain.rules import WORK_KINDS

STAFF_ROLES = ("admin", "director", "deputy", "teacher", "archivist")
# An academic year (or a college's) lasts at most this long.
MAX_YEAR_LENGTH = timedelta(days=731)
PASSWORD_MAX = 1000
# Entries in one list of the document (people of a section, groups, pupils of a group).
MAX_ITEMS = 20_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrganizationDoc(_Model):
    id: Ident
    name: Name
    # IANA time zone of the organisation's day (e.g. "Asia/Yekaterinburg" for Perm);
    # optional: the deployment's EJOURNAL_TIMEZONE otherwise.
    timezone: ShortText | None = None


class PeriodDoc(_Model):
    id: Ident
    name: Name
    starts_on: SaneDate
    ends_on: SaneDate


class RulesDoc(_Model):
    current_mark_days: int = Field(default=7, ge=0, le=366)
    attestation_mark_days: int = Field(default=0, ge=0, le=366)
    lowest_mark: int = Field(default=2, ge=1, le=2)
    weights: dict[Ident, int] = Field(default_factory=dict, max_length=len(WORK_KINDS))
    rounding: Literal["half_up", "half_even"] = "half_up"


class YearDoc(_Model):
    id: Ident
    starts_on: SaneDate
    ends_on: SaneDate
    periods: list[PeriodDoc] = Field(default_factory=list, max_length=50)
    rules: RulesDoc = Field(default_factory=RulesDoc)


class SubjectDoc(_Model):
    id: Ident
    name: Name
    # The subject's own attestation schedule (R-ATT-3); absent: the year's periods.
    periods: list[PeriodDoc] | None = Field(default=None, max_length=50)


class PersonDoc(_Model):
    id: Ident
    full_name: Name
    username: Ident | None = None
    password: Text | None = Field(default=None, repr=False, max_length=PASSWORD_MAX)
    email: ShortText | None = None
    phone: ShortText | None = None


class StaffDoc(PersonDoc):
    roles: list[Ident] = Field(min_length=1, max_length=len(STAFF_ROLES))


class ParentDoc(PersonDoc):
    children: list[Ident] = Field(default_factory=list, max_length=50)


class MemberDoc(_Model):
    id: Ident
    from_: SaneDate = Field(alias="from")
    to: SaneDate | None = None


class GroupDoc(_Model):
    id: Ident
    name: Name
    curator_id: Ident | None = None
    marks_enabled: bool = True
    students: list[MemberDoc] = Field(default_factory=list, max_length=MAX_ITEMS)


class AssignmentDoc(_Model):
    teacher_id: Ident
    group_id: Ident
    subject_id: Ident


class RosterDocument(_Model):
    organization: OrganizationDoc
    academic_year: YearDoc
    subjects: list[SubjectDoc] = Field(default_factory=list, max_length=MAX_ITEMS)
    staff: list[StaffDoc] = Field(default_factory=list, max_length=MAX_ITEMS)
    students: list[PersonDoc] = Field(default_factory=list, max_length=MAX_ITEMS)
    parents: list[ParentDoc] = Field(default_factory=list, max_length=2 * MAX_ITEMS)
    groups: list[GroupDoc] = Field(default_factory=list, max_length=MAX_ITEMS)
    assignments: list[AssignmentDoc] = Field(default_factory=list, max_length=10 * MAX_ITEMS)

    def sections(self) -> dict[str, list[PersonDoc]]:
        """People by their section's name in the document (for JSON paths)."""
        return {
            "staff": list(self.staff),
            "students": list(self.students),
            "parents": list(self.parents),
        }

    def people(self) -> list[tuple[str, PersonDoc]]:
        return (
            [("staff", p) for p in self.staff]
            + [("student", p) for p in self.students]
            + [("parent", p) for p in self.parents]
        )


class RosterInvalid(Exception):
    """The document has errors; `errors` lists each as {"path": "$.x[0].y", "message": ...}."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(f"{len(errors)} ошибок в документе")
        self.errors = errors


def _path(loc: tuple[Any, ...]) -> str:
    out = "$"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def parse_roster(data: Any) -> RosterDocument:
    try:
        doc = RosterDocument.model_validate(data)
    except ValidationError as e:
        raise RosterInvalid(
            [
                {"path": _path(tuple(err["loc"])), "message": russian_message(err)}
                for err in e.errors()
            ]
        ) from None
    errors = _cross_check(doc)
    if errors:
        raise RosterInvalid(errors)
    return doc


def _duplicates(values: list[str]) -> set[str]:
    return {v for v, n in Counter(values).items() if n > 1}


def _cross_check(doc: RosterDocument) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []

    def err(path: str, message: str) -> None:
        errors.append({"path": path, "message": message})

    year = doc.academic_year
    if year.starts_on > year.ends_on:
        err("$.academic_year.ends_on", "конец учебного года раньше его начала")
    elif year.ends_on - year.starts_on > MAX_YEAR_LENGTH:
        err("$.academic_year.ends_on", "учебный год длиннее двух лет")
    for i, p in enumerate(year.periods):
        if p.starts_on > p.ends_on:
            err(f"$.academic_year.periods[{i}].ends_on", "конец периода раньше его начала")
        if p.starts_on < year.starts_on or p.ends_on > year.ends_on:
            err(f"$.academic_year.periods[{i}]", "период выходит за границы учебного года")
    for pid in _duplicates([p.id for p in year.periods]):
        err("$.academic_year.periods", f"период «{pid}» указан дважды")
    for kind in year.rules.weights:
        if kind not in WORK_KINDS:
            err(f"$.academic_year.rules.weights.{kind}", "неизвестный вид работы")
    for kind, weight in year.rules.weights.items():
        if weight < 1:
            err(f"$.academic_year.rules.weights.{kind}", "вес должен быть не меньше 1")

    if doc.organization.timezone is not None:
        try:
            ZoneInfo(doc.organization.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            err("$.organization.timezone", "неизвестный часовой пояс (нужно имя IANA)")
    for i, subject in enumerate(doc.subjects):
        own = subject.periods or []
        for j, p in enumerate(own):
            if p.starts_on > p.ends_on:
                err(f"$.subjects[{i}].periods[{j}].ends_on", "конец периода раньше его начала")
            if p.starts_on < year.starts_on or p.ends_on > year.ends_on:
                err(f"$.subjects[{i}].periods[{j}]", "период выходит за границы учебного года")
        for pid in _duplicates([p.id for p in own]):
            err(f"$.subjects[{i}].periods", f"период «{pid}» указан дважды")

    subject_ids = {s.id for s in doc.subjects}
    for sid in _duplicates([s.id for s in doc.subjects]):
        err("$.subjects", f"предмет «{sid}» указан дважды")

    people = doc.people()
    for pid in _duplicates([p.id for _, p in people]):
        err("$", f"идентификатор человека «{pid}» встречается несколько раз")
    usernames = [p.username for _, p in people if p.username]
    for name in _duplicates(usernames):
        err("$", f"имя пользователя «{name}» встречается несколько раз")

    for section, items in doc.sections().items():
        for i, person in enumerate(items):
            if person.password is not None and len(person.password) < MIN_PASSWORD_LENGTH:
                err(f"$.{section}[{i}].password", f"пароль короче {MIN_PASSWORD_LENGTH} символов")
            if person.password is not None and not person.username:
                err(f"$.{section}[{i}].username", "пароль задан без имени пользователя")
    for i, s in enumerate(doc.staff):
        for j, role in enumerate(s.roles):
            if role not in STAFF_ROLES:
                err(
                    f"$.staff[{i}].roles[{j}]",
                    f"неизвестная роль «{role}»; допустимы: {', '.join(STAFF_ROLES)}",
                )

    student_ids = {s.id for s in doc.students}
    teacher_ids = {s.id for s in doc.staff if "teacher" in s.roles}
    staff_ids = {s.id for s in doc.staff}
    for i, parent in enumerate(doc.parents):
        for j, child in enumerate(parent.children):
            if child not in student_ids:
                err(f"$.parents[{i}].children[{j}]", f"нет обучающегося «{child}»")

    group_ids = {g.id for g in doc.groups}
    for gid in _duplicates([g.id for g in doc.groups]):
        err("$.groups", f"группа «{gid}» указана дважды")
    for i, g in enumerate(doc.groups):
        if g.curator_id is not None and g.curator_id not in staff_ids:
            err(f"$.groups[{i}].curator_id", f"нет сотрудника «{g.curator_id}»")
        for sid in _duplicates([m.id for m in g.students]):
            err(f"$.groups[{i}].students", f"обучающийся «{sid}» указан дважды")
        for j, m in enumerate(g.students):
            path = f"$.groups[{i}].students[{j}]"
            if m.id not in student_ids:
                err(f"{path}.id", f"нет обучающегося «{m.id}»")
            if m.to is not None and m.to < m.from_:
                err(f"{path}.to", "дата выбытия раньше даты зачисления")
    for i, a in enumerate(doc.assignments):
        path = f"$.assignments[{i}]"
        if a.teacher_id not in teacher_ids:
            err(f"{path}.teacher_id", f"нет преподавателя «{a.teacher_id}»")
        if a.group_id not in group_ids:
            err(f"{path}.group_id", f"нет группы «{a.group_id}»")
        if a.subject_id not in subject_ids:
            err(f"{path}.subject_id", f"нет предмета «{a.subject_id}»")
    return errors
