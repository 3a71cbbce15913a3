"""Intermediate attestation results and academic debts (R-ATT)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from adapters.text import Ident
from api.deps import CurrentActor, Svc
from api.schemas import (
    AttestationCorrectionIn,
    AttestationHistoryOut,
    AttestationIn,
    AttestationOut,
    AttestationVersionOut,
    DebtOut,
    DebtsOut,
)

router = APIRouter(prefix="/api/v1", tags=["аттестация"])


@router.post(
    "/attestations",
    status_code=201,
    response_model=AttestationOut,
    summary="Внести результат промежуточной аттестации",
    description="Вызывают: преподаватель — по своим группам и предметам, заместитель директора — "
    "все. Результат: 5, 4, 3, зачёт, а/з, н/а, НПА (2 и 1 недопустимы); неудовлетворительный "
    "результат открывает академическую задолженность. Срок — из правил года, после срока только "
    "заместитель с причиной. 422 — результат, период или срок. Ошибки: 401 — нет действующего "
    "токена; 403 forbidden — роль или назначение не позволяют; 409 year-closed — учебный год "
    "закрыт; 413 payload-too-large; 503 store-busy — хранилище занято, ничего не записано: "
    "повторите с тем же Idempotency-Key.",
)
def record_attestation(services: Svc, actor: CurrentActor, body: AttestationIn) -> AttestationOut:
    w = services.journal.record_attestation(actor, **body.model_dump())
    return AttestationOut.of(w.student_id, w.record, w.position)


@router.post(
    "/attestations/{attestation_id}/corrections",
    response_model=AttestationOut,
    summary="Исправить результат аттестации (ликвидация задолженности)",
    description="Вызывают: преподаватель — по своим назначениям, заместитель директора — все. "
    "Новый результат с причиной; удовлетворительный ликвидирует задолженность. Прежние версии "
    "остаются в истории. 404 not-found — нет результата; 422 — результат, причина или срок. "
    "Ошибки: 401 — нет действующего токена; 403 forbidden — роль или назначение не позволяют; 409 "
    "year-closed — учебный год закрыт; 413 payload-too-large; 503 store-busy — хранилище занято, "
    "ничего не записано: повторите с тем же Idempotency-Key.",
)
def correct_attestation(
    services: Svc, actor: CurrentActor, attestation_id: str, body: AttestationCorrectionIn
) -> AttestationOut:
    w = services.journal.correct_attestation(
        actor, attestation_id, result=body.result, reason=body.reason
    )
    return AttestationOut.of(w.student_id, w.record, w.position)


@router.get(
    "/attestations/{attestation_id}/history",
    response_model=AttestationHistoryOut,
    summary="История результата аттестации",
    description="Все версии результата аттестации с автором, ролью, временем и причиной. Читают: "
    "администратор, директор, заместитель директора — все записи; преподаватель — свои группы и "
    "предметы; куратор — свою группу; обучающийся, родитель, доверенное лицо — свои записи; "
    "архивист — только закрытые годы. Ошибки: 401 — нет действующего токена; 403 forbidden; 404 "
    "not-found — записи нет или она скрыта от вызывающего; 422 — неверные параметры; 503 "
    "store-busy — повторите позже.",
)
def attestation_history(
    services: Svc, actor: CurrentActor, attestation_id: str
) -> AttestationHistoryOut:
    student_id, attestation = services.journal.attestation_history(actor, attestation_id)
    return AttestationHistoryOut(
        attestation_id=attestation_id,
        student_id=student_id,
        versions=[AttestationVersionOut(**asdict(v)) for v in attestation.versions],
    )


@router.get(
    "/academic-debts",
    response_model=DebtsOut,
    summary="Академические задолженности группы и их ликвидация",
    description="Задолженности группы за учебный год (по умолчанию текущий) и история их "
    "ликвидации. Вызывают: администратор, директор, заместитель директора — все группы; "
    "преподаватель — свои группы и предметы; куратор — свою группу; архивист — только закрытые "
    "годы. Ошибки: 401; 403 forbidden — группа или предмет не ваши; 404 not-found — нет группы, "
    "года или периода; 422 — неверные параметры; 503 store-busy.",
)
def academic_debts(
    services: Svc,
    actor: CurrentActor,
    group_id: Annotated[Ident, Query()],
    year_id: Annotated[Ident | None, Query()] = None,
) -> DebtsOut:
    year, debts = services.journal.academic_debts(actor, group_id, year_id)
    names = services.personal.names(actor.org_id, [d.student_id for d in debts])
    return DebtsOut(
        year_id=year.year_id,
        group_id=group_id,
        items=[
            DebtOut(
                student_id=d.student_id,
                full_name=names.get(d.student_id),
                attestation_id=d.attestation.attestation_id,
                subject_id=d.attestation.subject_id,
                period_id=d.attestation.period_id,
                status=d.attestation.debt or "open",
                result=d.attestation.result,
                history=[AttestationVersionOut(**asdict(v)) for v in d.attestation.versions],
            )
            for d in debts
        ],
    )
