"""Academic years: closing (R-ARC-7) and the signed archive manifest (R-ARC-5)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import CurrentActor, Svc
from api.schemas import YearCloseOut

router = APIRouter(prefix="/api/v1", tags=["учебный год"])


class ArchiveOut(BaseModel):
    manifest: dict[str, Any] = Field(description="Манифест закрытого года")
    signature: str = Field(description="Подпись Ed25519 канонического JSON манифеста, base64")


@router.post(
    "/years/{year_id}/close",
    response_model=YearCloseOut,
    summary="Закрыть учебный год (заместитель директора, администратор)",
    description="После закрытия любая запись в этот год отвечает 409 year-closed. Ответ "
    "содержит подписанный манифест архива года.",
)
def close_year(services: Svc, actor: CurrentActor, year_id: str) -> YearCloseOut:
    c = services.journal.close_year(actor, year_id)
    return YearCloseOut(
        year_id=c.year_id,
        closed_at=c.closed_at,
        closed_by=c.closed_by,
        event_count=c.event_count,
        position=c.position,
        manifest=c.manifest,
        signature=c.signature,
    )


@router.get(
    "/archives/{year_id}", response_model=ArchiveOut, summary="Подписанный манифест закрытого года"
)
def archive(services: Svc, actor: CurrentActor, year_id: str) -> ArchiveOut:
    sealed = services.journal.archive(actor, year_id)
    return ArchiveOut(manifest=sealed.manifest, signature=sealed.signature)
