"""Login (OAuth2 password flow), logout, password change."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from adapters.accounts import Account, Accounts
from adapters.passwords import MIN_PASSWORD_LENGTH
from adapters.security import Attempt, DeviceCookies
from adapters.tokens import TokenClaims
from api.bootstrap import Services
from api.deps import Session, Svc
from api.errors import TooManyAttempts, Unauthenticated
from api.schemas import TokenOut
from domain.errors import RuleViolation

router = APIRouter(prefix="/api/v1/auth", tags=["вход"])

WRONG = "Неверное имя пользователя или пароль"


def client_of(request: Request) -> str | None:
    """The client's address; behind EJOURNAL_TRUSTED_PROXIES already taken from
    X-Forwarded-For by api.client_address.ClientAddressMiddleware."""
    return request.client.host if request.client else None


def device_cookies(services: Services) -> DeviceCookies:
    return DeviceCookies(services.tokens.secret, services.settings.device_cookie_days)


def attempt_of(request: Request, services: Services, username: str) -> Attempt:
    """The login attempt: who, from where, and the device cookie if valid for `username`."""
    device = device_cookies(services).device(
        request.cookies.get(DeviceCookies.NAME), username, services.clock.now()
    )
    return Attempt(username, client_of(request), device, services.settings.login_address_failures)


def set_device_cookie(
    request: Request, response: Response, services: Services, username: str
) -> None:
    """After a successful login (token or page): remember this device for `username`."""
    cookies = device_cookies(services)
    response.set_cookie(
        DeviceCookies.NAME,
        cookies.issue(username, services.clock.now()),
        max_age=int(cookies.lifetime.total_seconds()),
        # "/": the page login (/login) presents it too, not only the token endpoint.
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


@router.post(
    "/token",
    response_model=TokenOut,
    summary="Получить токен доступа",
    responses={429: {"description": "Слишком много неудачных попыток входа"}},
    description="Вызывает любой (без токена): логин и пароль формой "
    "application/x-www-form-urlencoded (OAuth2 password flow). Ответ — токен доступа для "
    "заголовка Authorization: Bearer и cookie этого устройства. Ошибки: 401 unauthenticated — "
    "неверный логин или пароль либо учётная запись отключена (ответ одинаков, чтобы не выдавать "
    "существующие имена); 429 too-many-attempts — слишком много неудачных попыток для имени или "
    "адреса: вход закрыт на Retry-After секунд; 413 payload-too-large; 422 — форма неполна; 503 "
    "store-busy.",
)
def issue_token(
    request: Request,
    response: Response,
    services: Svc,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenOut:
    token, _ = sign_in(request, services, form.username, form.password)
    set_device_cookie(request, response, services, form.username)
    return TokenOut(access_token=token, expires_in=int(services.tokens.lifetime.total_seconds()))


def sign_in(
    request: Request,
    services: Services,
    username: str,
    password: str,
    lifetime: timedelta | None = None,
) -> tuple[str, TokenClaims]:
    """Check a login (throttling, password, active account) and issue a token: the API's and
    the pages' sign-in alike. Raises TooManyAttempts or Unauthenticated."""
    attempt = attempt_of(request, services, username)
    lock = services.security.locked(attempt)
    if lock is not None:
        # The same answer for known and unknown usernames: nothing is revealed.
        raise TooManyAttempts(lock.seconds)
    account = services.accounts.by_username(username)
    # Verify even for an unknown account, so timing does not reveal which accounts exist.
    ok = services.passwords.verify(account.password_hash if account else None, password)
    person = services.journal.person(account.org_id, account.person_id) if account else None
    org_id = account.org_id if account else None
    actor_id = account.person_id if account else None
    if not ok or account is None or not account.active or person is None or not person.active:
        locks = services.security.failed(attempt)
        services.security.record(
            "login_failed",
            org_id=org_id,
            actor_id=actor_id,
            client=attempt.client,
            status=401,
            detail="device cookie" if attempt.device else None,
        )
        for started in locks:
            services.security.record(
                "login_locked",
                org_id=org_id,
                actor_id=actor_id,
                client=attempt.client,
                status=401,
                detail=f"{started.reason} locked for {started.seconds} s",
            )
        raise Unauthenticated(WRONG)
    if attempt.device is not None:
        bypassed = services.security.locked(attempt.untrusted())
        if bypassed is not None:
            services.security.record(
                "login_device_cookie",
                org_id=org_id,
                actor_id=actor_id,
                client=attempt.client,
                status=200,
                detail=f"device cookie let in past a {bypassed.reason} lock "
                f"({bypassed.seconds} s left)",
            )
    services.security.succeeded(attempt)
    now = services.clock.now()
    return services.tokens.issue(
        person_id=account.person_id,
        org_id=account.org_id,
        kind=account.kind,
        roles=person.roles,
        epoch=account.token_epoch,
        now=now,
        expires_at=now + lifetime if lifetime else None,
    )


@router.post(
    "/logout",
    status_code=204,
    summary="Завершить сеанс (отозвать токен)",
    description="Любой вошедший. Отзывает токен этого запроса сразу: дальше он отвечает 401. "
    "Ответ 204 без тела. Ошибки: 401 — токен уже недействителен; 503 store-busy.",
)
def logout(services: Svc, session: Session) -> Response:
    _, claims = session
    services.accounts.revoke(claims.jti, claims.expires_at)
    return Response(status_code=204)


class PasswordChangeIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=1000, description="Текущий пароль")
    new_password: str = Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=1000,
        description="Новый пароль: не короче установленного минимума, не совпадает с текущим",
    )


@router.post(
    "/password",
    status_code=204,
    summary="Сменить пароль (все сеансы завершаются, войдите снова)",
    description="Любой вошедший, только свою учётную запись. Нужен текущий пароль; новый — не "
    "короче установленного минимума и не равен текущему. После смены все токены учётной записи "
    "перестают действовать: войдите снова. Ошибки: 422 validation-error — неверный текущий пароль "
    "(поле current_password) или новый не подходит (new_password); 401; 413 payload-too-large; "
    "503 store-busy.",
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
