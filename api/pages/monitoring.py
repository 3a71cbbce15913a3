"""Monitoring figures with charts (UI.md /monitoring)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages.common import PageViewer, render

router = APIRouter(include_in_schema=False)


@router.get("/monitoring")
def monitoring(request: Request, who: PageViewer) -> Response:
    return render(
        request,
        "placeholder.html",
        who,
        title="Мониторинг",
        message="Страница мониторинга появится в следующей версии; "
        "данные доступны через API (GET /api/v1/monitoring).",
    )
