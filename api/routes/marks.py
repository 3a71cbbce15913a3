"""Current marks: record, correct, cancel, history."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import BEARER, Calling, CurrentActor, Svc
from api.schemas import (
    CorrectionIn,
    MarkHistoryOut,
    MarkIn,
    MarkOut,
    MarkVersionOut,
    ReasonIn,
    json_answer,
)

router = APIRouter(prefix="/api/v1/marks", tags=["отметки"])


@router.post(
    "",
    status_code=201,
    openapi_extra=BEARER,
    response_model=MarkOut,
    summary="Выставить отметку",
    description="Вызывают: преподаватель — по своим группам и предметам, замещающий — на уроке "
    "замены, заместитель директора — все. Отметка — в шкале организации, вид работы задаёт её "
    "вес. Запись урока не в будущем; после срока из правил года изменение делает только "
    "заместитель директора с причиной (помечается late). 422 — поля или правило журнала (шкала, "
    "срок, урок в будущем, обучающийся не в группе). Ошибки: 401 — нет действующего токена; 403 "
    "forbidden — роль или назначение не позволяют; 409 year-closed — учебный год закрыт; 413 "
    "payload-too-large; 503 store-busy — хранилище занято, ничего не записано: повторите с тем же "
    "Idempotency-Key.",
)
async def record_mark(caller: Calling, body: MarkIn) -> Response:
    journal = caller.services.journal
    fields = body.model_dump()
    w = await caller.call(lambda actor: journal.record_mark(actor, **fields))
    return json_answer(
        MarkOut.of(w.student_id, w.record, w.position).model_dump_json().encode(), 201
    )


@router.post(
    "/{mark_id}/corrections",
    response_model=MarkOut,
    summary="Исправить отметку",
    description="Вызывают: преподаватель — по своим группам и предметам, замещающий — на уроке "
    "замены, заместитель директора — все. Нужны новое значение и причина: появляется новая "
    "версия, прежние остаются в истории. Запись урока не в будущем; после срока из правил года "
    "изменение делает только заместитель директора с причиной (помечается late). 404 not-found — "
    "нет отметки или она не видна; 422 — причина, шкала, срок. Ошибки: 401 — нет действующего "
    "токена; 403 forbidden — роль или назначение не позволяют; 409 year-closed — учебный год "
    "закрыт; 413 payload-too-large; 503 store-busy — хранилище занято, ничего не записано: "
    "повторите с тем же Idempotency-Key.",
)
def correct_mark(services: Svc, actor: CurrentActor, mark_id: str, body: CorrectionIn) -> MarkOut:
    w = services.journal.correct_mark(actor, mark_id, value=body.value, reason=body.reason)
    return MarkOut.of(w.student_id, w.record, w.position)


@router.post(
    "/{mark_id}/cancellation",
    response_model=MarkOut,
    summary="Аннулировать отметку",
    description="Вызывают: преподаватель — по своим группам и предметам, замещающий — на уроке "
    "замены, заместитель директора — все. Нужна причина; отметка остаётся в журнале со статусом "
    "cancelled и не входит в средние. Запись урока не в будущем; после срока из правил года "
    "изменение делает только заместитель директора с причиной (помечается late). 404 not-found — "
    "нет отметки; 422 — причина или срок. Ошибки: 401 — нет действующего токена; 403 forbidden — "
    "роль или назначение не позволяют; 409 year-closed — учебный год закрыт; 413 "
    "payload-too-large; 503 store-busy — хранилище занято, ничего не записано: повторите с тем же "
    "Idempotency-Key.",
)
def cancel_mark(services: Svc, actor: CurrentActor, mark_id: str, body: ReasonIn) -> MarkOut:
    w = services.journal.cancel_mark(actor, mark_id, reason=body.reason)
    return MarkOut.of(w.student_id, w.record, w.position)


@router.get(
    "/{mark_id}/history",
    response_model=MarkHistoryOut,
    summary="История отметки",
    description="Все версии отметки с автором, ролью, временем и причиной. Читают: администратор, "
    "директор, заместитель директора — все записи; преподаватель — свои группы и предметы; "
    "куратор — свою группу; обучающийся, родитель, доверенное лицо — свои записи; архивист — "
    "только закрытые годы. Ошибки: 401 — нет действующего токена; 403 forbidden; 404 not-found — "
    "записи нет или она скрыта от вызывающего; 422 — неверные параметры; 503 store-busy — "
    "повторите позже.",
)
def mark_history(services: Svc, actor: CurrentActor, mark_id: str) -> MarkHistoryOut:
    mark = services.journal.mark_history(actor, mark_id)
    return MarkHistoryOut(
        mark_id=mark.mark_id,
        versions=[
            MarkVersionOut(
                value=v.value,
                status=v.status,
                actor_id=v.actor_id,
                actor_role=v.actor_role,
                occurred_at=v.occurred_at,
                reason=v.reason,
                late=v.late,
            )
            for v in mark.versions
        ],
    )
