"""Lessons: topic, homework, substitutions, cancelled lessons (R-LES)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from adapters.text import Ident, SaneDate
from api.deps import CurrentActor, Svc
from api.schemas import LessonChangeIn, LessonIn, LessonOut, LessonsOut, ReasonIn, SubstitutionIn
from domain.lessons import Lesson

router = APIRouter(prefix="/api/v1/lessons", tags=["уроки"])


def _out(answer: tuple[str, str, Lesson, int]) -> LessonOut:
    group_id, subject_id, lesson, position = answer
    return LessonOut.of(group_id, subject_id, lesson, position)


@router.post(
    "",
    status_code=201,
    response_model=LessonOut,
    summary="Записать урок: тема и домашнее задание",
    description="Вызывают: преподаватель — по своим группам и предметам, заместитель директора — "
    "все; замещающего преподавателя (substitute_teacher_id) назначает только заместитель. Один "
    "урок на группу, предмет, дату и номер. 422 — поля или правило (урок уже записан, дата вне "
    "года). Ошибки: 401 — нет действующего токена; 403 forbidden — роль или назначение не "
    "позволяют; 409 year-closed — учебный год закрыт; 413 payload-too-large; 503 store-busy — "
    "хранилище занято, ничего не записано: повторите с тем же Idempotency-Key.",
)
def record_lesson(services: Svc, actor: CurrentActor, body: LessonIn) -> LessonOut:
    return _out(services.journal.record_lesson(actor, **body.model_dump()))


@router.post(
    "/{lesson_id}/changes",
    response_model=LessonOut,
    summary="Изменить тему или домашнее задание урока",
    description="Вызывают: преподаватель урока, замещающий на этом уроке, заместитель директора. "
    "Меняет тему и (или) домашнее задание; изменения видны в аудите. 404 not-found — нет урока; "
    "422 — поля или урок отменён. Ошибки: 401 — нет действующего токена; 403 forbidden — роль или "
    "назначение не позволяют; 409 year-closed — учебный год закрыт; 413 payload-too-large; 503 "
    "store-busy — хранилище занято, ничего не записано: повторите с тем же Idempotency-Key.",
)
def change_lesson(
    services: Svc, actor: CurrentActor, lesson_id: str, body: LessonChangeIn
) -> LessonOut:
    return _out(services.journal.change_lesson(actor, lesson_id, **body.model_dump()))


@router.post(
    "/{lesson_id}/substitution",
    response_model=LessonOut,
    summary="Записать замену (заместитель директора)",
    description="Вызывает заместитель директора. Назначает замещающего преподавателя урока "
    "(teacher_id) или отменяет замену (null); причина обязательна. Замещающий получает право "
    "вести этот урок. 404 not-found — нет урока или преподавателя; 422 — причина. Ошибки: 401 — "
    "нет действующего токена; 403 forbidden — роль или назначение не позволяют; 409 year-closed — "
    "учебный год закрыт; 413 payload-too-large; 503 store-busy — хранилище занято, ничего не "
    "записано: повторите с тем же Idempotency-Key.",
)
def substitute(
    services: Svc, actor: CurrentActor, lesson_id: str, body: SubstitutionIn
) -> LessonOut:
    return _out(
        services.journal.assign_substitute(
            actor, lesson_id, teacher_id=body.teacher_id, reason=body.reason
        )
    )


@router.post(
    "/{lesson_id}/cancellation",
    response_model=LessonOut,
    summary="Отменить урок",
    description="Вызывают: преподаватель — по своим назначениям, заместитель директора. Урок "
    "остаётся в журнале со статусом cancelled; причина обязательна. 404 not-found — нет урока; "
    "422 — причина. Ошибки: 401 — нет действующего токена; 403 forbidden — роль или назначение не "
    "позволяют; 409 year-closed — учебный год закрыт; 413 payload-too-large; 503 store-busy — "
    "хранилище занято, ничего не записано: повторите с тем же Idempotency-Key.",
)
def cancel_lesson(services: Svc, actor: CurrentActor, lesson_id: str, body: ReasonIn) -> LessonOut:
    return _out(services.journal.cancel_lesson(actor, lesson_id, reason=body.reason))


@router.get(
    "",
    response_model=LessonsOut,
    summary="Уроки группы по предмету",
    description="Уроки группы по предмету за период (по умолчанию весь год): тема, домашнее "
    "задание, замена, статус. Вызывают: администратор, директор, заместитель директора — все "
    "группы; преподаватель — свои группы и предметы; куратор — свою группу; архивист — только "
    "закрытые годы. Обучающийся, родитель и доверенное лицо видят уроки своей группы. Ошибки: "
    "401; 403 forbidden — группа или предмет не ваши; 404 not-found — нет группы, года или "
    "периода; 422 — неверные параметры; 503 store-busy.",
)
def list_lessons(
    services: Svc,
    actor: CurrentActor,
    group_id: Annotated[Ident, Query()],
    subject_id: Annotated[Ident, Query()],
    from_date: Annotated[SaneDate | None, Query()] = None,
    to_date: Annotated[SaneDate | None, Query()] = None,
    year_id: Annotated[Ident | None, Query()] = None,
) -> LessonsOut:
    lessons = services.journal.lessons(
        actor,
        group_id=group_id,
        subject_id=subject_id,
        from_date=from_date,
        to_date=to_date,
        year_id=year_id,
    )
    return LessonsOut(
        group_id=group_id,
        subject_id=subject_id,
        lessons=[LessonOut.of(group_id, subject_id, les) for les in lessons],
    )
