"""The school for deputies, directors and administrators (UI.md /school)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages.common import PageViewer, render

router = APIRouter(include_in_schema=False)


@router.get("/school")
def school(request: Request, who: PageViewer) -> Response:
    return render(
        request,
        "placeholder.html",
        who,
        title="Школа",
        message="Страница школы появится в следующей версии.",
    )
