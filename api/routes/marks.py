"""Current marks: record, correct, cancel, history."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentActor, Svc
from api.schemas import CorrectionIn, MarkHistoryOut, MarkIn, MarkOut, MarkVersionOut, ReasonIn

router = APIRouter(prefix="/api/v1/marks", tags=["отметки"])


@router.post("", status_code=201, response_model=MarkOut, summary="Выставить отметку")
def record_mark(services: Svc, actor: CurrentActor, body: MarkIn) -> MarkOut:
    w = services.journal.record_mark(actor, **body.model_dump())
    return MarkOut.of(w.student_id, w.record, w.position)


@router.post("/{mark_id}/corrections", response_model=MarkOut, summary="Исправить отметку")
def correct_mark(services: Svc, actor: CurrentActor, mark_id: str, body: CorrectionIn) -> MarkOut:
    w = services.journal.correct_mark(actor, mark_id, value=body.value, reason=body.reason)
    return MarkOut.of(w.student_id, w.record, w.position)


@router.post("/{mark_id}/cancellation", response_model=MarkOut, summary="Аннулировать отметку")
def cancel_mark(services: Svc, actor: CurrentActor, mark_id: str, body: ReasonIn) -> MarkOut:
    w = services.journal.cancel_mark(actor, mark_id, reason=body.reason)
    return MarkOut.of(w.student_id, w.record, w.position)


@router.get("/{mark_id}/history", response_model=MarkHistoryOut, summary="История отметки")
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
