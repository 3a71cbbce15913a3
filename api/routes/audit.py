"""The audit trail: who changed what and when (deputy, director, administrator)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel

from adapters.text import Text
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
    student_id: Annotated[Text | None, Query()] = None,
    group_id: Annotated[Text | None, Query()] = None,
    actor_id: Annotated[Text | None, Query()] = None,
    subject_id: Annotated[Text | None, Query()] = None,
    action: Annotated[Text | None, Query()] = None,
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: Annotated[AwareDatetime | None, Query()] = None,
    cursor: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    min_position: Annotated[int | None, Query(ge=0)] = None,
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
