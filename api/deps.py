"""Dependencies as Annotated aliases: the services and the authenticated actor."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from adapters.accounts import SessionEnded, SessionGuard, session_guard
from adapters.service.core import LoopAnswer
from adapters.storage import STORE_BUSY
from adapters.store_waits import call_started
from adapters.tokens import InvalidToken, TokenClaims
from api.bootstrap import Services
from api.errors import Unauthenticated
from api.pages import session as page_session
from domain.access import NoPolicy, passes_gate, rule_for
from domain.actors import Actor, Role
from domain.errors import Forbidden, RecordNotFound

T = TypeVar("T")
# The security requirement of an operation whose caller is read by `caller` (openapi_extra).
BEARER: dict[str, Any] = {"security": [{"OAuth2PasswordBearer": []}]}
SESSION_ENDED = "Сеанс завершён; войдите снова"

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

# The role an actor acts in by default, strongest first.
_STAFF_PRIORITY = (Role.ADMIN, Role.DEPUTY, Role.DIRECTOR, Role.TEACHER, Role.ARCHIVIST)


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


Svc = Annotated[Services, Depends(get_services)]


def authenticate(
    request: Request, services: Svc, token: Annotated[str | None, Depends(oauth2)]
) -> tuple[Actor, TokenClaims]:
    """The caller: a bearer token (API clients) or a page session cookie (the web pages, whose
    state-changing calls must carry the session's CSRF token in `X-CSRF-Token`)."""
    if token:
        claims = _token_claims(services, token)
        _check_bearer_session(services, claims)
    else:
        claims = _cookie_claims(request, services)
    return _admit(request, claims), claims


def _token_claims(services: Services, token: str) -> TokenClaims:
    """A bearer token's claims, checked by signature and expiry (no store access)."""
    try:
        return services.tokens.decode(token, services.clock.now())
    except InvalidToken:
        raise Unauthenticated("Токен недействителен или истёк") from None


def _check_bearer_session(services: Services, claims: TokenClaims) -> None:
    """The token's session as stored: account active, token epoch current, not revoked."""
    active, epoch, revoked = services.accounts.session_state(
        claims.org_id, claims.person_id, claims.jti
    )
    if not active or revoked or epoch != claims.epoch:
        raise Unauthenticated(SESSION_ENDED)


def _cookie_claims(request: Request, services: Services) -> TokenClaims:
    cookie = request.cookies.get(page_session.COOKIE)
    if not cookie:
        raise Unauthenticated()
    found = page_session.valid_claims(services, cookie)
    if found is None:
        raise Unauthenticated(SESSION_ENDED)
    if request.method not in page_session.SAFE_METHODS and not page_session.csrf_matches(
        page_session.csrf_for(services.tokens.secret, found.jti),
        request.headers.get(page_session.CSRF_HEADER),
    ):
        raise Forbidden("Запрос отклонён: нет ключа защиты от подделки (CSRF)")
    page_session.remember_renewal(request, services, found)
    return found


def _admit(request: Request, claims: TokenClaims) -> Actor:
    actor = actor_of(claims)
    request.state.actor_id = actor.id
    request.state.actor_role = actor.role
    request.state.org_id = actor.org_id
    enforce(request, actor)
    return actor


class Caller:
    """The caller of a route that does all its work on the journal's committer thread (the
    busiest write routes). With a bearer token, what needs no store — its signature and
    expiry, the access table — is checked before the body; the session as stored (account
    active, token epoch, not revoked) is checked by the group commit that stores the
    request's change, for all the changes of the group in one query (ADR 17), instead of one
    lookup per request. A request that ends without a group commit having checked it (no
    change, or an error before one) looks its session up itself, so every answer to an
    ended session is still 401 (a malformed body is told 422 first). A page's cookie is
    checked whole before the body, as `authenticate` does."""

    def __init__(
        self, services: Services, admitted: tuple[Actor, TokenClaims], *, checked: bool = False
    ) -> None:
        self.services = services
        self._admitted = admitted
        self._checked = checked

    async def call(self, work: Callable[[Actor], T]) -> T:
        """`work(actor)` on the journal's committer thread (adapters/service/core.py,
        `Committer`), with the session checked as said above; the event loop awaits it."""
        actor, claims = self._admitted
        guard = None
        if not self._checked:
            guard = SessionGuard(claims.org_id, claims.person_id, claims.jti, claims.epoch)
            token = session_guard.set(guard)
        call_started()  # its waits for the store share one budget from now, here and there
        try:
            context = contextvars.copy_context()
        finally:
            if guard is not None:
                session_guard.reset(token)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def settle(result: Any, error: Any) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        done = LoopAnswer(loop, settle)  # a group's answers wake the loop once
        self.services.journal.committer.submit(lambda: work(actor), context, done)
        if guard is None:
            return await future
        try:
            result = await future
        except SessionEnded:
            raise Unauthenticated(SESSION_ENDED) from None
        except STORE_BUSY:
            raise  # `503 store-busy` whatever the session: not another wait for the store
        except Exception:
            if guard.valid is None and not await run_in_threadpool(self._session_valid):
                raise Unauthenticated(SESSION_ENDED) from None
            raise
        if guard.valid is None:
            await run_in_threadpool(_check_bearer_session, self.services, claims)
        return result

    def _session_valid(self) -> bool:
        """On the way out with another error: False only when the session has ended (a
        failing lookup leaves that error to answer)."""
        try:
            _check_bearer_session(self.services, self._admitted[1])
        except Unauthenticated:
            return False
        except Exception:
            return True
        return True


async def caller(request: Request) -> Caller:
    """The one dependency of the busiest routes (each dependency FastAPI solves costs a
    request tens of microseconds): the services and the bearer token read here directly, as
    `get_services` and `oauth2` would. Their OpenAPI operations name the scheme themselves
    (`BEARER`)."""
    services: Services = request.app.state.services
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        # A page's session (or none) is checked by `authenticate` itself, before the body.
        admitted = await run_in_threadpool(authenticate, request, services, None)
        return Caller(services, admitted, checked=True)
    claims = _token_claims(services, token.strip())
    return Caller(services, (_admit(request, claims), claims))


def actor_of(claims: TokenClaims) -> Actor:
    """The actor a session's claims name, in its strongest role by default."""
    roles = frozenset(claims.roles)
    role = next((r.value for r in _STAFF_PRIORITY if r in roles), None)
    if role is None:
        role = Role.PARENT.value if Role.PARENT in roles else Role.STUDENT.value
    return Actor(claims.person_id, role, claims.org_id, roles)


def enforce(request: Request, actor: Actor) -> None:
    """The first gate of every call: the route's entry in the access table (domain/access.py).
    Records are checked again, object by object, in the use cases."""
    route = request.scope.get("route")
    try:
        rule = rule_for(request.method, getattr(route, "path", request.url.path))
    except NoPolicy:
        raise Forbidden("Для этого действия не задано правило доступа") from None
    if passes_gate(actor, rule):
        return
    if rule.names_a_record and actor.is_family():
        # A student or parent is not told that someone else's record exists.
        raise RecordNotFound("Запись не найдена")
    raise Forbidden("Ваша роль не позволяет это действие")


async def current_actor(
    session: Annotated[tuple[Actor, TokenClaims], Depends(authenticate)],
) -> Actor:
    return session[0]


CurrentActor = Annotated[Actor, Depends(current_actor)]
# For routes that run their work on the committer thread through `caller.call`.
Calling = Annotated[Caller, Depends(caller)]
Session = Annotated[tuple[Actor, TokenClaims], Depends(authenticate)]
