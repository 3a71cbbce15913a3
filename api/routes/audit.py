"""The audit trail: who changed what and when (deputy, director, administrator)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from adapters.text import Ident, Moment, Position
from api.deps import CurrentActor, Svc

router = APIRouter(prefix="/api/v1", tags=["аудит"])


class AuditItem(BaseModel):
    event_id: str = Field(description="Идентификатор события")
    occurred_at: str = Field(description="Когда (ISO 8601 со смещением)")
    actor_id: str = Field(description="Кто сделал (идентификатор человека)")
    actor_role: str = Field(description="В какой роли")
    action: str = Field(description="Действие: mark.recorded, absence.withdrawn, year.closed и др.")
    student_id: str | None = Field(
        description="Чья запись (обучающийся); null — не про обучающегося"
    )
    group_id: str | None = Field(description="Группа; null — не про группу")
    subject_id: str | None = Field(description="Предмет; null — не про предмет")
    record_id: str | None = Field(
        description="Идентификатор изменённой записи (отметки, пропуска, урока…)"
    )
    before: Any = Field(description="Значение до изменения; null — запись новая")
    after: Any = Field(description="Значение после изменения")
    reason: str | None = Field(description="Причина изменения; null — не указана")
    position: int = Field(description="Позиция события в журнале событий")


class AuditOut(BaseModel):
    items: list[AuditItem] = Field(description="Изменения, новые сначала")
    next_cursor: int | None = Field(
        description="Передайте как cursor за следующей страницей; null — страниц больше нет"
    )


@router.get(
    "/audit",
    response_model=AuditOut,
    summary="Журнал изменений: кто, что, когда",
    description="Новые сначала. next_cursor передайте как cursor за следующей "
    "страницей. Действия: mark.recorded, mark.corrected, mark.cancelled, "
    "absence.recorded, absence.reason_set, absence.withdrawn, attestation.recorded, "
    "attestation.corrected, lesson.*, year.rules_changed, year.closed, person.* и др. "
    "Вызывают: администратор, директор, заместитель директора — своей организации. Ошибки: "
    "401; 403 forbidden — другая роль; 422 — неверные фильтры (моменты без смещения, годы вне "
    "2000–2100); 503 store-busy.",
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
