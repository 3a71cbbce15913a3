"""Liveness without authentication."""

from fastapi import APIRouter

router = APIRouter(tags=["служебное"])


@router.get("/health", summary="Сервис работает")
def health() -> dict[str, str]:
    return {"status": "ok"}
