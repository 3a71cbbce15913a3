"""Liveness without authentication, and the read models' progress."""

from typing import Any

from fastapi import APIRouter

from api.deps import Svc

router = APIRouter(tags=["служебное"])


@router.get(
    "/health",
    summary="Сервис работает",
    description='Без входа. Отвечает 200 {"status": "ok"}, пока процесс принимает запросы; '
    "хранилище не проверяет (для этого — /health/projections).",
)
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/health/projections",
    summary="Позиции проекций, голова журнала событий, отставание",
    description="Без входа. Позиции проекций (read models) и индексов, голова журнала событий и "
    "отставание каждой проекции. Ошибка: 503 store-busy — хранилище не ответило.",
)
def projections(services: Svc) -> dict[str, Any]:
    app = services.journal
    return {"projections": app.read_models.status() + app.indexes.status()}
