"""Use cases: reports from the read models (gradebook, attendance, summary sheet,
monitoring) and the parents' diary acknowledgement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from adapters.service.core import JournalCore, Written
from adapters.year_reports import YearReports
from domain.actors import Actor, Role
from domain.errors import Forbidden, RecordNotFound, RuleViolation
from domain.journal import StudentJournal
from domain.policy import may_read_group_reports, visible_subjects
from domain.reference import AcademicYear, Period
from projections.audit import audit_items
from projections.monitoring import monitoring


@dataclass
class Report:
    """A report and the read-model position it reflects."""

    year: AcademicYear
    body: Any
    position: int
    complete: bool


class ReportUseCases(JournalCore):
    def _fresh(self, min_position: int | None) -> tuple[int, bool]:
        complete = True
        if min_position is not None:
            complete = self.read_models.wait_for(min_position, self.read_wait_seconds)
        return self.read_models.position("journal_facts"), complete

    def _reports(self, year: AcademicYear) -> YearReports:
        """The year's reports, subjects in the organisation's roster order."""
        org = self.organisation(year.org_id)
        return YearReports(self.db, year, org.subject_order if org is not None else ())

    def _period(self, year: AcademicYear, subject_id: str, period_id: str) -> Period:
        periods = year.periods_of(subject_id)
        if period_id not in periods:
            raise RecordNotFound(f"Нет периода «{period_id}» у предмета", field="period_id")
        return periods[period_id]

    def gradebook(
        self,
        actor: Actor,
        *,
        group_id: str,
        subject_id: str,
        period_id: str,
        as_of: datetime | None = None,
        year_id: str | None = None,
        min_position: int | None = None,
    ) -> Report:
        year = self.year_or_current(actor.org_id, year_id)
        may_read_group_reports(actor, year, group_id, subject_id)
        period = self._period(year, subject_id, period_id)
        position, complete = self._fresh(min_position)
        book = YearReports(self.db, year).gradebook(group_id, subject_id, period, as_of)
        return Report(year, book, position, complete)

    def attendance(
        self,
        actor: Actor,
        *,
        group_id: str,
        from_date: date,
        to_date: date,
        unexplained_days: int = 3,
        year_id: str | None = None,
        min_position: int | None = None,
        as_of: datetime | None = None,
    ) -> Report:
        if to_date < from_date:
            raise RuleViolation("Дата окончания раньше даты начала", field="to_date")
        year = (
            self.year_or_current(actor.org_id, year_id)
            if year_id
            else self.year_of_date(actor.org_id, from_date, field="from_date")
        )
        may_read_group_reports(actor, year, group_id)
        subjects = self._taught_only(actor, year, group_id)
        position, complete = self._fresh(min_position)
        report = YearReports(self.db, year).attendance(
            group_id,
            from_date,
            to_date,
            today=self.today(actor.org_id),
            unexplained_days=unexplained_days,
            subjects=subjects,
            as_of=as_of,
        )
        return Report(year, report, position, complete)

    @staticmethod
    def _taught_only(actor: Actor, year: AcademicYear, group_id: str) -> frozenset[str] | None:
        """The subjects a plain subject teacher of the group sees; None for everyone who
        sees the whole group (administration, curator, archivist of a closed year)."""
        whole = (
            actor.is_administration()
            or year.groups[group_id].curator_id == actor.id
            or (actor.has(Role.ARCHIVIST) and year.closed_at is not None)
        )
        if whole:
            return None
        return frozenset(s for t, g, s in year.assignments if t == actor.id and g == group_id)

    def group_subjects(self, year: AcademicYear, group_id: str) -> list[str]:
        return self._reports(year).group_subjects(group_id)

    def summary_sheet(
        self,
        actor: Actor,
        *,
        year_id: str,
        group_id: str,
        min_position: int | None = None,
        as_of: datetime | None = None,
        explain: bool = False,
    ) -> Report:
        year = self.year(actor.org_id, year_id)
        may_read_group_reports(actor, year, group_id, staff_only=(Role.CURATOR,))
        position, complete = self._fresh(min_position)
        rows = self._reports(year).summary_sheet(group_id, as_of, explain)
        return Report(year, rows, position, complete)

    def monitoring(
        self,
        actor: Actor,
        *,
        group_id: str,
        from_date: date,
        to_date: date,
        min_position: int | None = None,
    ) -> Report:
        if to_date < from_date:
            raise RuleViolation("Дата окончания раньше даты начала", field="to_date")
        year = self.year_of_date(actor.org_id, from_date, field="from_date")
        may_read_group_reports(actor, year, group_id, staff_only=(Role.CURATOR,))
        teachers = sorted({t for t, g, _ in year.assignments if g == group_id})
        students = {s for (g, s) in year.memberships if g == group_id}
        parents = self.parents_of(actor.org_id, students)
        position, complete = self._fresh(min_position)
        with self.db.read() as cur:
            figures = monitoring(
                cur,
                org_id=year.org_id,
                year_id=year.year_id,
                group_id=group_id,
                from_date=from_date,
                to_date=to_date,
                teachers=teachers,
                parents=parents,
                zone=self.zone_of(actor.org_id),
            )
        return Report(year, figures, position, complete)

    def parents_of(self, org_id: str, students: set[str]) -> dict[str, list[str]]:
        with self.db.read() as cur:
            cur.execute(
                "SELECT person_id FROM accounts WHERE org_id = ? AND kind = 'parent' "
                "AND active = 1",
                (org_id,),
            )
            parent_ids = [r[0] for r in cur.fetchall()]
        found: dict[str, list[str]] = {}
        for parent_id in parent_ids:
            parent = self.person(org_id, parent_id)
            for child in parent.children if parent else []:
                if child in students:
                    found.setdefault(child, []).append(parent_id)
        return found

    def acknowledge_diary(self, actor: Actor, student_id: str) -> Written:
        """A parent confirms having read the child's diary (R-MON-3)."""
        year = self.current_year(actor.org_id)
        visible_subjects(actor, year, student_id, self.children(actor))
        if not actor.has(Role.PARENT) or student_id not in self.children(actor):
            raise RuleViolation("Подтверждает просмотр дневника родитель", field="student_id")
        year.ensure_open()
        acting = Actor(actor.id, Role.PARENT.value, actor.org_id, actor.roles)

        def command(journal: StudentJournal) -> None:
            journal.acknowledge_diary(actor=acting, at=self.clock.now())

        journal, position = self.change_journal(
            actor.org_id, year.year_id, student_id, acting, command
        )
        return Written(student_id, journal.acknowledgements[-1], position)


class AuditUseCases(JournalCore):
    def audit(
        self,
        actor: Actor,
        *,
        student_id: str | None = None,
        group_id: str | None = None,
        actor_id: str | None = None,
        subject_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        cursor: int | None = None,
        limit: int = 50,
        min_position: int | None = None,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Who changed what and when, newest first (deputy, director, admin)."""
        if not actor.is_administration():
            raise Forbidden(
                "Журнал изменений читают заместитель директора, директор и администратор"
            )
        if min_position is not None:
            self.read_models.wait_for(min_position, self.read_wait_seconds)
        group = None
        if group_id is not None:
            members = {
                s for y in self.years(actor.org_id) for (g, s) in y.memberships if g == group_id
            }
            group = (group_id, sorted(members))
        with self.db.read() as cur:
            items = audit_items(
                cur,
                org_id=actor.org_id,
                student_id=student_id,
                group=group,
                actor_id=actor_id,
                subject_id=subject_id,
                action=action,
                since=since,
                until=until,
                before_position=cursor,
                limit=limit + 1,
            )
        more = len(items) > limit
        items = items[:limit]
        return items, (items[-1]["position"] if more and items else None)
