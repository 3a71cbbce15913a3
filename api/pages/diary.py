"""The diary for students, parents and trusted persons (UI.md /diary): the week and the period
at a glance — marks per subject, homework, absences, attestation results and debts; a parent's
acknowledgement (R-MON-3) and notice of a planned absence (R-ABS-3). Writes go from the page's
script to the JSON API (same use cases, CSRF header, Idempotency-Key); this module only
renders, reading through the same use cases as GET /api/v1/students/{id}/journal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import Svc
from api.pages.common import PageViewer, Viewer, render, render_error
from api.pages.journal import WORK_KIND_NAMES
from domain import ids
from domain.actors import Role
from domain.errors import RecordNotFound, RuleViolation
from domain.journal import Absence, Attestation, Mark
from domain.reference import AcademicYear, Period, in_roster_order

router = APIRouter(include_in_schema=False)

CANCELLED = "cancelled"
WITHDRAWN = "withdrawn"
ABSENCE_NAMES = {
    "Н": "отсутствие",
    "НУ": "по уважительной причине",
    "НН": "по неуважительной причине",
    "Б": "по болезни",
}
DAY_NAMES = ("Понедельник", "Вторник", "Среда", "Четверг", "Пятница", "Суббота", "Воскресенье")
NOT_FOUND = "Дневник не найден"


@dataclass
class MarkItem:
    value: int
    day: date
    kind: str  # the kind of work, in Russian
    subject: str
    corrected: bool
    cancelled: bool
    old: int | None  # the value before the latest correction
    comment: str | None


@dataclass
class SubjectRow:
    subject_id: str
    name: str
    marks: list[MarkItem] = field(default_factory=list)
    average: str | None = None
    attestation: str | None = None
    debt: str | None = None  # "open" | "cleared"


@dataclass
class AbsenceItem:
    day: date
    lesson_no: int | None
    subject: str  # «весь день» for a parent's notice
    code: str
    code_name: str
    reason: str | None
    notice: bool


@dataclass
class LessonItem:
    lesson_no: int
    subject: str
    topic: str | None
    homework: str | None


@dataclass
class Day:
    day: date
    name: str
    lessons: list[LessonItem] = field(default_factory=list)
    marks: list[MarkItem] = field(default_factory=list)
    absences: list[AbsenceItem] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.lessons or self.marks or self.absences)


def _mark_item(mark: Mark, subjects: dict[str, str]) -> MarkItem:
    old = mark.versions[-2].value if len(mark.versions) > 1 else None
    return MarkItem(
        value=mark.value,
        day=mark.lesson_date,
        kind=WORK_KIND_NAMES.get(mark.work_kind, mark.work_kind),
        subject=subjects.get(mark.subject_id, mark.subject_id),
        corrected=mark.corrected and mark.status != CANCELLED,
        cancelled=mark.status == CANCELLED,
        old=old if old != mark.value else None,
        comment=mark.comment,
    )


def _absence_item(absence: Absence, subjects: dict[str, str]) -> AbsenceItem:
    notice = absence.subject_id is None
    return AbsenceItem(
        day=absence.lesson_date,
        lesson_no=absence.lesson_no,
        subject="весь день" if notice else subjects.get(absence.subject_id or "", "—"),
        code=absence.code,
        code_name=ABSENCE_NAMES.get(absence.code, absence.code),
        reason=absence.reason,
        notice=notice,
    )


def _average(marks: list[Mark], year: AcademicYear) -> str | None:
    total = Decimal(0)
    weights = 0
    for m in marks:
        if m.status == CANCELLED:
            continue
        w = m.weight or year.rules.weight_of(m.work_kind)
        total += Decimal(m.value) * w
        weights += w
    if not weights:
        return None
    mean = (total / weights).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return str(mean).replace(".", ",")


def _period_of(year: AcademicYear, period_id: str | None, today: date) -> Period | None:
    periods = sorted(year.periods.values(), key=lambda p: p.starts_on)
    if period_id and period_id in year.periods:
        return year.periods[period_id]
    for p in periods:
        if p.starts_on <= today <= p.ends_on:
            return p
    past = [p for p in periods if p.starts_on <= today]
    return past[-1] if past else (periods[0] if periods else None)


def _parse_week(value: str | None, today: date) -> date:
    day = today
    if value:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = today
    return day - timedelta(days=day.weekday())


def _not_found(request: Request, who: Viewer) -> Response:
    return render_error(request, who, 404, "Дневник", NOT_FOUND, back=("/diary", "К дневнику"))


@router.get("/diary")
def diary(
    request: Request,
    services: Svc,
    who: PageViewer,
    student_id: Annotated[str | None, Query(max_length=100)] = None,
    period_id: Annotated[str | None, Query(max_length=100)] = None,
    week: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    actor = who.actor
    app = services.journal
    if actor.has(Role.STUDENT):
        students = [actor.id]
    elif actor.is_family():
        students = app.children(actor)
    else:
        students = []
    if student_id and student_id not in students:
        return _not_found(request, who)
    if not students:
        return render_error(
            request,
            who,
            404 if actor.is_family() else 403,
            "Дневник",
            "Дневник открывают обучающийся, его родители и доверенные лица"
            if not actor.is_family()
            else "Нет обучающихся, чей дневник вы можете открыть",
            back=("/diary", "К дневнику"),
        )
    chosen = student_id or students[0]
    try:
        view = app.journal(actor, chosen, None, None)
        year = app.year(actor.org_id, view.year_id)
    except RecordNotFound:
        return _not_found(request, who)
    except RuleViolation as e:
        return render_error(request, who, 403, "Дневник", e.detail, back=("/diary", "К дневнику"))

    org = app.organisation(actor.org_id)
    subjects: dict[str, str] = dict(org.subjects) if org is not None else {}
    names = services.personal.names(actor.org_id, students)
    zone = app.zone_of(actor.org_id)
    today = app.today(actor.org_id)
    period = _period_of(year, period_id, today)
    monday = _parse_week(week, today)
    week_days = [monday + timedelta(days=i) for i in range(6)]
    sunday = monday + timedelta(days=6)

    def in_period(day: date) -> bool:
        return period is None or period.starts_on <= day <= period.ends_on

    # Marks per subject in the period (the subjects the student learns, even without marks).
    groups = sorted({g for (g, s) in year.memberships if s == chosen})
    taught = {s for (_, g, s) in year.assignments if g in groups}
    by_subject: dict[str, list[Mark]] = {}
    for m in view.marks:
        by_subject.setdefault(m.subject_id, []).append(m)
    rows: list[SubjectRow] = []
    # Subjects as the roster lists them (issue 14), in the table and in the attestations.
    order = in_roster_order(
        taught | set(by_subject) | {t.subject_id for t in view.attestations},
        org.subject_order if org is not None else [],
    )
    rank = {s: i for i, s in enumerate(order)}
    for sid in (s for s in order if s in taught or s in by_subject):
        marks = sorted(
            (m for m in by_subject.get(sid, []) if in_period(m.lesson_date)),
            key=lambda m: (m.lesson_date, m.lesson_no or 0, m.recorded_at),
        )
        row = SubjectRow(sid, subjects.get(sid, sid), [_mark_item(m, subjects) for m in marks])
        row.average = _average(marks, year)
        if period is not None:
            found: Attestation | None = next(
                (
                    t
                    for t in view.attestations
                    if t.subject_id == sid and t.period_id == period.period_id
                ),
                None,
            )
            if found is not None:
                row.attestation, row.debt = found.result, found.debt
        rows.append(row)

    attestations = sorted(view.attestations, key=lambda t: (rank[t.subject_id], t.period_id))
    period_names = {p.period_id: p.name for p in year.periods.values()}
    for sub in year.subject_periods.values():
        period_names.update({p.period_id: p.name for p in sub.values()})
    debts = [t for t in attestations if t.debt]

    live_absences = [a for a in view.absences if a.status != WITHDRAWN]
    absences = sorted(
        (_absence_item(a, subjects) for a in live_absences if in_period(a.lesson_date)),
        key=lambda a: (a.day, a.lesson_no or 0),
        reverse=True,
    )
    upcoming = sorted(
        (
            _absence_item(a, subjects)
            for a in live_absences
            if a.lesson_date > today and a.subject_id is None and not in_period(a.lesson_date)
        ),
        key=lambda a: a.day,
    )

    # The week: lessons with homework, marks and absences, day by day.
    days = [Day(d, DAY_NAMES[d.weekday()]) for d in week_days]
    index = {d.day: d for d in days}
    for gid in groups:
        for sid in sorted({s for (_, g, s) in year.assignments if g == gid}):
            try:
                lessons = app.lessons(
                    actor,
                    group_id=gid,
                    subject_id=sid,
                    from_date=monday,
                    to_date=sunday,
                    year_id=year.year_id,
                )
            except RuleViolation:
                continue
            for les in lessons:
                if les.status == CANCELLED or les.lesson_date not in index:
                    continue
                index[les.lesson_date].lessons.append(
                    LessonItem(les.lesson_no, subjects.get(sid, sid), les.topic, les.homework)
                )
    for m in view.marks:
        if m.lesson_date in index:
            index[m.lesson_date].marks.append(_mark_item(m, subjects))
    for a in live_absences:
        if a.lesson_date in index:
            index[a.lesson_date].absences.append(_absence_item(a, subjects))
    for d in days:
        d.lessons.sort(key=lambda les: les.lesson_no)

    # The latest acknowledgement of the diary (R-MON-3), by any parent.
    journal = app.read_journal(ids.journal_id(actor.org_id, year.year_id, chosen))
    last_ack: str | None = None
    last_ack_at: str | None = None
    if journal is not None and journal.acknowledgements:
        parent_id, at = journal.acknowledgements[-1]
        by = services.personal.names(actor.org_id, [parent_id]).get(parent_id, "")
        last_ack_at = f"{at.astimezone(zone):%d.%m.%Y %H:%M}"
        last_ack = last_ack_at + (f" ({by})" if by else "")

    is_parent = actor.has(Role.PARENT) and not actor.has(Role.STUDENT)
    return render(
        request,
        "diary.html",
        who,
        students=[(s, names.get(s, s)) for s in students],
        chosen=chosen,
        student_name=names.get(chosen, chosen),
        periods=sorted(year.periods.values(), key=lambda p: p.starts_on),
        period=period,
        rows=rows,
        attestations=attestations,
        period_names=period_names,
        subjects=subjects,
        debts=debts,
        absences=absences,
        upcoming=upcoming,
        days=days,
        monday=monday,
        saturday=monday + timedelta(days=5),
        prev_week=(monday - timedelta(days=7)).isoformat(),
        next_week=(monday + timedelta(days=7)).isoformat(),
        this_week=today - timedelta(days=today.weekday()) == monday,
        today=today,
        tomorrow=(today + timedelta(days=1)).isoformat(),
        last_ack=last_ack,
        last_ack_at=last_ack_at,
        may_acknowledge=is_parent and not year.closed_at,
        may_notify=is_parent and not year.closed_at,
    )
