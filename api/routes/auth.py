"""Login (OAuth2 password flow), logout, password change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from adapters.accounts import Account, Accounts
from adapters.passwords import MIN_PASSWORD_LENGTH
from api.deps import Session, Svc
from api.errors import TooManyAttempts, Unauthenticated
from api.schemas import TokenOut
from domain.errors import RuleViolation

router = APIRouter(prefix="/api/v1/auth", tags=["вход"])

WRONG = "Неверное имя пользователя или пароль"


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post(
    "/token",
    response_model=TokenOut,
    summary="Получить токен доступа",
    responses={429: {"description": "Слишком много неудачных попыток входа"}},
)
def issue_token(
    request: Request, services: Svc, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenOut:
    client = client_of(request)
    lock = services.security.locked(form.username, client)
    if lock is not None:
        # The same answer for known and unknown usernames: nothing is revealed.
        raise TooManyAttempts(lock.seconds)
    account = services.accounts.by_username(form.username)
    # Verify even for an unknown account, so timing does not reveal which accounts exist.
    ok = services.passwords.verify(account.password_hash if account else None, form.password)
    person = services.journal.person(account.org_id, account.person_id) if account else None
    if not ok or account is None or not account.active or person is None or not person.active:
        services.security.failed(form.username, client)
        services.security.record(
            "login_failed",
            org_id=account.org_id if account else None,
            actor_id=account.person_id if account else None,
            client=client,
            status=401,
        )
        raise Unauthenticated(WRONG)
    services.security.succeeded(form.username)
    token, _ = services.tokens.issue(
        person_id=account.person_id,
        org_id=account.org_id,
        kind=account.kind,
        roles=person.roles,
        epoch=account.token_epoch,
        now=services.clock.now(),
    )
    return TokenOut(access_token=token, expires_in=int(services.tokens.lifetime.total_seconds()))


@router.post("/logout", status_code=204, summary="Завершить сеанс (отозвать токен)")
def logout(services: Svc, session: Session) -> Response:
    _, claims = session
    services.accounts.revoke(claims.jti, claims.expires_at)
    return Response(status_code=204)


class PasswordChangeIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1000)


@router.post(
    "/password", status_code=204, summary="Сменить пароль (все сеансы завершаются, войдите снова)"
)
def change_password(
    request: Request, services: Svc, session: Session, body: PasswordChangeIn
) -> Response:
    actor, _ = session
    account = services.accounts.get(actor.org_id, actor.id)
    if account is None or not services.passwords.verify(
        account.password_hash, body.current_password
    ):
        services.security.record(
            "password_change_failed",
            org_id=actor.org_id,
            actor_id=actor.id,
            client=client_of(request),
            status=422,
        )
        raise RuleViolation("Текущий пароль указан неверно", field="current_password")
    if body.new_password == body.current_password:
        raise RuleViolation("Новый пароль совпадает с текущим", field="new_password")
    with services.db.transaction() as cur:
        Accounts.upsert(
            cur,
            Account(
                account.org_id,
                account.person_id,
                account.username,
                services.passwords.hash(body.new_password),
                account.kind,
                account.active,
                account.token_epoch + 1,
            ),
        )
    services.security.record(
        "password_changed",
        org_id=actor.org_id,
        actor_id=actor.id,
        client=client_of(request),
        status=204,
    )
    return Response(status_code=204)
