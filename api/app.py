"""The FastAPI application: routers, error mapping, logging."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, RedirectResponse
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
from api.pages.uploads import too_large_page
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

API_DESCRIPTION = (
    "Событийный электронный журнал: отметки, пропуски, исправления.\n\n"
    "Вход: POST /api/v1/auth/token (логин и пароль формой) даёт токен; передавайте его в "
    "заголовке Authorization: Bearer. Все ошибки — application/problem+json с кодом (code), "
    "заголовком и пояснением на русском. Запрос с телом больше допустимого получает 413 "
    "payload-too-large; занятое хранилище — 503 store-busy с Retry-After (ничего не записано); "
    "слишком частые неудачные входы — 429 too-many-attempts с Retry-After. Запись можно "
    "безопасно повторить с тем же заголовком Idempotency-Key."
)
DOCS_STATIC = "/static-docs"


def install_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc (ReDoc) from files shipped in the fastapi-offline package,
    never a CDN: both work on a closed network. Its files are the unchanged upstream releases
    (swagger-ui-dist 5.32.6, redoc 2.5.3 in fastapi-offline 1.7.7); Swagger UI 5 is needed
    for the OpenAPI 3.1 that FastAPI publishes."""
    app.mount(
        DOCS_STATIC,
        StaticFiles(directory=str(resources.files("fastapi_offline") / "static")),
        name="static-docs",
    )
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"
    title = f"{app.title} — документация API"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_STATIC}/favicon.png",
            oauth2_redirect_url=oauth2_redirect,
            # No badge from the online validator (validator.swagger.io): offline it is broken.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(oauth2_redirect, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=title,
            redoc_js_url=f"{DOCS_STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_STATIC}/favicon.png",
            with_google_fonts=False,
        )


# Cyclic garbage collection in a server process (ADR 17): a young collection every 20,000
# net allocations instead of 700, older ones as rarely; full collections over a process
# caching thousands of journals paused every request in flight (p99 of POST /marks on
# PostgreSQL 90–105 ms; 50–63 ms with these). Reference cycles are still collected.
SERVER_GC_THRESHOLDS = (20_000, 20, 20)


def served_app(settings: Settings | None = None) -> FastAPI:
    """The app as `ejournal serve` runs it in each server process: what start-up built
    (modules, schemas, routes) is frozen out of the collector's reach, and collections are
    rarer (SERVER_GC_THRESHOLDS)."""
    app = create_app(settings)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVER_GC_THRESHOLDS)
    return app


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
        description=API_DESCRIPTION,
        lifespan=lifespan,
        # /docs and /redoc are served below from local files: no CDN on a closed network.
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = built
    errors.install(app)
    logging.install(app)
    app.add_middleware(IdempotencyMiddleware, services=built)
    app.add_middleware(SessionRenewal, services=built)
    # Outside the request log, idempotency and routes: all of them (request and security log,
    # login throttling) see the real client (EJOURNAL_TRUSTED_PROXIES).
    app.add_middleware(ClientAddressMiddleware, trusted_proxies=settings.trusted_proxies)
    app.add_middleware(BodyLimit, settings=settings, page_refusal=too_large_page)
    # The busiest routes first: a request is matched against the routers in this order.
    for module in (
        marks,
        entries,
        health,
        auth,
        roster,
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
    install_docs(app)

    @app.exception_handler(LoginRequired)
    def _login_required(_: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(exc.next_path, status_code=303)

    errors.document_errors(app, components=roster.COMPONENTS)
    return app
