"""The FastAPI application: routers, error mapping, logging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from adapters.clock import Clock
from adapters.leadership import FollowerLock
from adapters.projection_runner import Follower
from adapters.settings import Settings
from api import errors, logging
from api.body_limit import BodyLimit
from api.bootstrap import Services
from api.client_address import ClientAddressMiddleware
from api.idempotency import IdempotencyMiddleware
from api.pages import admin, diary, monitoring, school
from api.pages import archive as archive_page
from api.pages import audit as audit_page
from api.pages import journal as page_journal
from api.pages import routes as page_routes
from api.pages.common import HERE as PAGES
from api.pages.common import LoginRequired
from api.pages.session import SessionRenewal
from api.routes import (
    absences,
    attestations,
    audit,
    auth,
    entries,
    health,
    journal,
    lessons,
    marks,
    notices,
    people,
    reports,
    roster,
    years,
)


def create_app(
    settings: Settings | None = None, clock: Clock | None = None, services: Services | None = None
) -> FastAPI:
    settings = settings or (services.settings if services else Settings())
    logging.configure(settings.production, settings.log_level)
    owned = services is None
    built = services or Services.build(settings, clock)

    built.journal.read_wait_seconds = settings.read_wait_seconds

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        follower = None
        if settings.run_projections:
            follower = Follower(built.journal.read_models, leader=FollowerLock(settings))
            built.journal.written = follower.wake
            follower.start()
        try:
            yield
        finally:
            if follower is not None:
                built.journal.written = lambda: None
                follower.stop()
            if owned:
                built.close()

    app = FastAPI(
        title="ejournal — электронный журнал",
        version="0.1.0",
        description="Событийный электронный журнал: отметки, пропуски, исправления.",
        lifespan=lifespan,
    )
    app.state.services = built
    errors.install(app)
    logging.install(app)
    app.add_middleware(IdempotencyMiddleware, services=built)
    app.add_middleware(SessionRenewal, services=built)
    # Outside the request log, idempotency and routes: all of them (request and security log,
    # login throttling) see the real client (EJOURNAL_TRUSTED_PROXIES).
    app.add_middleware(ClientAddressMiddleware, trusted_proxies=settings.trusted_proxies)
    app.add_middleware(BodyLimit, settings=settings)
    for module in (
        health,
        auth,
        roster,
        marks,
        entries,
        absences,
        notices,
        attestations,
        lessons,
        journal,
        reports,
        years,
        people,
        audit,
    ):
        app.include_router(module.router)
    app.include_router(page_routes.router)
    for page_area in (diary, school, audit_page, monitoring, archive_page, admin):
        app.include_router(page_area.router)
    app.include_router(page_journal.router)
    app.mount("/static", StaticFiles(directory=PAGES / "static"), name="static")

    @app.exception_handler(LoginRequired)
    def _login_required(_: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(exc.next_path, status_code=303)

    errors.document_errors(app)
    return app
