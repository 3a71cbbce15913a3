"""Use cases: absences, their reasons and withdrawal, parents' notices (R-ABS)."""

from __future__ import annotations

from datetime import date

from adapters.service.core import Written
from adapters.service.marks import MarkUseCases
from domain.actors import Actor, Role
from domain.errors import RuleViolation
from domain.journal import AbsenceNotice, StudentJournal
from domain.policy import (
    authorise_absence_reason,
    authorise_notice,
)


class AbsenceUseCases(MarkUseCases):
    def record_absence(
        self,
        actor: Actor,
        *,
        student_id: str,
        subject_id: str,
        lesson_date: date,
        code: str,
        lesson_no: int | None = None,
        reason: str | None = None,
    ) -> Written:
        year = self.year_of_date(actor.org_id, lesson_date)
        year.ensure_open()
        acting, late = self.authorise_entry(
            actor,
            year,
            student_id,
            subject_id,
            lesson_date,
            is_mark=False,
            lesson_no=lesson_no,
            reason=reason,
            allow_curator=True,
        )
        absence_id = self.new_record_id("absence", actor.org_id, year.year_id, student_id)

        def command(journal: StudentJournal) -> None:
            journal.record_absence(
                absence_id=absence_id,
                subject_id=subject_id,
                lesson_date=lesson_date,
                code=code,
                actor=acting,
                at=self.clock.now(),
                lesson_no=lesson_no,
                reason=reason,
                source="curator" if acting.role == Role.CURATOR else "teacher",
                late=late,
            )

        journal, position = self.change_journal(
            actor.org_id, year.year_id, student_id, acting, command
        )
        return Written(student_id, journal.absences[absence_id], position)

    def set_absence_reason(
        self, actor: Actor, absence_id: str, *, code: str, reason: str
    ) -> Written:
        located, year = self.located_open(absence_id, "absence", actor)
        absence = located.absence(absence_id)
        role = authorise_absence_reason(
            actor, year, located.student_id, absence.subject_id, absence.lesson_date
        )
        acting = self.acting(actor, role)
        journal, position = self.change_journal(
            located.org_id,
            located.year_id,
            located.student_id,
            acting,
            lambda j: j.set_absence_reason(
                absence_id=absence_id, code=code, reason=reason, actor=acting, at=self.clock.now()
            ),
        )
        return Written(journal.student_id, journal.absences[absence_id], position)

    def withdraw_absence(
        self,
        actor: Actor,
        absence_id: str,
        *,
        reason: str,
        subject_id: str | None = None,
        lesson_no: int | None = None,
    ) -> Written:
        """The teacher removes an absence when the student was in fact present (R-ABS-3)."""
        located, year = self.located_open(absence_id, "absence", actor)
        absence = located.active_absence(absence_id)
        subject = absence.subject_id or subject_id
        if subject is None:
            raise RuleViolation(
                "Уведомление родителя охватывает весь день: укажите предмет урока",
                field="subject_id",
            )
        number = absence.lesson_no if absence.subject_id else lesson_no
        # A teacher removes an absence set from a parent's or curator's notice (R-ABS-3);
        # a teacher's own entries only they (or a deputy) change.
        acting, late = self.authorise_entry(
            actor,
            year,
            located.student_id,
            subject,
            absence.lesson_date,
            is_mark=False,
            lesson_no=number,
            reason=reason,
            allow_curator=True,
            changing_entry_of=absence.recorded_by if absence.source == "teacher" else None,
        )
        journal, position = self.change_journal(
            located.org_id,
            located.year_id,
            located.student_id,
            acting,
            lambda j: j.withdraw_absence(
                absence_id=absence_id,
                reason=reason,
                actor=acting,
                at=self.clock.now(),
                subject_id=subject_id,
                lesson_no=lesson_no,
                late=late,
            ),
        )
        return Written(journal.student_id, journal.absences[absence_id], position)

    def file_absence_notice(
        self, actor: Actor, *, student_id: str, from_date: date, to_date: date, reason: str
    ) -> Written:
        """A parent notifies a planned absence of their child (R-ABS-3)."""
        year = self.year_of_date(actor.org_id, from_date, field="from_date")
        if to_date > year.ends_on:
            raise RuleViolation("Уведомление выходит за конец учебного года", field="to_date")
        year.ensure_open()
        role = authorise_notice(actor, year, student_id, self.children(actor))
        acting = self.acting(actor, role)
        notice_id = self.new_id()
        journal, position = self.change_journal(
            actor.org_id,
            year.year_id,
            student_id,
            acting,
            lambda j: j.file_absence_notice(
                notice_id=notice_id,
                from_date=from_date,
                to_date=to_date,
                reason=reason,
                today=self.today(actor.org_id),
                actor=acting,
                at=self.clock.now(),
            ),
        )
        notice: AbsenceNotice = journal.notices[notice_id]
        return Written(student_id, notice, position)
