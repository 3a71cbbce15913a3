"""Liveness without authentication, and the read models' progress."""

from typing import Any

from fastapi import APIRouter

from api.deps import Svc

router = APIRouter(tags=["служебное"])


@router.get("/health", summary="Сервис работает")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/projections", summary="Позиции проекций, голова журнала событий, отставание")
def projections(services: Svc) -> dict[str, Any]:
    app = services.journal
    return {"projections": app.read_models.status() + app.indexes.status()}
