"""Use case: the data of the class journal page (UI.md «The class journal page").

A group's page in one subject for one period, as a grid: a row per student of the group
during the period (alphabetical, ё as е), a column per lesson (and per date and lesson number
that has a mark or absence without a lesson record), each cell with its marks, its absence and
whether this person may still write into it, and why not. Pure data: the HTML lives elsewhere.

Read like the gradebook (same authorisation, same averages), but from the aggregates
themselves, so a teacher sees a mark the moment it is saved (read-your-writes). `as_of` shows
the journal as it stood at that record time, read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from adapters.service.marks import MarkUseCases
from domain import ids
from domain.actors import Actor, Role
from domain.errors import RecordNotFound, RuleViolation, YearClosed
from domain.journal import ACTIVE, Absence, Mark, StudentJournal
from domain.lessons import ACTIVE as LESSON_ACTIVE
from domain.lessons import Lesson, SubjectPage
from domain.policy import may_read_group_reports
from domain.reference import AcademicYear, Membership, Period
from projections.queries import mean, notice_lessons, round_half

NO_LESSON_NO = "-"


@dataclass(frozen=True)
class CellMark:
    mark_id: str
    value: int
    work_kind: str
    corrected: bool
    status: str  # "active" or "cancelled" (a cancelled one no longer counts)
    # Earlier values, oldest first, without the current one (4 → 5 gives [4]).
    previous_values: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class CellAbsence:
    absence_id: str
    code: str  # Н, НУ, НН, Б
    reason: str | None
    source: str  # teacher, curator, parent_notice


@dataclass(frozen=True)
class Cell:
    # Marks of the cell in the order recorded (the last one is the "latest"); cancelled
    # ones are listed too, with status "cancelled".
    marks: list[CellMark]
    absence: CellAbsence | None
    writable: bool
    reason_read_only: str | None
    # Writable only with a reason (a deputy past the deadline, R-MARK-4).
    needs_reason: bool = False


@dataclass(frozen=True)
class Column:
    key: str  # "YYYY-MM-DD/N" (N the lesson number, "-" when none): the cells' key
    lesson_date: date
    lesson_no: int | None
    lesson_id: str | None  # None: marks or absences without a lesson record
    topic: str | None
    homework: str | None
    # The lesson's kind of work where known, else the kind most of its marks have; None:
    # nothing known, the page uses its default.
    work_kind: str | None


@dataclass(frozen=True)
class Row:
    student_id: str
    full_name: str
    cells: dict[str, Cell]  # column key -> cell, for every column
    average: Decimal | None
    weighted_average: Decimal | None
    attestation: str | None  # the period's result, e.g. "5", "зачтено", "н/а"


@dataclass(frozen=True)
class ClassJournal:
    group_id: str
    group_name: str
    subject_id: str
    subject_name: str
    year_id: str
    periods: list[tuple[str, str]]  # (period_id, name) of the subject, in order
    period_id: str | None  # None only when the subject has no periods (the whole year)
    as_of: datetime | None
    read_only: bool
    read_only_reason: str | None
    columns: list[Column]
    rows: list[Row]


def name_key(name: str) -> str:
    """Alphabetical order of a paper journal: case-insensitive, ё as е."""
    return name.lower().replace("ё", "е")


def column_key(day: date, lesson_no: int | None) -> str:
    return f"{day.isoformat()}/{NO_LESSON_NO if lesson_no is None else lesson_no}"


def previous_values(mark: Mark) -> list[int]:
    values: list[int] = []
    for version in mark.versions:
        if not values or values[-1] != version.value:
            values.append(version.value)
    return values[:-1] if values and values[-1] == mark.value else values


@dataclass
class _Access:
    writable: bool
    reason: str | None
    needs_reason: bool = False


class ClassJournalUseCases(MarkUseCases):
    def class_journal(
        self,
        actor: Actor,
        *,
        group_id: str,
        subject_id: str,
        period_id: str | None,
        as_of: datetime | None,
        names: Callable[[list[str]], dict[str, str]],
        year_id: str | None = None,
    ) -> ClassJournal:
        year = self.year_or_current(actor.org_id, year_id)
        may_read_group_reports(actor, year, group_id, subject_id)
        subject_name = self._subject_name(year, subject_id)
        periods = year.periods_of(subject_id)
        period = self._chosen_period(actor, year, periods, period_id)
        chosen = period.period_id if period else None
        starts_on, ends_on = (
            (period.starts_on, period.ends_on) if period else (year.starts_on, year.ends_on)
        )
        if as_of is not None and as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=self.zone_of(actor.org_id))

        # Who was in the group during the period (as the roster stood at `as_of`).
        roster: AcademicYear | None = year
        if as_of is not None:
            roster = self._as_of(ids.academic_year_id(year.org_id, year.year_id), as_of)
        stays: dict[str, list[Membership]] = {}
        if roster is not None:
            for (g, s), m in roster.memberships.items():
                if (
                    g == group_id
                    and m.starts_on <= ends_on
                    and (m.ends_on is None or m.ends_on >= starts_on)
                ):
                    stays.setdefault(s, []).append(m)

        page_uuid = ids.subject_page_id(year.org_id, year.year_id, group_id, subject_id)
        page = self._as_of(page_uuid, as_of) if as_of else self.read(page_uuid, SubjectPage)
        lessons = [
            lesson
            for lesson in (page.lessons.values() if page else [])
            if lesson.status == LESSON_ACTIVE and starts_on <= lesson.lesson_date <= ends_on
        ]
        lessons_on: dict[date, list[Lesson]] = {}
        for lesson in lessons:
            lessons_on.setdefault(lesson.lesson_date, []).append(lesson)

        def place(day: date, lesson_no: int | None) -> str:
            """The column of an entry: its lesson's; one without a number on a day with a
            single lesson goes to that lesson."""
            if lesson_no is None and len(lessons_on.get(day, [])) == 1:
                return column_key(day, lessons_on[day][0].lesson_no)
            return column_key(day, lesson_no)

        def inside(student_id: str, day: date) -> bool:
            return starts_on <= day <= ends_on and any(m.covers(day) for m in stays[student_id])

        journals: dict[str, StudentJournal | None] = {}
        for student_id in stays:
            uuid_ = ids.journal_id(year.org_id, year.year_id, student_id)
            journals[student_id] = self._as_of(uuid_, as_of) if as_of else self.read_journal(uuid_)

        # Entries per student and column; columns for entries without a lesson record.
        orphan: dict[str, tuple[date, int | None]] = {}
        kinds: dict[str, dict[str, int]] = {}
        marks_of: dict[str, dict[str, list[Mark]]] = {}
        absences_of: dict[str, dict[str, Absence]] = {}
        counted: dict[str, list[Mark]] = {}
        attestation: dict[str, str | None] = {}
        for student_id, journal in journals.items():
            cells_marks: dict[str, list[Mark]] = {}
            cells_absence: dict[str, Absence] = {}
            counted[student_id] = []
            attestation[student_id] = None
            if journal is None:
                marks_of[student_id], absences_of[student_id] = cells_marks, cells_absence
                continue
            for mark in sorted(journal.marks.values(), key=lambda m: m.recorded_at):
                if mark.subject_id != subject_id or not inside(student_id, mark.lesson_date):
                    continue
                key = place(mark.lesson_date, mark.lesson_no)
                if mark.status == ACTIVE:
                    counted[student_id].append(mark)
                    orphan.setdefault(key, (mark.lesson_date, mark.lesson_no))
                    by_kind = kinds.setdefault(key, {})
                    by_kind[mark.work_kind] = by_kind.get(mark.work_kind, 0) + 1
                cells_marks.setdefault(key, []).append(mark)
            notices: list[Absence] = []
            recorded: dict[date, set[tuple[str, int | None]]] = {}
            for absence in sorted(journal.absences.values(), key=lambda a: a.recorded_at):
                if absence.status != ACTIVE or not inside(student_id, absence.lesson_date):
                    continue
                if absence.subject_id is None:
                    notices.append(absence)
                    continue
                recorded.setdefault(absence.lesson_date, set()).add(
                    (absence.subject_id, absence.lesson_no)
                )
                if absence.subject_id != subject_id:
                    continue
                key = place(absence.lesson_date, absence.lesson_no)
                orphan.setdefault(key, (absence.lesson_date, absence.lesson_no))
                cells_absence[key] = absence  # the latest one recorded wins
            for notice in notices:  # a parent's notice: the day's lessons of the subject
                day = notice.lesson_date
                attended = {(s, n) for s, n in notice.present_at}
                day_lessons = [(subject_id, x.lesson_no) for x in lessons_on.get(day, [])]
                for _, number in notice_lessons(day_lessons, attended, recorded.get(day, set())):
                    cells_absence.setdefault(column_key(day, number), notice)
            for result in journal.attestations.values():
                if result.subject_id == subject_id and result.period_id == chosen:
                    attestation[student_id] = result.result
            marks_of[student_id], absences_of[student_id] = cells_marks, cells_absence

        columns = self._columns(lessons, orphan, kinds)

        # Whether cells may still be written, and why not.
        closed = None
        if year.closed_at is not None:
            try:
                year.ensure_open()
            except YearClosed as e:
                closed = e.detail
        page_reason: str | None
        if as_of is not None:
            local = as_of.astimezone(self.zone_of(actor.org_id))
            page_reason = f"Журнал на {local:%d.%m.%Y %H:%M}: только просмотр"
        elif closed is not None:
            page_reason = closed
        elif not self._may_write(actor, year, group_id, subject_id, lessons):
            page_reason = "Вносить записи в журнал этой группы по предмету вы не можете"
        else:
            page_reason = None
        access = self._access_of(actor, year, group_id, subject_id, page_reason)

        full_names = names(sorted(stays))
        rows: list[Row] = []
        for student_id in stays:
            cells: dict[str, Cell] = {}
            for column in columns:
                found = access(student_id, column.lesson_date, column.lesson_no, stays[student_id])
                cell_absence = absences_of[student_id].get(column.key)
                cells[column.key] = Cell(
                    marks=[
                        CellMark(
                            mark_id=m.mark_id,
                            value=m.value,
                            work_kind=m.work_kind,
                            corrected=any(v.value != m.versions[0].value for v in m.versions),
                            status=m.status,
                            previous_values=previous_values(m),
                        )
                        for m in marks_of[student_id].get(column.key, [])
                    ],
                    absence=CellAbsence(
                        cell_absence.absence_id,
                        cell_absence.code,
                        cell_absence.reason,
                        cell_absence.source,
                    )
                    if cell_absence is not None
                    else None,
                    writable=found.writable,
                    reason_read_only=found.reason,
                    needs_reason=found.needs_reason,
                )
            values = [m.value for m in counted[student_id]]
            average = mean(values)
            weighted = mean(values, [m.weight for m in counted[student_id]])
            rows.append(
                Row(
                    student_id=student_id,
                    full_name=full_names.get(student_id) or student_id,
                    cells=cells,
                    average=round_half(average, "0.01") if average is not None else None,
                    weighted_average=(
                        round_half(weighted, "0.01") if weighted is not None else None
                    ),
                    attestation=attestation[student_id],
                )
            )
        rows.sort(key=lambda r: (name_key(r.full_name), r.student_id))
        return ClassJournal(
            group_id=group_id,
            group_name=year.groups[group_id].name,
            subject_id=subject_id,
            subject_name=subject_name,
            year_id=year.year_id,
            periods=[(p.period_id, p.name) for p in periods.values()],
            period_id=chosen,
            as_of=as_of,
            read_only=page_reason is not None,
            read_only_reason=page_reason,
            columns=columns,
            rows=rows,
        )

    # --- pieces -------------------------------------------------------------------------

    def _subject_name(self, year: AcademicYear, subject_id: str) -> str:
        org = self.organisation(year.org_id)
        name = org.subjects.get(subject_id) if org else None
        if name is not None:
            return name
        if any(s == subject_id for _, _, s in year.assignments):
            return subject_id
        raise RecordNotFound("Предмет не найден", field="subject_id")

    def _chosen_period(
        self,
        actor: Actor,
        year: AcademicYear,
        periods: dict[str, Period],
        period_id: str | None,
    ) -> Period | None:
        """The named period; by default the one containing today (else the nearest)."""
        if period_id is not None:
            if period_id not in periods:
                raise RecordNotFound(f"Нет периода «{period_id}» у предмета", field="period_id")
            return periods[period_id]
        if not periods:
            return None
        today = self.today(actor.org_id)
        ordered = sorted(periods.values(), key=lambda p: p.starts_on)
        for period in ordered:
            if today <= period.ends_on:
                return period
        return ordered[-1]

    @staticmethod
    def _columns(
        lessons: list[Lesson],
        entries: dict[str, tuple[date, int | None]],
        kinds: dict[str, dict[str, int]],
    ) -> list[Column]:
        def kind_of(key: str, lesson: Lesson | None) -> str | None:
            own = getattr(lesson, "work_kind", None)
            if isinstance(own, str):
                return own
            counts = kinds.get(key)
            if not counts:
                return None
            return max(sorted(counts), key=lambda k: counts[k])

        columns: dict[str, Column] = {}
        for lesson in lessons:
            key = column_key(lesson.lesson_date, lesson.lesson_no)
            columns[key] = Column(
                key=key,
                lesson_date=lesson.lesson_date,
                lesson_no=lesson.lesson_no,
                lesson_id=lesson.lesson_id,
                topic=lesson.topic,
                homework=lesson.homework,
                work_kind=kind_of(key, lesson),
            )
        for key, (day, number) in entries.items():
            if key not in columns:
                columns[key] = Column(key, day, number, None, None, None, kind_of(key, None))
        return sorted(
            columns.values(),
            key=lambda c: (c.lesson_date, -1 if c.lesson_no is None else c.lesson_no),
        )

    @staticmethod
    def _may_write(
        actor: Actor, year: AcademicYear, group_id: str, subject_id: str, lessons: list[Lesson]
    ) -> bool:
        if actor.has(Role.DEPUTY):
            return True
        if not actor.has(Role.TEACHER):
            return False
        return year.is_assigned(actor.id, group_id, subject_id) or any(
            lesson.substitute_id == actor.id for lesson in lessons
        )

    def _access_of(
        self,
        actor: Actor,
        year: AcademicYear,
        group_id: str,
        subject_id: str,
        page_reason: str | None,
    ) -> Callable[[str, date, int | None, list[Membership]], _Access]:
        """Whether a cell may be written: the write rules asked once per (the student's
        groups that day, date, lesson number), as nothing else of the student counts."""
        group_name = year.groups[group_id].name
        by_student: dict[str, list[tuple[str, Membership]]] = {}
        for (g, s), m in year.memberships.items():
            by_student.setdefault(s, []).append((g, m))
        known: dict[tuple[tuple[str, ...], date, int | None], _Access] = {}
        refused = _Access(False, page_reason)

        def access(
            student_id: str, day: date, lesson_no: int | None, stays: list[Membership]
        ) -> _Access:
            if page_reason is not None:
                return refused
            if not any(m.covers(day) for m in stays):
                return _Access(
                    False, f"Обучающийся не состоит в группе «{group_name}» на {day:%d.%m.%Y}"
                )
            groups = tuple(sorted(g for g, m in by_student.get(student_id, []) if m.covers(day)))
            key = (groups, day, lesson_no)
            found = known.get(key)
            if found is None:
                try:
                    self.authorise_entry(
                        actor,
                        year,
                        student_id,
                        subject_id,
                        day,
                        is_mark=True,
                        lesson_no=lesson_no,
                        reason=None,
                    )
                    found = _Access(True, None)
                except RuleViolation as e:
                    if type(e) is RuleViolation and e.field == "reason":
                        found = _Access(True, None, needs_reason=True)
                    else:
                        found = _Access(False, e.detail)
                known[key] = found
            return found

        return access

    def _as_of(self, aggregate_id: UUID, as_of: datetime) -> Any:
        """An aggregate as it stood at `as_of` (record time), None if it did not exist."""
        aggregate: Any = None
        events: Any = self.events.get(aggregate_id)
        for event in events:
            if event.timestamp > as_of:
                break
            aggregate = event.mutate(aggregate)
        return aggregate
