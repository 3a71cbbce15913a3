"""Page sessions: a cookie holding the same kind of token as the API's, tied to the same
server-side session (logout, password change and deactivation end both at once), sliding
while used, with CSRF protection for everything that changes state (ADR 15)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.tokens import InvalidToken, TokenClaims
from api.bootstrap import Services

COOKIE = "ejournal_session"
LOGIN_CSRF_COOKIE = "ejournal_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class PageSession:
    claims: TokenClaims
    csrf: str


def csrf_for(secret: str, jti: str) -> str:
    """The session's CSRF token: derived from its id, so every page of it agrees."""
    return hmac.new(secret.encode(), f"csrf:{jti}".encode(), hashlib.sha256).hexdigest()[:40]


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected, str(given))


def idle(services: Services) -> timedelta:
    return timedelta(minutes=services.settings.session_idle_minutes)


def longest(services: Services) -> timedelta:
    return timedelta(hours=services.settings.session_max_hours)


def valid_claims(services: Services, token: str | None) -> TokenClaims | None:
    """The claims of a session cookie that is still good: signature, expiry, not revoked, the
    account active with the same epoch, and within the session's maximum length."""
    if not token:
        return None
    now = services.clock.now()
    try:
        claims = services.tokens.decode(token, now)
    except InvalidToken:
        return None
    started = claims.started_at or now
    if now >= started + longest(services):
        return None
    active, epoch, revoked = services.accounts.session_state(
        claims.org_id, claims.person_id, claims.jti
    )
    if not active or revoked or epoch != claims.epoch:
        return None
    return claims


def read(request: Request, services: Services) -> PageSession | None:
    claims = valid_claims(services, request.cookies.get(COOKIE))
    if claims is None:
        return None
    remember_renewal(request, services, claims)
    return PageSession(claims, csrf_for(services.tokens.secret, claims.jti))


def remember_renewal(request: Request, services: Services, claims: TokenClaims) -> None:
    """Slide the session when half its idle time has gone: the same id, a later expiry (never
    past the maximum length); `SessionRenewal` puts the new cookie on the answer."""
    now = services.clock.now()
    if claims.expires_at - now > idle(services) / 2:
        return
    started = claims.started_at or now
    expires = min(now + idle(services), started + longest(services))
    token, _ = services.tokens.issue(
        person_id=claims.person_id,
        org_id=claims.org_id,
        kind=claims.kind,
        roles=claims.roles,
        epoch=claims.epoch,
        now=now,
        jti=claims.jti,
        expires_at=expires,
        started_at=started,
    )
    request.state.renewed_session = (token, expires)


def set_cookie(response: Response, services: Services, token: str, expires: datetime) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=max(0, int((expires - services.clock.now()).total_seconds())),
        path="/",
        secure=services.settings.https,
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response, services: Services) -> None:
    response.delete_cookie(
        COOKIE, path="/", secure=services.settings.https, httponly=True, samesite="strict"
    )


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


class SessionRenewal:
    """Adds the renewed session cookie (if a request slid its session) to the answer."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_renewed(message: Message) -> None:
            if message["type"] == "http.response.start":
                renewed = scope.get("state", {}).get("renewed_session")
                if renewed is not None:
                    carrier = Response()
                    set_cookie(carrier, self.services, *renewed)
                    headers = MutableHeaders(scope=message)
                    for key, value in carrier.raw_headers:
                        if key == b"set-cookie":
                            headers.append("set-cookie", value.decode("latin-1"))
            await send(message)

        await self.app(scope, receive, send_renewed)
