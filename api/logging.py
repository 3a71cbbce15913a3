"""Structured logs: JSON lines in production, readable console otherwise.

Each request logs its id, actor, route, status and latency; never bodies, names or tokens.
"""

from __future__ import annotations

import logging
import sys
import time

import structlog
from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.random_ids import random_uuid

log = structlog.get_logger("ejournal")


def configure(production: bool, level: str = "INFO") -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if production
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        # Looks up sys.stderr at each write, so a replaced stream (tests, daemons) is honoured.
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
        cache_logger_on_first_use=False,
    )


def install(app: FastAPI) -> None:
    app.add_middleware(RequestLog)


class RequestLog:
    """Each request's id, actor, route, status and latency (a plain ASGI middleware: no
    extra task or stream per request, unlike `@app.middleware("http")`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = Headers(scope=scope).get("x-request-id") or random_uuid().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        raw_id = request_id.encode("latin-1", "replace")

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), (b"x-request-id", raw_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request = Request(scope)
            route = scope.get("route")
            path = str(getattr(route, "path", scope["path"]))
            if status in (401, 403) and scope["path"].startswith("/api/"):
                await run_in_threadpool(_record_denial, request, status, path)
            log.info(
                "request",
                method=scope["method"],
                route=path,
                status=status,
                latency_ms=round((time.perf_counter() - started) * 1000, 2),
                actor_id=getattr(request.state, "actor_id", None),
                actor_role=getattr(request.state, "actor_role", None),
            )


def _record_denial(request: Request, status: int, route: str) -> None:
    """Denied calls go to the security log (who, what, when), readable by an admin."""
    services = getattr(request.app.state, "services", None)
    if services is None or request.url.path.endswith("/auth/token"):
        return  # failed logins are recorded by the login itself
    try:
        services.security.record(
            "denied",
            org_id=getattr(request.state, "org_id", None),
            actor_id=getattr(request.state, "actor_id", None),
            client=request.client.host if request.client else None,
            method=request.method,
            route=route,
            status=status,
        )
    except Exception:  # the log must not turn a refusal into a failure
        log.exception("security log write failed")
