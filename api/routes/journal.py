"""A student's journal, now or as it stood at any moment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from adapters.text import Ident, Moment
from api.deps import CurrentActor, Svc
from api.schemas import AbsenceOut, AttestationOut, JournalOut, MarkOut

router = APIRouter(prefix="/api/v1/students", tags=["журнал"])


@router.get(
    "/{student_id}/journal",
    response_model=JournalOut,
    summary="Журнал обучающегося",
    description="Отметки, пропуски и результаты аттестации обучающегося за учебный год; с as_of — "
    "каким журнал был в этот момент. Читают: администратор, директор, заместитель директора — все "
    "записи; преподаватель — свои группы и предметы; куратор — свою группу; обучающийся, "
    "родитель, доверенное лицо — свои записи; архивист — только закрытые годы. Ошибки: 401 — нет "
    "действующего токена; 403 forbidden; 404 not-found — записи нет или она скрыта от "
    "вызывающего; 422 — неверные параметры; 503 store-busy — повторите позже.",
)
def student_journal(
    services: Svc,
    actor: CurrentActor,
    student_id: str,
    year_id: Annotated[Ident | None, Query(description="Учебный год; по умолчанию текущий")] = None,
    as_of: Annotated[
        Moment | None,
        Query(
            description="Момент (ISO 8601 со смещением; годы 2000–2100): журнал, каким он был тогда"
        ),
    ] = None,
) -> JournalOut:
    view = services.journal.journal(actor, student_id, year_id, as_of)
    return JournalOut(
        student_id=view.student_id,
        year_id=view.year_id,
        as_of=as_of,
        marks=[MarkOut.of(student_id, m) for m in view.marks],
        absences=[AbsenceOut.of(student_id, a) for a in view.absences],
        attestations=[AttestationOut.of(student_id, t) for t in view.attestations],
    )
