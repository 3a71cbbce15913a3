"""Login (OAuth2 password flow) and logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import Session, Svc
from api.errors import Unauthenticated
from api.schemas import TokenOut

router = APIRouter(prefix="/api/v1/auth", tags=["вход"])

WRONG = "Неверное имя пользователя или пароль"


@router.post("/token", response_model=TokenOut, summary="Получить токен доступа")
def issue_token(services: Svc, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    account = services.accounts.by_username(form.username)
    # Verify even for an unknown account, so timing does not reveal which accounts exist.
    ok = services.passwords.verify(account.password_hash if account else None, form.password)
    if not ok or account is None or not account.active:
        raise Unauthenticated(WRONG)
    person = services.journal.person(account.org_id, account.person_id)
    if person is None or not person.active:
        raise Unauthenticated(WRONG)
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
