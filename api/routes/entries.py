"""A lesson's marks and absences in one request (API.md 1.1)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from adapters.service.entries import AbsenceEntry, MarkEntry
from api.deps import CurrentActor, Svc
from api.schemas import AbsenceOut, EntriesIn, MarkOut

router = APIRouter(prefix="/api/v1/entries", tags=["отметки"])


class EntriesOut(BaseModel):
    marks: list[MarkOut]
    absences: list[AbsenceOut]
    position: int


@router.post(
    "", status_code=201, response_model=EntriesOut, summary="Записать урок: отметки и пропуски"
)
def record_entries(services: Svc, actor: CurrentActor, body: EntriesIn) -> EntriesOut:
    w = services.journal.record_entries(
        actor,
        group_id=body.group_id,
        subject_id=body.subject_id,
        lesson_date=body.lesson_date,
        lesson_no=body.lesson_no,
        marks=[
            MarkEntry(m.student_id, m.value, str(m.work_kind or body.work_kind), m.comment)
            for m in body.marks
        ],
        absences=[AbsenceEntry(a.student_id, a.code, a.reason) for a in body.absences],
    )
    return EntriesOut(
        marks=[MarkOut.of(s, m, w.position) for s, m in w.marks],
        absences=[AbsenceOut.of(s, a, w.position) for s, a in w.absences],
        position=w.position,
    )
