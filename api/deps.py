"""Dependencies as Annotated aliases: the services and the authenticated actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from adapters.tokens import InvalidToken, TokenClaims
from api.bootstrap import Services
from api.errors import Unauthenticated
from domain.access import NoPolicy, passes_gate, rule_for
from domain.actors import Actor, Role
from domain.errors import Forbidden, RecordNotFound

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
    if not token:
        raise Unauthenticated()
    try:
        claims = services.tokens.decode(token, services.clock.now())
    except InvalidToken:
        raise Unauthenticated("Токен недействителен или истёк") from None
    active, epoch, revoked = services.accounts.session_state(
        claims.org_id, claims.person_id, claims.jti
    )
    if not active or revoked or epoch != claims.epoch:
        raise Unauthenticated("Сеанс завершён; войдите снова")
    roles = frozenset(claims.roles)
    role = next((r.value for r in _STAFF_PRIORITY if r in roles), None)
    if role is None:
        role = Role.PARENT.value if Role.PARENT in roles else Role.STUDENT.value
    actor = Actor(claims.person_id, role, claims.org_id, roles)
    request.state.actor_id = actor.id
    request.state.actor_role = actor.role
    request.state.org_id = actor.org_id
    enforce(request, actor)
    return actor, claims


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
Session = Annotated[tuple[Actor, TokenClaims], Depends(authenticate)]
