"""Use cases: lessons, topics and homework, substitutions, cancelled lessons (R-LES)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from adapters.service.core import JournalCore
from domain import ids
from domain.actors import Actor, Role
from domain.deadlines import current_entry_is_late
from domain.errors import RecordNotFound, RuleViolation
from domain.lessons import Lesson, SubjectPage
from domain.policy import (
    authorise_lesson_write,
    authorise_substitution,
    may_read_group,
)
from domain.reference import AcademicYear


class LessonUseCases(JournalCore):
    def _lesson_late(
        self, actor: Actor, role: str, year: AcademicYear, day: date, reason: str | None
    ) -> bool:
        # Lessons may be planned ahead; past ones follow the current-entry deadline.
        if day > self.today(actor.org_id):
            return False
        return current_entry_is_late(
            role=role,
            lesson_date=day,
            today=self.today(actor.org_id),
            rules=year.rules,
            reason=reason,
        )

    def _check_teacher(self, org_id: str, teacher_id: str) -> None:
        person = self.person(org_id, teacher_id)
        if person is None or not person.active or Role.TEACHER not in person.roles:
            raise RuleViolation(f"Нет преподавателя «{teacher_id}»", field="teacher_id")

    def _located_page(self, lesson_id: str, actor: Actor) -> SubjectPage:
        page = self.read(self.locate(lesson_id, "lesson", actor), SubjectPage)
        if page is None or page.org_id != actor.org_id:
            raise RecordNotFound("Урок не найден")
        return page

    def record_lesson(
        self,
        actor: Actor,
        *,
        group_id: str,
        subject_id: str,
        lesson_date: date,
        lesson_no: int,
        topic: str | None = None,
        homework: str | None = None,
        substitute_teacher_id: str | None = None,
        reason: str | None = None,
    ) -> tuple[str, str, Lesson, int]:
        year = self.year_of_date(actor.org_id, lesson_date)
        year.ensure_open()
        role = authorise_lesson_write(actor, year, group_id, subject_id)
        if substitute_teacher_id is not None:
            authorise_substitution(actor, year)
            self._check_teacher(actor.org_id, substitute_teacher_id)
        late = self._lesson_late(actor, role, year, lesson_date, reason)
        acting = Actor(actor.id, role, actor.org_id, actor.roles)
        lesson_id = self.new_id()

        def create() -> SubjectPage:
            return SubjectPage.open(
                org_id=actor.org_id,
                year_id=year.year_id,
                group_id=group_id,
                subject_id=subject_id,
                actor=acting,
                at=self.clock.now(),
            )

        page, position = self.change(
            ids.subject_page_id(actor.org_id, year.year_id, group_id, subject_id),
            SubjectPage,
            create,
            lambda p: p.record_lesson(
                lesson_id=lesson_id,
                lesson_date=lesson_date,
                lesson_no=lesson_no,
                topic=topic,
                homework=homework,
                actor=acting,
                at=self.clock.now(),
                substitute_id=substitute_teacher_id,
                late=late,
            ),
        )
        return group_id, subject_id, page.lessons[lesson_id], position

    def _change_lesson(
        self,
        actor: Actor,
        lesson_id: str,
        role_for: str,
        command: Callable[[SubjectPage, Actor, bool], None],
        reason: str | None = None,
    ) -> tuple[str, str, Lesson, int]:
        located = self._located_page(lesson_id, actor)
        year = self.year(located.org_id, located.year_id)
        year.ensure_open()
        lesson = located.lesson(lesson_id)
        if role_for == "substitution":
            role = authorise_substitution(actor, year)
            late = False
        else:
            # A substitute fills the lesson in; cancelling it is not theirs to do.
            role = authorise_lesson_write(
                actor,
                year,
                located.group_id,
                located.subject_id,
                substitute_id=lesson.substitute_id if role_for == "change" else None,
            )
            late = self._lesson_late(actor, role, year, lesson.lesson_date, reason)
        acting = Actor(actor.id, role, actor.org_id, actor.roles)
        page, position = self.change(
            located.id, SubjectPage, None, lambda p: command(p, acting, late)
        )
        return page.group_id, page.subject_id, page.lessons[lesson_id], position

    def change_lesson(
        self,
        actor: Actor,
        lesson_id: str,
        *,
        topic: str | None,
        homework: str | None,
        reason: str | None = None,
    ) -> tuple[str, str, Lesson, int]:
        return self._change_lesson(
            actor,
            lesson_id,
            "change",
            lambda p, a, late: p.change_lesson(
                lesson_id=lesson_id,
                topic=topic,
                homework=homework,
                actor=a,
                at=self.clock.now(),
                reason=reason,
                late=late,
            ),
            reason,
        )

    def assign_substitute(
        self, actor: Actor, lesson_id: str, *, teacher_id: str | None, reason: str
    ) -> tuple[str, str, Lesson, int]:
        if teacher_id is not None:
            self._check_teacher(actor.org_id, teacher_id)
        return self._change_lesson(
            actor,
            lesson_id,
            "substitution",
            lambda p, a, late: p.assign_substitute(
                lesson_id=lesson_id,
                teacher_id=teacher_id,
                reason=reason,
                actor=a,
                at=self.clock.now(),
            ),
        )

    def cancel_lesson(
        self, actor: Actor, lesson_id: str, *, reason: str
    ) -> tuple[str, str, Lesson, int]:
        return self._change_lesson(
            actor,
            lesson_id,
            "cancellation",
            lambda p, a, late: p.cancel_lesson(
                lesson_id=lesson_id, reason=reason, actor=a, at=self.clock.now()
            ),
            reason,
        )

    def lessons(
        self,
        actor: Actor,
        *,
        group_id: str,
        subject_id: str,
        from_date: date | None = None,
        to_date: date | None = None,
        year_id: str | None = None,
    ) -> list[Lesson]:
        year = self.year_or_current(actor.org_id, year_id)
        may_read_group(actor, year, group_id, subject_id, self.children(actor))
        page = self.read(
            ids.subject_page_id(year.org_id, year.year_id, group_id, subject_id), SubjectPage
        )
        lessons = list(page.lessons.values()) if page else []
        return sorted(
            (
                les
                for les in lessons
                if (from_date is None or les.lesson_date >= from_date)
                and (to_date is None or les.lesson_date <= to_date)
            ),
            key=lambda les: (les.lesson_date, les.lesson_no),
        )
