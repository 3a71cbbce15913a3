"""The audit trail: who changed what and when (deputy, director, administrator)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from adapters.text import Ident, Moment, Position
from api.deps import CurrentActor, Svc

router = APIRouter(prefix="/api/v1", tags=["аудит"])


class AuditItem(BaseModel):
    event_id: str
    occurred_at: str
    actor_id: str
    actor_role: str
    action: str
    student_id: str | None
    group_id: str | None
    subject_id: str | None
    record_id: str | None
    before: Any
    after: Any
    reason: str | None
    position: int


class AuditOut(BaseModel):
    items: list[AuditItem]
    next_cursor: int | None


@router.get(
    "/audit",
    response_model=AuditOut,
    summary="Журнал изменений: кто, что, когда",
    description="Новые сначала. next_cursor передайте как cursor за следующей "
    "страницей. Действия: mark.recorded, mark.corrected, mark.cancelled, "
    "absence.recorded, absence.reason_set, absence.withdrawn, attestation.recorded, "
    "attestation.corrected, lesson.*, year.rules_changed, year.closed, person.* и др.",
)
def audit(
    services: Svc,
    actor: CurrentActor,
    student_id: Annotated[Ident | None, Query()] = None,
    group_id: Annotated[Ident | None, Query()] = None,
    actor_id: Annotated[Ident | None, Query()] = None,
    subject_id: Annotated[Ident | None, Query()] = None,
    action: Annotated[Ident | None, Query()] = None,
    from_: Annotated[
        Moment | None, Query(alias="from", description="С момента (со смещением; 2000–2100)")
    ] = None,
    to: Annotated[Moment | None, Query(description="До момента (со смещением; 2000–2100)")] = None,
    cursor: Annotated[Position | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    min_position: Annotated[Position | None, Query()] = None,
) -> AuditOut:
    items, next_cursor = services.journal.audit(
        actor,
        student_id=student_id,
        group_id=group_id,
        actor_id=actor_id,
        subject_id=subject_id,
        action=action,
        since=from_,
        until=to,
        cursor=cursor,
        limit=limit,
        min_position=min_position,
    )
    return AuditOut(items=[AuditItem(**i) for i in items], next_cursor=next_cursor)
