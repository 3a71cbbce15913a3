"""A lesson's marks and absences in one request (API.md 1.1)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from adapters.service.entries import AbsenceEntry, EntriesWritten, MarkEntry
from api.deps import BEARER, Calling
from api.schemas import AbsenceOut, EntriesIn, MarkOut, json_answer
from domain.actors import Actor

router = APIRouter(prefix="/api/v1/entries", tags=["отметки"])


class EntriesOut(BaseModel):
    marks: list[MarkOut] = Field(description="Записанные отметки")
    absences: list[AbsenceOut] = Field(description="Записанные пропуски")
    position: int = Field(
        description="Позиция записи в журнале событий (для min_position в отчётах)"
    )


@router.post(
    "",
    status_code=201,
    openapi_extra=BEARER,
    response_model=EntriesOut,
    summary="Записать урок: отметки и пропуски",
    description="Вызывают: преподаватель — по своим группам и предметам, замещающий — на уроке "
    "замены, заместитель директора — все. Отметки и пропуски одного урока (до 100) записываются "
    "все или ни одна: при любой ошибке ничего не записано, и 422 перечисляет ошибки по элементам "
    "(marks.N, absences.N). Запись урока не в будущем; после срока из правил года изменение "
    "делает только заместитель директора с причиной (помечается late). Ошибки: 401 — нет "
    "действующего токена; 403 forbidden — роль или назначение не позволяют; 409 year-closed — "
    "учебный год закрыт; 413 payload-too-large; 503 store-busy — хранилище занято, ничего не "
    "записано: повторите с тем же Idempotency-Key.",
)
async def record_entries(caller: Calling, body: EntriesIn) -> Response:
    marks = [
        MarkEntry(m.student_id, m.value, str(m.work_kind or body.work_kind), m.comment)
        for m in body.marks
    ]
    absences = [AbsenceEntry(a.student_id, a.code, a.reason) for a in body.absences]

    def record(actor: Actor) -> EntriesWritten:
        return caller.services.journal.record_entries(
            actor,
            group_id=body.group_id,
            subject_id=body.subject_id,
            lesson_date=body.lesson_date,
            lesson_no=body.lesson_no,
            marks=marks,
            absences=absences,
        )

    w = await caller.call(record)
    out = EntriesOut(
        marks=[MarkOut.of(s, m, w.position) for s, m in w.marks],
        absences=[AbsenceOut.of(s, a, w.position) for s, a in w.absences],
        position=w.position,
    )
    return json_answer(out.model_dump_json().encode(), 201)
