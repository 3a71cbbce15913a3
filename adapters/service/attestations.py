"""Use cases: intermediate attestation results and academic debts (R-ATT)."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.service.core import Written
from adapters.service.marks import MarkUseCases
from domain import ids
from domain.actors import Actor, Role
from domain.deadlines import attestation_is_late
from domain.errors import Forbidden, RecordNotFound
from domain.journal import Attestation, StudentJournal
from domain.policy import (
    authorise_journal_write,
    authorise_own_entry_change,
    may_read_group,
    visible_subjects,
)
from domain.reference import AcademicYear, Period


@dataclass
class Debt:
    student_id: str
    attestation: Attestation


class AttestationUseCases(MarkUseCases):
    def _period(self, year: AcademicYear, subject_id: str, period_id: str) -> Period:
        periods = year.periods_of(subject_id)
        if period_id not in periods:
            raise RecordNotFound(
                f"У предмета нет периода аттестации «{period_id}»; есть: "
                f"{', '.join(periods) or 'нет'}",
                field="period_id",
            )
        return periods[period_id]

    def _authorise(
        self,
        actor: Actor,
        year: AcademicYear,
        student_id: str,
        subject_id: str,
        period: Period,
        reason: str | None,
    ) -> tuple[str, bool]:
        today = self.today(actor.org_id)
        # Who teaches the student: as of today, or the period's last day once it is over.
        on = max(period.starts_on, min(today, period.ends_on))
        role = authorise_journal_write(actor, year, student_id, subject_id, on, is_mark=True)
        late = attestation_is_late(
            role=role,
            starts_on=period.starts_on,
            ends_on=period.ends_on,
            today=today,
            rules=year.rules,
            reason=reason,
        )
        return role, late

    def record_attestation(
        self,
        actor: Actor,
        *,
        student_id: str,
        subject_id: str,
        period_id: str,
        result: str,
        reason: str | None = None,
        year_id: str | None = None,
    ) -> Written:
        year = self.year_or_current(actor.org_id, year_id)
        year.ensure_open()
        if actor.org_id != year.org_id or not year.ever_in_year(student_id):
            raise RecordNotFound("Обучающийся не найден в этом учебном году")
        period = self._period(year, subject_id, period_id)
        role, late = self._authorise(actor, year, student_id, subject_id, period, reason)
        acting = self.acting(actor, role)
        attestation_id = self.new_id()

        def command(journal: StudentJournal) -> None:
            journal.record_attestation(
                attestation_id=attestation_id,
                subject_id=subject_id,
                period_id=period_id,
                result=result,
                actor=acting,
                at=self.clock.now(),
                reason=reason,
                late=late,
            )

        journal, position = self.change_journal(
            actor.org_id, year.year_id, student_id, acting, command
        )
        return Written(student_id, journal.attestations[attestation_id], position)

    def correct_attestation(
        self, actor: Actor, attestation_id: str, *, result: str, reason: str
    ) -> Written:
        located, year = self.located_open(attestation_id, "attestation", actor)
        attestation = located.attestation(attestation_id)
        period = self._period(year, attestation.subject_id, attestation.period_id)
        role, late = self._authorise(
            actor, year, located.student_id, attestation.subject_id, period, reason
        )
        authorise_own_entry_change(role, actor, attestation.recorded_by)
        acting = self.acting(actor, role)
        journal, position = self.change_journal(
            located.org_id,
            located.year_id,
            located.student_id,
            acting,
            lambda j: j.correct_attestation(
                attestation_id=attestation_id,
                result=result,
                reason=reason,
                actor=acting,
                at=self.clock.now(),
                late=late,
            ),
        )
        return Written(journal.student_id, journal.attestations[attestation_id], position)

    def attestation_history(self, actor: Actor, attestation_id: str) -> tuple[str, Attestation]:
        journal = self.located_journal(attestation_id, "attestation", actor)
        year = self.year(journal.org_id, journal.year_id)
        attestation = journal.attestation(attestation_id)
        subjects = visible_subjects(actor, year, journal.student_id, self.children(actor))
        if subjects is not None and attestation.subject_id not in subjects:
            raise Forbidden("Нет доступа к этому предмету")
        return journal.student_id, attestation

    def academic_debts(
        self, actor: Actor, group_id: str, year_id: str | None = None
    ) -> tuple[AcademicYear, list[Debt]]:
        """Open and cleared academic debts of a group's students, with their history (R-ATT-6)."""
        year = self.year_or_current(actor.org_id, year_id)
        if actor.has(Role.STUDENT) or actor.has(Role.PARENT):
            raise Forbidden("Сводка задолженностей группы доступна сотрудникам")
        may_read_group(actor, year, group_id, None, [])
        students = sorted({s for (g, s) in year.memberships if g == group_id})
        debts = []
        for student_id in students:
            subjects = visible_subjects(actor, year, student_id, [])
            journal = self.read_journal(ids.journal_id(year.org_id, year.year_id, student_id))
            for attestation in journal.attestations.values() if journal else []:
                if attestation.debt and (subjects is None or attestation.subject_id in subjects):
                    debts.append(Debt(student_id, attestation))
        return year, debts
