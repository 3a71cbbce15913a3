"""The audit trail for the administration (UI.md /audit)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages.common import PageViewer, render

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def audit(request: Request, who: PageViewer) -> Response:
    return render(
        request,
        "placeholder.html",
        who,
        title="Журнал изменений",
        message="Страница журнала изменений появится в следующей версии; "
        "данные доступны через API (GET /api/v1/audit).",
    )
