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
    id: Ident = Field(description="Идентификатор организации во внешней системе (до 64 символов)")
    name: Name = Field(description="Название организации (1–200 символов)")
    # IANA time zone of the organisation's day (e.g. "Asia/Yekaterinburg" for Perm);
    # optional: the deployment's EJOURNAL_TIMEZONE otherwise.
    timezone: ShortText | None = Field(
        default=None,
        description="Часовой пояс организации, имя IANA (например, «Asia/Yekaterinburg»); "
        "не указан — часовой пояс развёртывания (EJOURNAL_TIMEZONE)",
    )


class PeriodDoc(_Model):
    id: Ident = Field(
        description="Идентификатор периода аттестации, например «S1» (до 64 символов)"
    )
    name: Name = Field(description="Название периода, например «1 семестр» (1–200 символов)")
    starts_on: SaneDate = Field(
        description="Первый день периода, ГГГГ-ММ-ДД (в пределах учебного года)"
    )
    ends_on: SaneDate = Field(
        description="Последний день периода, ГГГГ-ММ-ДД "
        "(не раньше начала, в пределах учебного года)"
    )


class RulesDoc(_Model):
    current_mark_days: int = Field(
        default=7,
        ge=0,
        le=366,
        description="Сколько дней после даты урока преподаватель ещё может поставить или "
        "исправить текущую отметку (R-MARK-2), 0–366",
    )
    attestation_mark_days: int = Field(
        default=0,
        ge=0,
        le=366,
        description="Сколько дней после конца периода ещё можно выставить итог аттестации "
        "(R-ATT-4), 0–366",
    )
    lowest_mark: int = Field(default=2, ge=1, le=2, description="Низшая отметка шкалы: 1 или 2")
    weights: dict[Ident, int] = Field(
        default_factory=dict,
        max_length=len(WORK_KINDS),
        description="Вес отметки по виду работы (oral, written, test, control, lab, practical, "
        "homework, monitoring), целое не меньше 1; не указан — 1. Вес фиксируется на отметке "
        "при записи",
    )
    rounding: Literal["half_up", "half_even"] = Field(
        default="half_up",
        description="Округление вычисленной итоговой отметки (R-ATT-5): half_up — 3,5 → 4, "
        "half_even — половина к чётному",
    )


class YearDoc(_Model):
    id: Ident = Field(
        description="Идентификатор учебного года, например «2025-2026» (до 64 символов)"
    )
    starts_on: SaneDate = Field(description="Первый день учебного года, ГГГГ-ММ-ДД")
    ends_on: SaneDate = Field(
        description="Последний день учебного года, ГГГГ-ММ-ДД "
        "(не раньше начала, год не длиннее двух лет)"
    )
    periods: list[PeriodDoc] = Field(
        default_factory=list,
        max_length=50,
        description="Периоды аттестации года (до 50, идентификаторы не повторяются)",
    )
    rules: RulesDoc = Field(
        default_factory=RulesDoc,
        description="Правила организации на год: сроки отметок, низшая отметка, веса, округление",
    )


class SubjectDoc(_Model):
    id: Ident = Field(description="Идентификатор предмета во внешней системе (до 64 символов)")
    name: Name = Field(description="Название предмета (1–200 символов)")
    # The subject's own attestation schedule (R-ATT-3); absent: the year's periods.
    periods: list[PeriodDoc] | None = Field(
        default=None,
        max_length=50,
        description="Собственные периоды аттестации предмета (R-ATT-3, до 50); не указаны — "
        "периоды учебного года",
    )


class PersonDoc(_Model):
    id: Ident = Field(description="Идентификатор человека во внешней системе (до 64 символов)")
    full_name: Name = Field(description="ФИО полностью (1–200 символов)")
    username: Ident | None = Field(
        default=None,
        description="Имя пользователя для входа (до 64 символов, уникально в документе); "
        "не указано — без учётной записи для входа",
    )
    password: Text | None = Field(
        default=None,
        repr=False,
        max_length=PASSWORD_MAX,
        description=f"Начальный пароль ({MIN_PASSWORD_LENGTH}–{PASSWORD_MAX} символов, только "
        "вместе с username); в открытом виде не хранится",
    )
    email: ShortText | None = Field(
        default=None, description="Адрес электронной почты (до 200 символов)"
    )
    phone: ShortText | None = Field(default=None, description="Телефон (до 200 символов)")


class StaffDoc(PersonDoc):
    roles: list[Ident] = Field(
        min_length=1,
        max_length=len(STAFF_ROLES),
        description="Роли сотрудника, хотя бы одна: admin, director, deputy, teacher, archivist",
    )


class ParentDoc(PersonDoc):
    children: list[Ident] = Field(
        default_factory=list,
        max_length=50,
        description="Идентификаторы детей-обучающихся из раздела students (до 50)",
    )


class MemberDoc(_Model):
    id: Ident = Field(description="Идентификатор обучающегося из раздела students (до 64 символов)")
    from_: SaneDate = Field(alias="from", description="Дата зачисления в группу, ГГГГ-ММ-ДД")
    to: SaneDate | None = Field(
        default=None,
        description="Дата выбытия из группы, ГГГГ-ММ-ДД (не раньше зачисления); null — учится",
    )


class GroupDoc(_Model):
    id: Ident = Field(description="Идентификатор группы во внешней системе (до 64 символов)")
    name: Name = Field(description="Название группы, например «ХТ-21» (1–200 символов)")
    curator_id: Ident | None = Field(
        default=None, description="Идентификатор куратора из раздела staff; null — нет куратора"
    )
    marks_enabled: bool = Field(
        default=True,
        description="Выставляются ли в группе отметки (false — без отметок, пропуски ведутся)",
    )
    students: list[MemberDoc] = Field(
        default_factory=list,
        max_length=MAX_ITEMS,
        description=f"Обучающиеся группы с датами зачисления и выбытия (до {MAX_ITEMS})",
    )


class AssignmentDoc(_Model):
    teacher_id: Ident = Field(description="Идентификатор преподавателя (staff с ролью teacher)")
    group_id: Ident = Field(description="Идентификатор группы из раздела groups")
    subject_id: Ident = Field(description="Идентификатор предмета из раздела subjects")


class RosterDocument(_Model):
    organization: OrganizationDoc = Field(description="Организация, чьи списки загружаются")
    academic_year: YearDoc = Field(description="Учебный год: даты, периоды аттестации, правила")
    subjects: list[SubjectDoc] = Field(
        default_factory=list, max_length=MAX_ITEMS, description=f"Предметы (до {MAX_ITEMS})"
    )
    staff: list[StaffDoc] = Field(
        default_factory=list,
        max_length=MAX_ITEMS,
        description=f"Сотрудники с ролями (до {MAX_ITEMS})",
    )
    students: list[PersonDoc] = Field(
        default_factory=list, max_length=MAX_ITEMS, description=f"Обучающиеся (до {MAX_ITEMS})"
    )
    parents: list[ParentDoc] = Field(
        default_factory=list,
        max_length=2 * MAX_ITEMS,
        description=f"Родители и их дети (до {2 * MAX_ITEMS})",
    )
    groups: list[GroupDoc] = Field(
        default_factory=list,
        max_length=MAX_ITEMS,
        description=f"Учебные группы с составом (до {MAX_ITEMS})",
    )
    assignments: list[AssignmentDoc] = Field(
        default_factory=list,
        max_length=10 * MAX_ITEMS,
        description="Назначения: какой преподаватель ведёт какой предмет в какой группе "
        f"(до {10 * MAX_ITEMS})",
    )

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
