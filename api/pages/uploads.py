"""A page's form over the body limit (api/body_limit.py refuses it unread): the page itself
with its Russian alert naming the limit, status 413, as the browser expects, never the API's
problem+json. The archive check and the roster upload show it where their files are chosen."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import Response
from starlette.types import Scope

from api.body_limit import ARCHIVE_CHECK, ROSTER_PAGES, size_text
from api.bootstrap import Services
from api.pages import admin, archive
from api.pages.common import LoginRequired, Viewer, render_error, viewer

# The pages that upload a file: each shows the refusal in its own alert.
UPLOAD_PAGES: dict[str, Callable[[Request, Services, Viewer, str], Response]] = {
    ARCHIVE_CHECK: archive.too_large,
    **dict.fromkeys(ROSTER_PAGES, admin.too_large),
}


def too_large_page(scope: Scope, limit: int) -> Response:
    """The answer to a page's form whose body is over `limit` bytes (the body unread)."""
    request = Request(scope)
    services: Services = request.app.state.services
    try:
        who: Viewer | None = viewer(request, services)
    except LoginRequired:
        who = None
    page = UPLOAD_PAGES.get(scope["path"].rstrip("/"))
    if who is not None and page is not None:
        return page(request, services, who, f"Файл больше допустимого: не более {size_text(limit)}")
    return render_error(
        request,
        who,
        413,
        "Слишком большой запрос",
        f"Отправлено больше допустимого: не более {size_text(limit)}",
        back=("/", "На главную страницу"),
    )
