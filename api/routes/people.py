"""People and sessions: trusted persons, deactivating accounts, the security log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AfterValidator, BaseModel, Field

from adapters.text import Ident, Moment, Reason, sane_date
from api.deps import CurrentActor, Svc
from domain.actors import Role
from domain.errors import Forbidden

router = APIRouter(prefix="/api/v1", tags=["доступ"])


class DelegationIn(BaseModel):
    trustee_id: Ident = Field(description="Кому доверяется (человек из списков)")
    student_ids: list[Ident] = Field(
        min_length=1, max_length=50, description="Чьи данные (свои дети)"
    )
    expires_at: Moment = Field(description="До какого момента (не больше года)")


class DelegationOut(BaseModel):
    delegation_id: str = Field(description="Идентификатор доверенности")
    parent_id: str = Field(description="Кто выдал (родитель)")
    trustee_id: str = Field(description="Кому выдана (доверенное лицо)")
    student_ids: list[str] = Field(description="Чьи данные доступны (дети родителя)")
    expires_at: str = Field(description="До какого момента действует (ISO 8601)")
    revoked: bool = Field(description="Отозвана ли доверенность")
    position: int | None = Field(
        default=None, description="Позиция события в журнале событий; null — при чтении списка"
    )


class ReasonOptional(BaseModel):
    reason: Reason | None = Field(
        default=None, description="Причина отзыва (необязательна, 1–1000 символов)"
    )


class DeactivationIn(BaseModel):
    reason: Reason = Field(description="Причина (1–1000 символов); попадает в аудит")


@router.post(
    "/delegations",
    status_code=201,
    response_model=DelegationOut,
    summary="Выдать доверенность доверенному лицу (родитель)",
    description="Вызывает родитель — для своих детей. Доверенное лицо получает доступ к их "
    "журналу и уведомлениям о пропусках до expires_at (не больше года). Ошибки: 401; 403 "
    "forbidden — ребёнок не ваш; 404 not-found — нет доверенного лица; 422 — срок или список; 413 "
    "payload-too-large; 503 store-busy.",
)
def grant(services: Svc, actor: CurrentActor, body: DelegationIn) -> DelegationOut:
    app = services.journal
    delegation_id, position = app.grant_delegation(
        actor, trustee_id=body.trustee_id, student_ids=body.student_ids, expires_at=body.expires_at
    )
    found = next(d for d in app.delegations(actor) if d["delegation_id"] == delegation_id)
    return DelegationOut(**found, position=position)


@router.post(
    "/delegations/{delegation_id}/revocation",
    response_model=DelegationOut,
    summary="Отозвать доверенность",
    description="Вызывает родитель, выдавший доверенность. Доступ доверенного лица прекращается "
    "сразу. Ошибки: 401; 403 forbidden — доверенность не ваша; 404 not-found; 413 "
    "payload-too-large; 503 store-busy.",
)
def revoke(
    services: Svc, actor: CurrentActor, delegation_id: str, body: ReasonOptional
) -> DelegationOut:
    app = services.journal
    position = app.revoke_delegation(actor, delegation_id, reason=body.reason)
    found = next(d for d in app.delegations(actor) if d["delegation_id"] == delegation_id)
    return DelegationOut(**found, position=position)


@router.get(
    "/delegations",
    response_model=list[DelegationOut],
    summary="Мои доверенности: выданные и полученные",
    description="Любой вошедший: доверенности, которые он выдал или получил. Ошибки: 401; 503 "
    "store-busy.",
)
def my_delegations(services: Svc, actor: CurrentActor) -> list[DelegationOut]:
    return [DelegationOut(**d) for d in services.journal.delegations(actor)]


@router.post(
    "/accounts/{person_id}/deactivation",
    summary="Отключить учётную запись (администратор): её токены перестают действовать сразу",
    description="Вызывает администратор. Учётная запись отключается, её токены перестают "
    "действовать сразу, вход закрыт; загрузка списков её не включает. Причина обязательна и "
    "попадает в аудит. Ошибки: 401; 403 forbidden; 404 not-found; 422 — причина; 413 "
    "payload-too-large; 503 store-busy.",
)
def deactivate(
    services: Svc, actor: CurrentActor, person_id: str, body: DeactivationIn
) -> dict[str, Any]:
    position = services.journal.deactivate_account(actor, person_id, reason=body.reason)
    services.security.record(
        "account_deactivated", org_id=actor.org_id, actor_id=actor.id, detail=person_id
    )
    return {"person_id": person_id, "active": False, "position": position}


@router.post(
    "/accounts/{person_id}/reactivation",
    summary="Снова включить отключённую учётную запись (администратор)",
    description="Вызывает администратор. Отключённая учётная запись снова может входить. Причина "
    "обязательна и попадает в аудит. Ошибки: 401; 403 forbidden; 404 not-found; 422 — причина; "
    "413 payload-too-large; 503 store-busy.",
)
def reactivate(
    services: Svc, actor: CurrentActor, person_id: str, body: DeactivationIn
) -> dict[str, Any]:
    position = services.journal.reactivate_account(actor, person_id, reason=body.reason)
    services.security.record(
        "account_reactivated", org_id=actor.org_id, actor_id=actor.id, detail=person_id
    )
    return {"person_id": person_id, "active": True, "position": position}


@router.get(
    "/security-log",
    summary="Журнал безопасности: отказы и неудачные входы (администратор)",
    description="Вызывает администратор. Отказы в доступе, неудачные входы, блокировки, смены "
    "паролей, отключения учётных записей своей организации — новые сначала; before — страница "
    "раньше этого момента. Ошибки: 401; 403 forbidden — не администратор; 422 — параметры; 503 "
    "store-busy.",
)
def security_log(
    services: Svc,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[
        Annotated[dt.datetime, AfterValidator(sane_date)] | None,
        Query(description="Записи раньше этого момента (годы 2000–2100)"),
    ] = None,
) -> dict[str, Any]:
    if not actor.has(Role.ADMIN):
        raise Forbidden("Журнал безопасности читает администратор")
    items = services.security.entries(actor.org_id, limit, before.isoformat() if before else None)
    return {"items": items, "next_before": items[-1]["at"] if len(items) == limit else None}
