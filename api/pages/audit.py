"""The audit trail for the administration (UI.md /audit): who changed what and when, with
filters and paging. Reads through the same use case as GET /api/v1/audit."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from adapters.report_tables import Table, csv_bytes, xlsx_bytes
from api.bootstrap import Services
from api.deps import Svc
from api.pages.common import ROLE_NAMES, PageViewer, render
from api.pages.journal import WORK_KIND_NAMES
from domain.actors import Actor
from domain.errors import Forbidden, RuleViolation
from projections.audit import ACTIONS

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_POSITION = 2**63 - 1

ACTION_NAMES: dict[str, str] = {
    "mark.recorded": "Отметка выставлена",
    "mark.corrected": "Отметка исправлена",
    "mark.cancelled": "Отметка аннулирована",
    "absence.recorded": "Пропуск отмечен",
    "absence.reason_set": "Причина пропуска указана",
    "absence.withdrawn": "Пропуск снят",
    "absence.notice_filed": "Сообщение об отсутствии",
    "attestation.recorded": "Аттестация выставлена",
    "attestation.corrected": "Аттестация исправлена",
    "diary.acknowledged": "Дневник просмотрен",
    "lesson.recorded": "Урок записан",
    "lesson.changed": "Урок изменён",
    "lesson.substituted": "Назначена замена",
    "lesson.cancelled": "Урок отменён",
    "organisation.registered": "Организация зарегистрирована",
    "organisation.renamed": "Организация переименована",
    "subject.named": "Название предмета",
    "subject.order_changed": "Порядок предметов изменён",
    "organisation.year_added": "Учебный год добавлен",
    "organisation.timezone_changed": "Часовой пояс изменён",
    "year.opened": "Учебный год открыт",
    "year.dates_changed": "Даты учебного года изменены",
    "year.periods_changed": "Периоды аттестации изменены",
    "year.rules_changed": "Правила журнала изменены",
    "group.changed": "Группа изменена",
    "membership.changed": "Состав группы изменён",
    "assignment.added": "Нагрузка назначена",
    "assignment.withdrawn": "Нагрузка снята",
    "schedule.changed": "Расписание предмета изменено",
    "year.closed": "Учебный год закрыт",
    "person.registered": "Человек зарегистрирован",
    "person.roles_changed": "Роли изменены",
    "person.children_changed": "Дети изменены",
    "person.deactivated": "Учётная запись отключена",
    "person.reactivated": "Учётная запись включена",
    "delegation.granted": "Доверенность выдана",
    "delegation.revoked": "Доверенность отозвана",
}
FIELD_NAMES: dict[str, str] = {
    "value": "отметка",
    "status": "состояние",
    "work_kind": "вид работы",
    "weight": "вес",
    "lesson_date": "дата урока",
    "lesson_no": "урок №",
    "code": "код",
    "reason": "причина",
    "source": "источник",
    "result": "результат",
    "period_id": "период",
    "from_date": "с",
    "to_date": "по",
    "topic": "тема",
    "homework": "д/з",
    "substitute_id": "замена",
    "present_at": "присутствовал",
    "person": "человек",
    "kind": "вид",
    "roles": "роли",
    "children": "дети",
    "name": "название",
    "curator_id": "куратор",
    "marks_enabled": "отметки",
    "starts_on": "начало",
    "ends_on": "конец",
    "group_id": "группа",
    "student_id": "обучающийся",
    "teacher_id": "преподаватель",
    "trustee_id": "доверенное лицо",
    "subject_id": "предмет",
    "year_id": "учебный год",
    "expires_at": "до",
    "timezone": "часовой пояс",
    "periods": "периоды",
}
HIDDEN_FIELDS = {"org_id", "late"}
VALUE_NAMES: dict[str, str] = {
    "active": "действует",
    "cancelled": "аннулирована",
    "withdrawn": "снят",
    "teacher": "преподаватель",
    "parent": "родитель",
    "curator": "куратор",
    "staff": "сотрудник",
    "system": "система",
    **ROLE_NAMES,
    **WORK_KIND_NAMES,
}
# Where a record's history is read (JSON API), by the first part of the action.
HISTORY = {
    "mark": "/api/v1/marks/{}/history",
    "absence": "/api/v1/absences/{}/history",
    "attestation": "/api/v1/attestations/{}/history",
}


@dataclass(frozen=True)
class AuditRow:
    when: str  # ДД.ММ.ГГГГ ЧЧ:ММ in the organisation's zone
    when_iso: str
    who: str
    action: str
    action_name: str
    student: str
    before: str
    after: str
    reason: str
    late: bool
    history_url: str | None


def _plain(value: Any, names: dict[str, str]) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return date.fromisoformat(value).strftime("%d.%m.%Y")
        except ValueError:
            pass
        return names.get(value) or VALUE_NAMES.get(value, value)
    if isinstance(value, list):
        return ", ".join(_plain(v, names) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v, names)}" for k, v in value.items())
    return str(value)


def describe(value: Any, names: dict[str, str]) -> str:
    """A before/after value of the audit trail as a person reads it."""
    if value is None:
        return ""
    if not isinstance(value, dict):
        return _plain(value, names)
    if set(value) <= {"value", "late"} and "value" in value:
        return _plain(value["value"], names)
    if set(value) <= {"result"}:
        return _plain(value["result"], names)
    parts: list[str] = []
    for key, item in value.items():
        if key in HIDDEN_FIELDS:
            continue
        if key == "value":
            parts.insert(0, _plain(item, names))
            continue
        parts.append(f"{FIELD_NAMES.get(key, key)}: {_plain(item, names)}")
    return "; ".join(parts)


def _moment(text: str, zone: ZoneInfo) -> tuple[str, str]:
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text, text
    local = at.astimezone(zone)
    return local.strftime("%d.%m.%Y %H:%M"), local.isoformat(timespec="seconds")


def rows_of(services: Services, org_id: str, items: list[dict[str, Any]]) -> list[AuditRow]:
    """Audit items (as GET /api/v1/audit returns them) ready for a table."""
    names = services.personal.names(org_id)
    zone = services.journal.zone_of(org_id)
    # Values name subjects and groups too: show their names (people's names win).
    org = services.journal.organisation(org_id)
    labels = dict(org.subjects) if org is not None else {}
    with contextlib.suppress(RuleViolation):
        labels |= {g: info.name for g, info in services.journal.current_year(org_id).groups.items()}
    labels |= names
    rows: list[AuditRow] = []
    for i in items:
        when, when_iso = _moment(str(i["occurred_at"]), zone)
        action = str(i["action"])
        after = i.get("after")
        record = i.get("record_id")
        kind = action.split(".", 1)[0]
        history = HISTORY[kind].format(record) if record and kind in HISTORY else None
        rows.append(
            AuditRow(
                when=when,
                when_iso=when_iso,
                who=names.get(i["actor_id"]) or VALUE_NAMES.get(i["actor_id"], i["actor_id"]),
                action=action,
                action_name=ACTION_NAMES.get(action, action),
                student=names.get(i["student_id"], i["student_id"]) if i["student_id"] else "",
                before=describe(i.get("before"), labels),
                after=describe(after, labels),
                reason=i.get("reason") or "",
                late=isinstance(after, dict) and bool(after.get("late")),
                history_url=history,
            )
        )
    return rows


def _date(text: str, label: str) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise RuleViolation(f"Дата «{label}» не распознана; нужен вид ГГГГ-ММ-ДД") from None
    if not 2000 <= day.year <= 2100:
        raise RuleViolation(f"Дата «{label}» вне 2000–2100 годов")
    return day


def _people(services: Services, org_id: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(students, teachers) of the current year as (id, label), in alphabetical order."""
    names = services.personal.names(org_id)
    app = services.journal
    try:
        year = app.current_year(org_id)
    except RuleViolation:
        return [], []
    group_of: dict[str, str] = {}
    for g, s in sorted(year.memberships):
        info = year.groups.get(g)
        group_of[s] = info.name if info else g
    teacher_ids = {t for t, _g, _s in year.assignments} | {
        g.curator_id for g in year.groups.values() if g.curator_id
    }

    def order(pair: tuple[str, str]) -> str:
        return pair[1].lower().replace("ё", "е")

    students = sorted(
        ((s, f"{names.get(s, s)} ({group})") for s, group in group_of.items()), key=order
    )
    teachers = sorted(((t, names.get(t, t)) for t in teacher_ids), key=order)
    return students, teachers


def _entries(
    services: Services,
    actor: Actor,
    student_id: str,
    actor_id: str,
    action: str,
    from_: str,
    to: str,
    cursor: str,
    limit: int,
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of audit entries through the same use case as GET /api/v1/audit."""
    zone = services.journal.zone_of(actor.org_id)
    since_day = _date(from_, "С")
    until_day = _date(to, "По")
    if since_day and until_day and until_day < since_day:
        raise RuleViolation("Дата «По» раньше даты «С»")
    position: int | None = None
    if cursor:
        if not cursor.isdigit() or int(cursor) > MAX_POSITION:
            raise RuleViolation("Страница журнала изменений указана неверно")
        position = int(cursor)
    items, next_cursor = services.journal.audit(
        actor,
        student_id=student_id or None,
        actor_id=actor_id or None,
        action=action or None,
        since=datetime.combine(since_day, time(0), tzinfo=zone) if since_day else None,
        until=(
            datetime.combine(until_day + timedelta(days=1), time(0), tzinfo=zone)
            if until_day
            else None
        ),
        cursor=position,
        limit=limit,
    )
    return list(items), next_cursor


EXPORT_HEADERS = ["Когда", "Кто", "Действие", "Ученик", "Было", "Стало", "Причина"]
EXPORT_LIMIT = 20_000


@router.get("/audit/export")
def audit_export(
    services: Svc,
    who: PageViewer,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
    student_id: Annotated[str, Query(max_length=64)] = "",
    actor_id: Annotated[str, Query(max_length=64)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    from_: Annotated[str, Query(alias="from", max_length=40)] = "",
    to: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """The filtered list as CSV or XLSX (newest first, at most EXPORT_LIMIT entries)."""
    actor = who.actor
    if not actor.is_administration():
        return Response(
            "Журнал изменений выгружают заместитель директора, директор и администратор",
            status_code=403,
            media_type="text/plain; charset=utf-8",
        )
    rows: list[AuditRow] = []
    cursor = ""
    try:
        while len(rows) < EXPORT_LIMIT:
            items, next_cursor = _entries(
                services, actor, student_id, actor_id, action, from_, to, cursor, 500
            )
            rows += rows_of(services, actor.org_id, items)
            if next_cursor is None:
                break
            cursor = str(next_cursor)
    except RuleViolation as e:
        return Response(e.detail, status_code=422, media_type="text/plain; charset=utf-8")
    table = Table(
        "Журнал изменений",
        EXPORT_HEADERS,
        [[r.when, r.who, r.action_name, r.student, r.before, r.after, r.reason] for r in rows],
    )
    if format == "xlsx":
        content, media = (
            xlsx_bytes(table),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )
    else:
        content, media = csv_bytes(table), "text/csv; charset=utf-8"
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit.{format}"'},
    )


@router.get("/audit")
def audit(
    request: Request,
    services: Svc,
    who: PageViewer,
    student_id: Annotated[str, Query(max_length=64)] = "",
    actor_id: Annotated[str, Query(max_length=64)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    from_: Annotated[str, Query(alias="from", max_length=40)] = "",
    to: Annotated[str, Query(max_length=40)] = "",
    cursor: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    actor = who.actor
    filters = {
        "student_id": student_id,
        "actor_id": actor_id,
        "action": action,
        "from": from_,
        "to": to,
    }
    if not actor.is_administration():
        return render(
            request,
            "audit.html",
            who,
            status_code=403,
            forbidden=True,
            error="Журнал изменений читают заместитель директора, директор и администратор",
            filters=filters,
            export_query="",
            rows=[],
            students=[],
            teachers=[],
            actions=[],
            next_url=None,
            first_url=None,
        )
    zone = services.journal.zone_of(actor.org_id)
    rows: list[AuditRow] = []
    next_url: str | None = None
    error: str | None = None
    status = 200
    try:
        items, next_cursor = _entries(
            services, actor, student_id, actor_id, action, from_, to, cursor, PAGE_SIZE
        )
        rows = rows_of(services, actor.org_id, items)
        if next_cursor is not None:
            query = {k: v for k, v in filters.items() if v}
            next_url = "/audit?" + urlencode({**query, "cursor": next_cursor})
    except Forbidden as e:
        error, status = e.detail, 403
    except RuleViolation as e:
        error, status = e.detail, 422
    query = {k: v for k, v in filters.items() if v}
    first_url = ("/audit?" + urlencode(query)) if query else "/audit"
    students, teachers = _people(services, actor.org_id)
    names = services.personal.names(actor.org_id)
    for chosen, options in ((student_id, students), (actor_id, teachers)):
        if chosen and all(chosen != value for value, _label in options):
            options.insert(0, (chosen, names.get(chosen, chosen)))
    return render(
        request,
        "audit.html",
        who,
        status_code=status,
        forbidden=False,
        error=error,
        filters=filters,
        rows=rows,
        students=students,
        teachers=teachers,
        actions=sorted(
            ((a, ACTION_NAMES.get(a, a)) for a in set(ACTIONS.values())),
            key=lambda p: p[1].lower().replace("ё", "е"),
        ),
        next_url=next_url,
        first_url=first_url if cursor else None,
        export_query=urlencode({k: v for k, v in filters.items() if v}),
        page_size=PAGE_SIZE,
        zone=zone.key,
    )
