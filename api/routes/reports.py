"""Reports from the read models: gradebook, attendance, summary sheet, monitoring."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from adapters.report_tables import (
    attendance_table,
    gradebook_table,
    summary_table,
    table_caption,
)
from adapters.text import Ident, Moment, Position, SaneDate
from api.deps import CurrentActor, Svc
from api.exports import table_response, wanted
from api.schemas import (
    AttendanceOut,
    AttendanceRowOut,
    GradebookOut,
    GradebookRowOut,
    MonitoringOut,
    SummaryRowOut,
    SummarySheetOut,
)

router = APIRouter(prefix="/api/v1", tags=["отчёты"])

Format = Annotated[
    Literal["json", "csv", "xlsx"] | None,
    Query(description="Формат: json (по умолчанию), csv или xlsx; или заголовок Accept"),
]
MinPosition = Annotated[
    Position | None,
    Query(description="Дождаться (до 2 с), пока отчёт учтёт запись с этой позицией"),
]
AsOf = Annotated[
    Moment | None,
    Query(description="Каким отчёт был в этот момент (со смещением; годы 2000–2100)"),
]
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
        }
    }
}


@router.get(
    "/gradebook",
    response_model=GradebookOut,
    responses=EXPORT_RESPONSES,
    summary="Страница журнала группы по предмету за период",
    description="Страница журнала: уроки периода по датам, отметки и пропуски, среднее и "
    "средневзвешенное, результат аттестации. Формат json, csv или xlsx (параметр format или "
    "заголовок Accept); as_of — каким отчёт был тогда; min_position — дождаться своей записи (до "
    "2 с, иначе complete=false). Вызывают: администратор, директор, заместитель директора — все "
    "группы; преподаватель — свои группы и предметы; куратор — свою группу; архивист — только "
    "закрытые годы. Ошибки: 401; 403 forbidden — группа или предмет не ваши; 404 not-found — нет "
    "группы, года или периода; 422 — неверные параметры; 503 store-busy.",
)
def get_gradebook(
    request: Request,
    services: Svc,
    actor: CurrentActor,
    group_id: Annotated[Ident, Query()],
    subject_id: Annotated[Ident, Query()],
    period_id: Annotated[Ident, Query()],
    as_of: AsOf = None,
    year_id: Annotated[Ident | None, Query()] = None,
    min_position: MinPosition = None,
    format: Format = None,
) -> Any:
    report = services.journal.gradebook(
        actor,
        group_id=group_id,
        subject_id=subject_id,
        period_id=period_id,
        as_of=as_of,
        year_id=year_id,
        min_position=min_position,
    )
    book = report.body
    names = services.personal.names(actor.org_id, [r.student_id for r in book.rows])
    out = GradebookOut(
        group_id=group_id,
        subject_id=subject_id,
        period_id=period_id,
        year_id=report.year.year_id,
        as_of=as_of,
        position=report.position,
        complete=report.complete,
        columns=book.columns,
        rows=[
            GradebookRowOut(
                student_id=r.student_id,
                full_name=names.get(r.student_id),
                marks=r.marks,
                average=_number(r.average),
                weighted_average=_number(r.weighted_average),
                absences=r.absences,
                attestation=r.attestation,
            )
            for r in book.rows
        ],
    )
    fmt = wanted(request, format)
    if fmt == "json":
        return out
    caption = _caption(services, actor, report.year, group_id, subject_id, period_id)
    return table_response(
        fmt, gradebook_table(book, names, caption), f"журнал-{group_id}-{subject_id}-{period_id}"
    )


@router.get(
    "/attendance",
    response_model=AttendanceOut,
    responses=EXPORT_RESPONSES,
    summary="Посещаемость группы за период",
    description="Посещаемость группы за период: пропущенные уроки по кодам и источникам и "
    "пропуски «Н» без причины старше unexplained_days дней. Формат json, csv или xlsx; as_of, "
    "min_position — как у журнала. Вызывают: администратор, директор, заместитель директора — все "
    "группы; преподаватель — свои группы и предметы; куратор — свою группу; архивист — только "
    "закрытые годы. Ошибки: 401; 403 forbidden — группа или предмет не ваши; 404 not-found — нет "
    "группы, года или периода; 422 — неверные параметры; 503 store-busy.",
)
def get_attendance(
    request: Request,
    services: Svc,
    actor: CurrentActor,
    group_id: Annotated[Ident, Query()],
    from_date: SaneDate,
    to_date: SaneDate,
    unexplained_days: Annotated[
        int, Query(ge=0, le=365, description="Пропуски «Н» старше стольких дней — в список")
    ] = 3,
    as_of: AsOf = None,
    min_position: MinPosition = None,
    format: Format = None,
) -> Any:
    report = services.journal.attendance(
        actor,
        group_id=group_id,
        from_date=from_date,
        to_date=to_date,
        unexplained_days=unexplained_days,
        min_position=min_position,
        as_of=as_of,
    )
    body = report.body
    names = services.personal.names(actor.org_id)
    out = AttendanceOut(
        group_id=group_id,
        from_date=from_date,
        to_date=to_date,
        position=report.position,
        complete=report.complete,
        rows=[
            AttendanceRowOut(
                student_id=r.student_id,
                full_name=names.get(r.student_id),
                absent_lessons=r.absent_lessons,
                by_code=r.by_code,
                by_source=r.by_source,
            )
            for r in body.rows
        ],
        unexplained=[{**u, "full_name": names.get(u["student_id"])} for u in body.unexplained],
    )
    fmt = wanted(request, format)
    if fmt == "json":
        return out
    caption = _caption(services, actor, report.year, group_id)
    return table_response(
        fmt,
        attendance_table(body, names, caption),
        f"посещаемость-{group_id}-{from_date}-{to_date}",
    )


@router.get(
    "/years/{year_id}/summary-sheet",
    response_model=SummarySheetOut,
    responses=EXPORT_RESPONSES,
    summary="Сводная ведомость итоговых отметок",
    description="Итоговые отметки группы по предметам за год; explain=true объясняет каждую "
    "(среднее текущих, правило). Формат json, csv или xlsx. Вызывают: администратор, директор, "
    "заместитель директора — все группы; куратор — свою группу; архивист — только закрытые годы. "
    "Ошибки: 401; 403 forbidden — группа или предмет не ваши; 404 not-found — нет группы, года "
    "или периода; 422 — неверные параметры; 503 store-busy.",
)
def get_summary_sheet(
    request: Request,
    services: Svc,
    actor: CurrentActor,
    year_id: str,
    group_id: Annotated[Ident, Query()],
    explain: Annotated[bool, Query(description="Объяснить каждую итоговую отметку")] = False,
    as_of: AsOf = None,
    min_position: MinPosition = None,
    format: Format = None,
) -> Any:
    report = services.journal.summary_sheet(
        actor,
        year_id=year_id,
        group_id=group_id,
        min_position=min_position,
        as_of=as_of,
        explain=explain,
    )
    names = services.personal.names(actor.org_id)
    org = services.journal.organisation(actor.org_id)
    subjects = org.subjects if org else {}
    out = SummarySheetOut(
        year_id=year_id,
        group_id=group_id,
        position=report.position,
        complete=report.complete,
        subjects={
            s: subjects.get(s, s) for s in services.journal.group_subjects(report.year, group_id)
        },
        rows=[
            SummaryRowOut(
                student_id=r.student_id,
                full_name=names.get(r.student_id),
                results=r.results,
                periods={
                    s: [
                        {
                            "period_id": p.period_id,
                            "result": p.result,
                            "computed": p.computed,
                            **({"explanation": p.explanation} if explain else {}),
                        }
                        for p in ps
                    ]
                    for s, ps in r.periods.items()
                },
            )
            for r in report.body
        ],
    )
    fmt = wanted(request, format)
    if fmt == "json":
        return out
    return table_response(
        fmt,
        summary_table(
            report.body, out.subjects, names, _caption(services, actor, report.year, group_id)
        ),
        f"сводная-ведомость-{year_id}-{group_id}",
    )


def _caption(
    services: Any,
    actor: Any,
    year: Any,
    group_id: str,
    subject_id: str | None = None,
    period_id: str | None = None,
) -> str:
    """The XLSX title row: organisation, group, subject and period by their names."""
    org = services.journal.organisation(actor.org_id)
    group = year.groups.get(group_id) if year is not None else None
    periods = year.periods_of(subject_id) if year is not None and subject_id else {}
    period = periods.get(period_id) if period_id else None
    return table_caption(
        org.name if org is not None else actor.org_id,
        group.name if group is not None else group_id,
        (org.subjects.get(subject_id, subject_id) if org is not None else subject_id)
        if subject_id
        else None,
        period.name if period is not None else period_id,
    )


@router.get(
    "/monitoring",
    response_model=MonitoringOut,
    summary="Мониторинг ведения журнала",
    description="Показатели ведения журнала группы за период: кто из преподавателей ведёт журнал, "
    "обучающиеся без отметок и с одной отметкой, уроки с темой и заданием, задолженности, "
    "подтверждения родителей. Вызывают: администратор, директор, заместитель директора — все "
    "группы; куратор — свою группу. Ошибки: 401; 403 forbidden — группа или предмет не ваши; 404 "
    "not-found — нет группы, года или периода; 422 — неверные параметры; 503 store-busy.",
)
def get_monitoring(
    services: Svc,
    actor: CurrentActor,
    group_id: Annotated[Ident, Query()],
    from_date: SaneDate,
    to_date: SaneDate,
    min_position: MinPosition = None,
) -> MonitoringOut:
    report = services.journal.monitoring(
        actor, group_id=group_id, from_date=from_date, to_date=to_date, min_position=min_position
    )
    return MonitoringOut(
        group_id=group_id,
        from_date=from_date,
        to_date=to_date,
        position=report.position,
        complete=report.complete,
        **{k: _number(v) if isinstance(v, Decimal) else v for k, v in report.body.items()},  # type: ignore[arg-type]
    )


@router.post(
    "/students/{student_id}/diary-acknowledgements",
    status_code=201,
    summary="Родитель подтверждает просмотр дневника",
    description="Вызывают родитель и доверенное лицо — для своих детей. Записывает, что дневник "
    "просмотрен (учитывается в мониторинге). Тела нет. Ошибки: 401; 403 forbidden — обучающийся "
    "не ваш; 404 not-found; 409 year-closed; 413 payload-too-large; 503 store-busy.",
)
def acknowledge_diary(services: Svc, actor: CurrentActor, student_id: str) -> dict[str, Any]:
    w = services.journal.acknowledge_diary(actor, student_id)
    parent_id, at = w.record
    return {
        "student_id": student_id,
        "parent_id": parent_id,
        "acknowledged_at": at,
        "position": w.position,
    }


def _number(value: Decimal | None) -> float | None:
    """A JSON number: Decimal rounded already, float only for the wire."""
    return float(value) if value is not None else None
