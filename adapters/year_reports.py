"""One academic year's reports over any store that holds its read models: the live one (for
the API, after authorisation) or a replayed archive. Rules, periods and rounding come from the
year's own events (the `AcademicYear` aggregate), never from today's settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from adapters.sql import Database
from domain.reference import AcademicYear, Period, in_roster_order
from projections.attendance import Attendance, attendance
from projections.gradebook import Gradebook, gradebook
from projections.summary_sheet import SummaryRow, summary_sheet


class YearReports:
    """`subject_order`: subject ids as the roster lists them (`Organisation.subject_order`,
    an archive's reference.json); documents list a group's subjects so."""

    def __init__(self, db: Database, year: AcademicYear, subject_order: Sequence[str] = ()) -> None:
        self.db = db
        self.year = year
        self.subject_order = subject_order

    def group_subjects(self, group_id: str) -> list[str]:
        """The group's subjects in the roster's order; those it does not list last, by id."""
        taught = {s for _, g, s in self.year.assignments if g == group_id}
        return in_roster_order(taught, self.subject_order)

    def periods(self, subject_id: str) -> list[Period]:
        return sorted(self.year.periods_of(subject_id).values(), key=lambda p: p.ends_on)

    def gradebook(
        self, group_id: str, subject_id: str, period: Period, as_of: datetime | None = None
    ) -> Gradebook:
        with self.db.read() as cur:
            return gradebook(
                cur,
                org_id=self.year.org_id,
                year_id=self.year.year_id,
                group_id=group_id,
                subject_id=subject_id,
                period_id=period.period_id,
                starts_on=period.starts_on,
                ends_on=period.ends_on,
                as_of=as_of,
            )

    def attendance(
        self,
        group_id: str,
        from_date: date,
        to_date: date,
        *,
        today: date,
        unexplained_days: int = 3,
        subjects: frozenset[str] | None = None,
        as_of: datetime | None = None,
    ) -> Attendance:
        with self.db.read() as cur:
            return attendance(
                cur,
                org_id=self.year.org_id,
                year_id=self.year.year_id,
                group_id=group_id,
                from_date=from_date,
                to_date=to_date,
                today=today,
                unexplained_days=unexplained_days,
                as_of=as_of,
                subjects=subjects,
            )

    def summary_sheet(
        self, group_id: str, as_of: datetime | None = None, explain: bool = False
    ) -> list[SummaryRow]:
        subjects = {s: self.periods(s) for s in self.group_subjects(group_id)}
        with self.db.read() as cur:
            return summary_sheet(
                cur,
                org_id=self.year.org_id,
                year_id=self.year.year_id,
                group_id=group_id,
                subjects=subjects,
                starts_on=self.year.starts_on,
                ends_on=self.year.ends_on,
                rounding=self.year.rules.rounding,
                as_of=as_of,
                explain=explain,
            )
