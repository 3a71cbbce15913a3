"""The class journal page (UI.md «The class journal page»): a keyboard-first grid of a group's
marks and absences in one subject and period. Writes go from the page's script to the JSON
API (same use cases, CSRF header, Idempotency-Key); this module only renders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from adapters.service.class_journal import Cell, ClassJournal, Column
from api.deps import Svc
from api.errors import STATUS
from api.pages.common import PageViewer, Viewer, render, render_error
from domain.errors import Forbidden, RecordNotFound, RuleViolation
from domain.rules import WORK_KINDS

router = APIRouter(include_in_schema=False)

WORK_KIND_NAMES = {
    "oral": "устный ответ",
    "written": "письменная работа",
    "test": "тест",
    "control": "контрольная работа",
    "lab": "лабораторная работа",
    "practical": "практическая работа",
    "homework": "домашняя работа",
    "monitoring": "мониторинг",
}
DEFAULT_KIND = "oral"
TOPIC_CHARS = 14


@dataclass(frozen=True)
class HeaderView:
    """What a lesson column's header shows."""

    column: Column
    label: str  # «30.11 №2 Функ…»
    title: str  # full date, number, topic, homework, kind of work
    kind: str
    name: str  # the header button's accessible name: «30.11, урок 1: Функции»


def header_of(column: Column) -> HeaderView:
    kind = column.work_kind if column.work_kind in WORK_KINDS else DEFAULT_KIND
    label = f"{column.lesson_date:%d.%m}"
    if column.lesson_no is not None:
        label += f" №{column.lesson_no}"
    topic = (column.topic or "").strip()
    if topic:
        label += " " + (topic if len(topic) <= TOPIC_CHARS else topic[: TOPIC_CHARS - 1] + "…")
    parts = [f"{column.lesson_date:%d.%m.%Y}"]
    if column.lesson_no is not None:
        parts.append(f"урок {column.lesson_no}")
    if topic:
        parts.append(f"тема: {topic}")
    if column.homework:
        parts.append(f"д/з: {column.homework}")
    parts.append(f"вид работы: {WORK_KIND_NAMES.get(kind, kind)}")
    name = f"{column.lesson_date:%d.%m}"
    if column.lesson_no is not None:
        name += f", урок {column.lesson_no}"
    name += f": {topic}" if topic else ": тема не указана"
    if column.lesson_id is None:
        parts.append("записи без урока")
        name += " (записи без урока)"
    return HeaderView(column, label, "; ".join(parts), kind, name)


def _lowest_mark(services: Svc, org_id: str, year_id: str) -> int:
    try:
        return int(services.journal.year(org_id, year_id).rules.lowest_mark)
    except Exception:  # the scale is only a hint for typing; the API checks again
        return 2


def _parse_as_of(value: str | None) -> datetime | None:
    """`datetime-local` text (ЧЧ:ММ means ЧЧ:ММ:00): wall-clock time, zone added later."""
    if not value:
        return None
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        raise RuleViolation(
            "Дата и время «На дату» не распознаны; нужен вид ГГГГ-ММ-ДДTЧЧ:ММ", field="as_of"
        ) from None
    return found.replace(tzinfo=None)


def _error_page(request: Request, who: Viewer, e: RuleViolation) -> Response:
    if isinstance(e, Forbidden):
        status = 403
    elif isinstance(e, RecordNotFound):
        status = 404
    else:
        status = STATUS.get(e.code, 400)
    return render_error(
        request, who, status, "Журнал недоступен", e.detail, back=("/journal", "К списку журналов")
    )


@router.get("/journal/{group_id}/{subject_id}")
def class_journal_page(
    request: Request,
    services: Svc,
    who: PageViewer,
    group_id: str,
    subject_id: str,
    period_id: Annotated[str | None, Query(max_length=100)] = None,
    as_of: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    actor = who.actor
    app = services.journal
    try:
        moment = _parse_as_of(as_of)
        journal: ClassJournal = app.class_journal(
            actor,
            group_id=group_id,
            subject_id=subject_id,
            period_id=period_id or None,
            as_of=moment,
            names=lambda ids: services.personal.names(actor.org_id, ids),
        )
    except RuleViolation as e:
        return _error_page(request, who, e)

    # One hidden description per distinct read-only reason (aria-describedby of the cells).
    reasons: dict[str, str] = {}

    def reason_id(cell: Cell) -> str | None:
        if cell.writable or not cell.reason_read_only:
            return None
        return reasons.setdefault(cell.reason_read_only, f"ro-{len(reasons) + 1}")

    zone = app.zone_of(actor.org_id)
    as_of_value = journal.as_of.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if journal.as_of else ""
    today: date = app.today(actor.org_id)
    next_no = 1 + max(
        (c.lesson_no or 0 for c in journal.columns if c.lesson_date == today), default=0
    )
    return render(
        request,
        "journal.html",
        who,
        journal=journal,
        headers=[header_of(c) for c in journal.columns],
        reason_id=reason_id,
        reasons=reasons,
        work_kinds=[(k, WORK_KIND_NAMES[k]) for k in WORK_KINDS],
        default_kind=DEFAULT_KIND,
        lowest_mark=_lowest_mark(services, actor.org_id, journal.year_id),
        may_look_back=actor.is_administration(),
        as_of_value=as_of_value,
        zone=zone.key,
        today=today.isoformat(),
        next_lesson_no=min(next_no, 20),
        may_add_lesson=not journal.read_only,
    )
