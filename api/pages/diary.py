"""The diary for students, parents and trusted persons (UI.md /diary)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages.common import PageViewer, render

router = APIRouter(include_in_schema=False)


@router.get("/diary")
def diary(request: Request, who: PageViewer) -> Response:
    return render(
        request,
        "placeholder.html",
        who,
        title="Дневник",
        message="Страница дневника появится в следующей версии; "
        "данные доступны через API (GET /api/v1/students/{id}/journal).",
    )
