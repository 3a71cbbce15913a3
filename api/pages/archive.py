"""Closed years and archive verification (UI.md /archive)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages.common import PageViewer, render

router = APIRouter(include_in_schema=False)


@router.get("/archive")
def archive(request: Request, who: PageViewer) -> Response:
    return render(
        request,
        "placeholder.html",
        who,
        title="Архив",
        message="Страница архива появится в следующей версии; "
        "архив закрытого года выгружается через API (GET /api/v1/archives/{year}/export).",
    )
