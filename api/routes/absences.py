"""Absences from lessons."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentActor, Svc
from api.schemas import AbsenceIn, AbsenceOut

router = APIRouter(prefix="/api/v1/absences", tags=["пропуски"])


@router.post("", status_code=201, response_model=AbsenceOut, summary="Отметить пропуск")
def record_absence(services: Svc, actor: CurrentActor, body: AbsenceIn) -> AbsenceOut:
    w = services.journal.record_absence(actor, **body.model_dump())
    return AbsenceOut.of(w.student_id, w.record, w.position)
