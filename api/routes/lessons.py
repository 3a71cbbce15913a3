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
    "", status_code=201, response_model=LessonOut, summary="Записать урок: тема и домашнее задание"
)
def record_lesson(services: Svc, actor: CurrentActor, body: LessonIn) -> LessonOut:
    return _out(services.journal.record_lesson(actor, **body.model_dump()))


@router.post(
    "/{lesson_id}/changes",
    response_model=LessonOut,
    summary="Изменить тему или домашнее задание урока",
)
def change_lesson(
    services: Svc, actor: CurrentActor, lesson_id: str, body: LessonChangeIn
) -> LessonOut:
    return _out(services.journal.change_lesson(actor, lesson_id, **body.model_dump()))


@router.post(
    "/{lesson_id}/substitution",
    response_model=LessonOut,
    summary="Записать замену (заместитель директора)",
)
def substitute(
    services: Svc, actor: CurrentActor, lesson_id: str, body: SubstitutionIn
) -> LessonOut:
    return _out(
        services.journal.assign_substitute(
            actor, lesson_id, teacher_id=body.teacher_id, reason=body.reason
        )
    )


@router.post("/{lesson_id}/cancellation", response_model=LessonOut, summary="Отменить урок")
def cancel_lesson(services: Svc, actor: CurrentActor, lesson_id: str, body: ReasonIn) -> LessonOut:
    return _out(services.journal.cancel_lesson(actor, lesson_id, reason=body.reason))


@router.get("", response_model=LessonsOut, summary="Уроки группы по предмету")
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
