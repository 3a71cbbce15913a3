"""Request bodies over the configured limit: 413 payload-too-large, before they are parsed.

A plain ASGI middleware, outermost of ours (outside idempotency, which reads the whole body,
and outside the routes, which parse it). A declared `Content-Length` over the limit is
refused at once, without reading a byte; otherwise the bytes are counted as the body streams
in, and once over the limit the wrapped `receive` raises instead of handing over more, so at
most the limit (plus one chunk) is ever held. The answer is ours whatever the app made of the
cut-off body, as long as it had not started answering. The server then discards the rest of
the body (uvicorn drops data that arrives after the answer), so the connection stays usable.

A page's form (not /api/, not /health) over the limit gets HTML instead, when the app gives a
`page_refusal` (api/pages/uploads.py): the page with its Russian alert naming the limit, still
413, rendered without reading the body.

FastAPI's own `max_body_size` (`fastapi/_body_limit.py`, Starlette's RequestBodyLimitMiddleware)
stays off here (the default None): it answers text/plain or {"detail": ...}, not
problem+json, and only refuses a declared length once the app reads the body.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.settings import Settings
from api.errors import problem

IMPORT_PATH = "/api/v1/import"
# Pages that upload a roster take the import limit; the archive check takes archives.
ROSTER_PAGES = ("/admin/roster/check", "/admin/roster/import")
ARCHIVE_CHECK = "/archive/verify"
# Paths answered with problem+json whatever the caller; any other is a page's.
API_PREFIXES = ("/api/", "/health")

# A page's answer to a body over `limit` bytes, from the request's scope (the body unread).
PageRefusal = Callable[[Scope, int], Response]

log = structlog.get_logger("ejournal.body_limit")


class _BodyTooLarge(HTTPException):
    """Raised by the wrapped `receive`. An HTTPException, so FastAPI's body reader lets it
    through as it is (any other error there becomes a 400) and the request log sees 413;
    the answer itself is always the middleware's."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="Тело запроса больше допустимого")


class BodyLimit:
    def __init__(
        self, app: ASGIApp, settings: Settings, page_refusal: PageRefusal | None = None
    ) -> None:
        self.app = app
        self.page_refusal = page_refusal
        self.max_body_bytes = settings.max_body_bytes
        self.max_import_body_bytes = settings.max_import_body_bytes
        self.max_archive_body_bytes = settings.max_archive_body_bytes

    def limit_for(self, scope: Scope) -> int:
        path = scope["path"].rstrip("/")
        if scope["method"] == "POST" and (path == IMPORT_PATH or path in ROSTER_PAGES):
            return self.max_import_body_bytes
        if scope["method"] == "POST" and path == ARCHIVE_CHECK:
            return self.max_archive_body_bytes
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, send, limit)
            return

        received = 0
        over = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, over
            if over:
                raise _BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # the app's answer to a cut-off body: ours replaces it below
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            # Whatever the app raised, a body over the limit is the cause: answer 413.
            if not over or started:
                raise
        if over and not started:
            await self._refuse(scope, send, limit)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        log.warning(
            "request.body_too_large", method=scope["method"], path=scope["path"], limit=limit
        )
        if self.page_refusal is not None and not scope["path"].startswith(API_PREFIXES):
            try:
                # Pages read the session from the store: off the event loop.
                page = await run_in_threadpool(self.page_refusal, scope, limit)
            except Exception:
                log.exception("request.body_too_large.page_failed", path=scope["path"])
            else:
                await page(scope, _no_body, send)
                return
        response = problem(
            413,
            "payload-too-large",
            "Слишком большой запрос",
            f"Тело запроса больше допустимого: не более {size_text(limit)}",
            limit_bytes=limit,
        )
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def size_text(limit: int) -> str:
    """A limit as people read it: «50 МБ», «64 КБ», «1000 байт»."""
    mib = 1_048_576
    if limit >= mib and limit % mib == 0:
        return f"{limit // mib} МБ"
    if limit >= 1024 and limit % 1024 == 0:
        return f"{limit // 1024} КБ"
    return f"{limit} байт"
