"""The administrator's roster upload and accounts (UI.md /admin/roster)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages.common import PageViewer, render

router = APIRouter(include_in_schema=False)


@router.get("/admin/roster")
def roster(request: Request, who: PageViewer) -> Response:
    return render(
        request,
        "placeholder.html",
        who,
        title="Списки",
        message="Страница загрузки списков появится в следующей версии; "
        "списки загружаются командой ejournal import.",
    )
