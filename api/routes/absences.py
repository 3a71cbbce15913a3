"""Absences from lessons: recording, reasons, withdrawal, history."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from api.deps import CurrentActor, Svc
from api.schemas import (
    AbsenceHistoryOut,
    AbsenceIn,
    AbsenceOut,
    AbsenceReasonIn,
    AbsenceVersionOut,
    WithdrawalIn,
)
from domain.errors import Forbidden
from domain.policy import visible_subjects

router = APIRouter(prefix="/api/v1/absences", tags=["пропуски"])


@router.post(
    "",
    status_code=201,
    response_model=AbsenceOut,
    summary="Отметить пропуск",
    description="Вызывают: преподаватель — по своим группам и предметам, замещающий — на уроке "
    "замены, заместитель директора — все. Куратор отмечает пропуски своей группы. Код: Н, НУ, НН "
    "или Б. Запись урока не в будущем; после срока из правил года изменение делает только "
    "заместитель директора с причиной (помечается late). 422 — поля или правило журнала. Ошибки: "
    "401 — нет действующего токена; 403 forbidden — роль или назначение не позволяют; 409 "
    "year-closed — учебный год закрыт; 413 payload-too-large; 503 store-busy — хранилище занято, "
    "ничего не записано: повторите с тем же Idempotency-Key.",
)
def record_absence(services: Svc, actor: CurrentActor, body: AbsenceIn) -> AbsenceOut:
    w = services.journal.record_absence(actor, **body.model_dump())
    return AbsenceOut.of(w.student_id, w.record, w.position)


@router.post(
    "/{absence_id}/reason",
    response_model=AbsenceOut,
    summary="Указать причину пропуска (преподаватель, куратор, заместитель)",
    description="Вызывают: преподаватель — по своим назначениям, куратор — своей группы, "
    "заместитель директора — все. Меняет код пропуска (например, Н на НУ) с причиной; прежний код "
    "остаётся в истории. 404 not-found — нет пропуска; 422 — код, причина или срок. Ошибки: 401 — "
    "нет действующего токена; 403 forbidden — роль или назначение не позволяют; 409 year-closed — "
    "учебный год закрыт; 413 payload-too-large; 503 store-busy — хранилище занято, ничего не "
    "записано: повторите с тем же Idempotency-Key.",
)
def set_reason(
    services: Svc, actor: CurrentActor, absence_id: str, body: AbsenceReasonIn
) -> AbsenceOut:
    w = services.journal.set_absence_reason(actor, absence_id, code=body.code, reason=body.reason)
    return AbsenceOut.of(w.student_id, w.record, w.position)


@router.post(
    "/{absence_id}/withdrawal",
    response_model=AbsenceOut,
    summary="Снять пропуск: обучающийся был на уроке",
    description="Вызывают: преподаватель — по своим группам и предметам, замещающий — на уроке "
    "замены, куратор — своей группы, заместитель директора — все. Причина обязательна; пропуск "
    "остаётся в истории со статусом withdrawn. Для уведомления родителя (весь день) укажите "
    "предмет и номер урока: уведомление снимается только для этого урока. 404 not-found — нет "
    "пропуска; 422 — причина, срок или урок не из уведомления. "
    "Ошибки: 401 — нет действующего токена; 403 forbidden — роль или назначение не "
    "позволяют; 409 year-closed — учебный год закрыт; 413 payload-too-large; 503 store-busy "
    "— хранилище занято, ничего не записано: повторите с тем же Idempotency-Key.",
)
def withdraw(services: Svc, actor: CurrentActor, absence_id: str, body: WithdrawalIn) -> AbsenceOut:
    w = services.journal.withdraw_absence(
        actor,
        absence_id,
        reason=body.reason,
        subject_id=body.subject_id,
        lesson_no=body.lesson_no,
    )
    return AbsenceOut.of(w.student_id, w.record, w.position)


@router.get(
    "/{absence_id}/history",
    response_model=AbsenceHistoryOut,
    summary="История пропуска",
    description="Все изменения пропуска: отметка, причина, снятие — с автором, ролью, временем и "
    "причиной. Читают: администратор, директор, заместитель директора — все записи; преподаватель "
    "— свои группы и предметы; куратор — свою группу; обучающийся, родитель, доверенное лицо — "
    "свои записи; архивист — только закрытые годы. Ошибки: 401 — нет действующего токена; 403 "
    "forbidden; 404 not-found — записи нет или она скрыта от вызывающего; 422 — неверные "
    "параметры; 503 store-busy — повторите позже.",
)
def absence_history(services: Svc, actor: CurrentActor, absence_id: str) -> AbsenceHistoryOut:
    app = services.journal
    journal = app.located_journal(absence_id, "absence", actor)
    year = app.year(journal.org_id, journal.year_id)
    absence = journal.absence(absence_id)
    subjects = visible_subjects(actor, year, journal.student_id, app.children(actor))
    if subjects is not None and absence.subject_id not in (None, *subjects):
        raise Forbidden("Нет доступа к этому предмету")
    return AbsenceHistoryOut(
        absence_id=absence_id,
        versions=[AbsenceVersionOut(**asdict(v)) for v in absence.history],
    )
