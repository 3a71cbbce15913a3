"""Academic years: closing (R-ARC-7)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentActor, Svc
from api.schemas import YearCloseOut

router = APIRouter(prefix="/api/v1/years", tags=["учебный год"])


@router.post(
    "/{year_id}/close",
    response_model=YearCloseOut,
    summary="Закрыть учебный год (заместитель директора, администратор)",
    description="После закрытия любая запись в этот год отвечает 409 year-closed для всех.",
)
def close_year(services: Svc, actor: CurrentActor, year_id: str) -> YearCloseOut:
    c = services.journal.close_year(actor, year_id)
    return YearCloseOut(
        year_id=c.year_id,
        closed_at=c.closed_at,
        closed_by=c.closed_by,
        event_count=c.event_count,
        position=c.position,
    )
