"""Lessons of a group in a subject (R-LES-1, R-LES-2): topic, homework, substitutes, cancelling.

One `SubjectPage` per group × subject × academic year, like a page of the paper journal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.actors import Actor
from domain.base import Audited, require_reason
from domain.errors import RecordNotFound, RuleViolation
from domain.ids import subject_page_id

ACTIVE = "active"
CANCELLED = "cancelled"


@dataclass(slots=True)
class Lesson:
    lesson_id: str
    lesson_date: date
    lesson_no: int
    topic: str | None
    homework: str | None
    substitute_id: str | None
    status: str
    recorded_by: str
    recorded_at: datetime

    def fields(self) -> dict[str, Any]:
        return {"topic": self.topic, "homework": self.homework}


class SubjectPage(Audited):
    """The page of a group's journal for one subject in one academic year."""

    @staticmethod
    def create_id(org_id: str, year_id: str, group_id: str, subject_id: str) -> UUID:
        return subject_page_id(org_id, year_id, group_id, subject_id)

    class Opened(Audited.Created):
        org_id: str
        year_id: str
        group_id: str
        subject_id: str

    def __init__(
        self,
        org_id: str,
        year_id: str,
        group_id: str,
        subject_id: str,
        actor_id: str,
        actor_role: str,
    ) -> None:
        self.org_id = org_id
        self.year_id = year_id
        self.group_id = group_id
        self.subject_id = subject_id
        self.lessons: dict[str, Lesson] = {}

    @classmethod
    def open(
        cls,
        *,
        org_id: str,
        year_id: str,
        group_id: str,
        subject_id: str,
        actor: Actor,
        at: datetime,
    ) -> SubjectPage:
        return cls._create(
            cls.Opened,
            id=subject_page_id(org_id, year_id, group_id, subject_id),
            timestamp=at,
            org_id=org_id,
            year_id=year_id,
            group_id=group_id,
            subject_id=subject_id,
            actor_id=actor.id,
            actor_role=actor.role,
        )

    class LessonRecorded(Audited.Event):
        lesson_id: str
        lesson_date: date
        lesson_no: int
        topic: str | None
        homework: str | None
        substitute_id: str | None
        late: bool

        def apply(self, page: SubjectPage) -> None:
            page.lessons[self.lesson_id] = Lesson(
                self.lesson_id,
                self.lesson_date,
                self.lesson_no,
                self.topic,
                self.homework,
                self.substitute_id,
                ACTIVE,
                self.actor_id,
                self.timestamp,
            )

    class LessonChanged(Audited.Event):
        lesson_id: str
        before: dict[str, Any]
        after: dict[str, Any]
        reason: str | None
        late: bool

        def apply(self, page: SubjectPage) -> None:
            lesson = page.lessons[self.lesson_id]
            lesson.topic = self.after["topic"]
            lesson.homework = self.after["homework"]

    class SubstituteAssigned(Audited.Event):
        lesson_id: str
        teacher_id: str | None
        previous_id: str | None
        reason: str

        def apply(self, page: SubjectPage) -> None:
            page.lessons[self.lesson_id].substitute_id = self.teacher_id

    class LessonCancelled(Audited.Event):
        lesson_id: str
        reason: str

        def apply(self, page: SubjectPage) -> None:
            page.lessons[self.lesson_id].status = CANCELLED

    def record_lesson(
        self,
        *,
        lesson_id: str,
        lesson_date: date,
        lesson_no: int,
        topic: str | None,
        homework: str | None,
        actor: Actor,
        at: datetime,
        substitute_id: str | None = None,
        late: bool = False,
    ) -> None:
        if lesson_id in self.lessons:
            raise RuleViolation("Урок с таким идентификатором уже есть", field="lesson_id")
        if not 1 <= lesson_no <= 20:
            raise RuleViolation("Номер урока — от 1 до 20", field="lesson_no")
        if self.lesson_at(lesson_date, lesson_no) is not None:
            raise RuleViolation(
                f"Урок №{lesson_no} {lesson_date.isoformat()} уже записан", field="lesson_no"
            )
        self._record(
            self.LessonRecorded,
            actor,
            at,
            lesson_id=lesson_id,
            lesson_date=lesson_date,
            lesson_no=lesson_no,
            topic=_text(topic),
            homework=_text(homework),
            substitute_id=substitute_id,
            late=late,
        )

    def change_lesson(
        self,
        *,
        lesson_id: str,
        topic: str | None,
        homework: str | None,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        late: bool = False,
    ) -> None:
        lesson = self.active_lesson(lesson_id)
        after = {"topic": _text(topic), "homework": _text(homework)}
        if after == lesson.fields():
            raise RuleViolation("Тема и задание уже такие", field="topic")
        self._record(
            self.LessonChanged,
            actor,
            at,
            lesson_id=lesson_id,
            before=lesson.fields(),
            after=after,
            reason=_text(reason),
            late=late,
        )

    def assign_substitute(
        self,
        *,
        lesson_id: str,
        teacher_id: str | None,
        reason: str | None,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record a substitution (R-LES-2); None removes the substitute."""
        lesson = self.active_lesson(lesson_id)
        if teacher_id == lesson.substitute_id:
            raise RuleViolation("Замена уже такая", field="teacher_id")
        self._record(
            self.SubstituteAssigned,
            actor,
            at,
            lesson_id=lesson_id,
            teacher_id=teacher_id,
            previous_id=lesson.substitute_id,
            reason=require_reason(reason),
        )

    def cancel_lesson(
        self, *, lesson_id: str, reason: str | None, actor: Actor, at: datetime
    ) -> None:
        self.active_lesson(lesson_id)
        self._record(
            self.LessonCancelled, actor, at, lesson_id=lesson_id, reason=require_reason(reason)
        )

    def lesson(self, lesson_id: str) -> Lesson:
        try:
            return self.lessons[lesson_id]
        except KeyError:
            raise RecordNotFound("Урок не найден") from None

    def active_lesson(self, lesson_id: str) -> Lesson:
        lesson = self.lesson(lesson_id)
        if lesson.status == CANCELLED:
            raise RuleViolation("Урок отменён, изменить его нельзя", field="lesson_id")
        return lesson

    def lesson_at(self, day: date, lesson_no: int) -> Lesson | None:
        for lesson in self.lessons.values():
            if (lesson.lesson_date, lesson.lesson_no, lesson.status) == (day, lesson_no, ACTIVE):
                return lesson
        return None

    def substituted_by(self, teacher_id: str, day: date) -> list[Lesson]:
        """Active lessons on `day` where `teacher_id` substitutes."""
        return [
            lesson
            for lesson in self.lessons.values()
            if lesson.lesson_date == day
            and lesson.substitute_id == teacher_id
            and lesson.status == ACTIVE
        ]


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None
