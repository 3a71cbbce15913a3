"""Use cases: current marks (R-MARK)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from adapters.service.core import JournalCore, Written
from domain.actors import Actor, Role
from domain.deadlines import current_entry_is_late
from domain.errors import Forbidden
from domain.journal import Mark, StudentJournal
from domain.policy import authorise_journal_write, authorise_own_entry_change, visible_subjects
from domain.reference import AcademicYear


class MarkUseCases(JournalCore):
    def substitute_lessons(
        self, actor: Actor, year: AcademicYear, student_id: str, subject_id: str, day: date
    ) -> list[tuple[str, int]]:
        """(group, lesson_no) of lessons on `day` in `subject_id` the actor substitutes."""
        if not actor.has(Role.TEACHER):
            return []
        groups = year.groups_of(student_id, day)
        if any(year.is_assigned(actor.id, g, subject_id) for g in groups):
            return []
        found = []
        for group_id in groups:
            page = self.page(year.org_id, year.year_id, group_id, subject_id)
            if page is not None:
                found += [
                    (group_id, lesson.lesson_no) for lesson in page.substituted_by(actor.id, day)
                ]
        return found

    def authorise_entry(
        self,
        actor: Actor,
        year: AcademicYear,
        student_id: str,
        subject_id: str,
        day: date,
        *,
        is_mark: bool,
        lesson_no: int | None,
        reason: str | None,
        allow_curator: bool = False,
        changing_entry_of: str | None = None,
        today: date | None = None,
    ) -> tuple[Actor, bool]:
        """Who writes this current entry, in which role, and whether it is an authorised late
        one: the write policy, own entries only for a change (`changing_entry_of` is the
        entry's author), then the deadline (R-MARK-2/4/5). `today`: the school's date, when
        the caller has it already (a lesson's entries ask once for all their items)."""
        role = authorise_journal_write(
            actor,
            year,
            student_id,
            subject_id,
            day,
            is_mark=is_mark,
            lesson_no=lesson_no,
            allow_curator=allow_curator,
            substitute_lessons=self.substitute_lessons(actor, year, student_id, subject_id, day),
        )
        if changing_entry_of is not None:
            authorise_own_entry_change(role, actor, changing_entry_of)
        late = current_entry_is_late(
            role=role,
            lesson_date=day,
            today=today or self.today(actor.org_id),
            rules=year.rules,
            reason=reason,
        )
        return self.acting(actor, role), late

    def located_open(
        self, record_id: str, kind: str, actor: Actor
    ) -> tuple[StudentJournal, AcademicYear]:
        """The journal holding a record and its year, which must still be open."""
        journal = self.located_journal(record_id, kind, actor)
        year = self.year(journal.org_id, journal.year_id)
        year.ensure_open()
        return journal, year

    def acting(self, actor: Actor, role: str) -> Actor:
        return Actor(actor.id, role, actor.org_id, actor.roles)

    def record_mark(
        self,
        actor: Actor,
        *,
        student_id: str,
        subject_id: str,
        lesson_date: date,
        work_kind: str,
        value: int,
        lesson_no: int | None = None,
        comment: str | None = None,
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
            is_mark=True,
            lesson_no=lesson_no,
            reason=reason,
        )
        mark_id = self.new_record_id("mark", actor.org_id, year.year_id, student_id)

        def command(journal: StudentJournal) -> None:
            journal.record_mark(
                mark_id=mark_id,
                subject_id=subject_id,
                lesson_date=lesson_date,
                work_kind=work_kind,
                value=value,
                rules=year.rules,
                actor=acting,
                at=self.clock.now(),
                lesson_no=lesson_no,
                comment=comment,
                reason=reason,
                late=late,
            )

        record, position = self.record_in_journal(
            actor.org_id,
            year.year_id,
            student_id,
            acting,
            command,
            lambda journal: journal.marks[mark_id],
        )
        return Written(student_id, record, position)

    def _change_mark(
        self,
        actor: Actor,
        mark_id: str,
        reason: str | None,
        change: Callable[[StudentJournal, Actor, AcademicYear, bool], None],
    ) -> Written:
        located, year = self.located_open(mark_id, "mark", actor)
        mark = located.mark(mark_id)
        acting, late = self.authorise_entry(
            actor,
            year,
            located.student_id,
            mark.subject_id,
            mark.lesson_date,
            is_mark=True,
            lesson_no=mark.lesson_no,
            reason=reason,
            changing_entry_of=mark.recorded_by,
        )
        journal, position = self.change_journal(
            located.org_id,
            located.year_id,
            located.student_id,
            acting,
            lambda j: change(j, acting, year, late),
        )
        return Written(journal.student_id, journal.marks[mark_id], position)

    def correct_mark(self, actor: Actor, mark_id: str, *, value: int, reason: str) -> Written:
        return self._change_mark(
            actor,
            mark_id,
            reason,
            lambda j, a, year, late: j.correct_mark(
                mark_id=mark_id,
                value=value,
                reason=reason,
                rules=year.rules,
                actor=a,
                at=self.clock.now(),
                late=late,
            ),
        )

    def cancel_mark(self, actor: Actor, mark_id: str, *, reason: str) -> Written:
        return self._change_mark(
            actor,
            mark_id,
            reason,
            lambda j, a, year, late: j.cancel_mark(
                mark_id=mark_id, reason=reason, actor=a, at=self.clock.now(), late=late
            ),
        )

    def mark_history(self, actor: Actor, mark_id: str) -> Mark:
        journal = self.located_journal(mark_id, "mark", actor)
        year = self.year(journal.org_id, journal.year_id)
        mark = journal.mark(mark_id)
        subjects = visible_subjects(actor, year, journal.student_id, self.children(actor))
        if subjects is not None and mark.subject_id not in subjects:
            raise Forbidden("Нет доступа к этому предмету")
        return mark
