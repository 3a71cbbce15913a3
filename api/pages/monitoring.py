"""Monitoring of journal keeping (UI.md /monitoring, R-MON-2, R-ABS-5): per group and period,
the figures of `GET /api/v1/monitoring` (the same use case) as numbers and server-drawn
horizontal bars in an inline SVG, and the unexplained absences for operative reaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import Svc
from api.pages.common import PageViewer, Viewer, render, render_error
from domain.errors import RuleViolation
from domain.reference import AcademicYear, Period

router = APIRouter(include_in_schema=False)

UNEXPLAINED_DAYS = 3  # «Н» open longer than this goes to the list (the API's default)

# The chart's geometry (SVG user units; the SVG scales to its box).
LABEL_W = 350
BAR_W = 360
VALUE_W = 190
ROW_H = 34
BAR_H = 18
CHART_W = LABEL_W + BAR_W + VALUE_W
TOP = 8


@dataclass(frozen=True)
class Bar:
    """One figure: its name, the share drawn (0..1, None: nothing to count) and its text."""

    label: str
    share: Decimal | None
    value: str
    y: int = 0
    tone: str = "neutral"  # neutral | good | bad: only the bar's colour

    @property
    def width(self) -> int:
        if self.share is None:
            return 0
        return max(0, min(BAR_W, round(float(self.share) * BAR_W)))

    @property
    def spoken(self) -> str:
        return f"{self.label}: {self.value}"


@dataclass
class GroupView:
    group_id: str
    name: str
    bars: list[Bar] = field(default_factory=list)
    not_working: list[str] = field(default_factory=list)
    unexplained: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    complete: bool = True

    @property
    def height(self) -> int:
        return TOP * 2 + ROW_H * len(self.bars)

    @property
    def summary(self) -> str:
        return "; ".join(b.spoken for b in self.bars)


def percent(share: Decimal | None) -> str:
    if share is None:
        return "нет данных"
    value = (share * 100).quantize(Decimal("0.1"))
    text = f"{value:f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{text} %"


def _of(share: Decimal | None, part: int, whole: int) -> str:
    return f"{percent(share)} ({part} из {whole})"


def bars_of(figures: dict[str, Any]) -> list[Bar]:
    """The R-MON-2 figures as bars, in the order a deputy reads them."""
    f = figures
    debts = int(f["open_academic_debts"])
    students = int(f["students"])
    scale = max(students, debts)
    debt_share = Decimal(debts) / scale if scale else None
    found = [
        Bar(
            "Преподаватели, которые вели журнал",
            f["teachers_working_share"],
            _of(f["teachers_working_share"], f["teachers_working"], f["teachers_assigned"]),
            tone="good",
        ),
        Bar(
            "Обучающиеся без отметок",
            f["students_without_marks_share"],
            _of(f["students_without_marks_share"], f["students_without_marks"], students),
            tone="bad",
        ),
        Bar(
            "Обучающиеся с одной отметкой",
            f["students_with_one_mark_share"],
            _of(f["students_with_one_mark_share"], f["students_with_one_mark"], students),
            tone="bad",
        ),
        Bar(
            "Уроки с темой",
            f["lessons_with_topic_share"],
            f"{percent(f['lessons_with_topic_share'])} (уроков {f['lessons']})",
            tone="good",
        ),
        Bar(
            "Уроки с домашним заданием",
            f["lessons_with_homework_share"],
            f"{percent(f['lessons_with_homework_share'])} (уроков {f['lessons']})",
            tone="good",
        ),
        Bar(
            "Открытые задолженности",
            debt_share,
            f"{debts} (обучающихся {students})",
            tone="bad",
        ),
        Bar(
            "Родители, ознакомившиеся с дневником",
            f["parents_acknowledged_share"],
            _of(f["parents_acknowledged_share"], f["parents_acknowledged"], f["parents"]),
            tone="good",
        ),
    ]
    return [
        Bar(b.label, b.share, b.value, y=TOP + i * ROW_H, tone=b.tone) for i, b in enumerate(found)
    ]


def current_period(year: AcademicYear, today: date) -> Period | None:
    """The period containing today; else the latest begun; else the first."""
    periods = sorted(year.periods.values(), key=lambda p: p.starts_on)
    if not periods:
        return None
    for p in periods:
        if p.starts_on <= today <= p.ends_on:
            return p
    begun = [p for p in periods if p.starts_on <= today]
    return begun[-1] if begun else periods[0]


def visible_groups(who: Viewer, year: AcademicYear) -> list[str]:
    """Every group for the administration; the curator's own groups for a curator."""
    if who.actor.is_administration():
        ids = list(year.groups)
    else:
        ids = [g for g, info in year.groups.items() if info.curator_id == who.actor.id]
    return sorted(ids, key=lambda g: (year.groups[g].name, g))


def _denied(request: Request, who: Viewer, message: str, status: int = 403) -> Response:
    return render_error(request, who, status, "Мониторинг недоступен", message)


@router.get("/monitoring")
def monitoring(
    request: Request,
    services: Svc,
    who: PageViewer,
    period_id: Annotated[str | None, Query(max_length=100)] = None,
    group_id: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    actor = who.actor
    app = services.journal
    if not (actor.is_administration() or who.curator):
        return _denied(
            request,
            who,
            "Мониторинг доступен заместителю директора, директору, администратору "
            "и куратору группы",
        )
    try:
        year = app.current_year(actor.org_id)
    except RuleViolation as e:
        return _denied(request, who, e.detail, status=404)
    groups = visible_groups(who, year)
    if not groups:
        return _denied(request, who, "Нет групп, которые вы курируете в этом учебном году")
    today = app.today(actor.org_id)
    periods = sorted(year.periods.values(), key=lambda p: p.starts_on)
    period = year.periods.get(period_id) if period_id else current_period(year, today)
    if period is None:
        message = (
            f"Нет периода «{period_id}» в учебном году {year.year_id}"
            if period_id
            else f"В учебном году {year.year_id} нет периодов"
        )
        return _denied(request, who, message, status=404)
    chosen = [g for g in groups if g == group_id] if group_id else groups
    if group_id and not chosen:
        return _denied(request, who, "Группа не найдена или недоступна", status=404)

    views = [_group_view(services, who, year, g, period, today) for g in chosen]
    return render(
        request,
        "monitoring.html",
        who,
        year=year,
        period=period,
        periods=periods,
        groups=[(g, year.groups[g].name) for g in groups],
        group_id=group_id if chosen and group_id else "",
        views=views,
        unexplained_days=UNEXPLAINED_DAYS,
        chart_w=CHART_W,
        label_w=LABEL_W,
        bar_w=BAR_W,
        bar_h=BAR_H,
        row_h=ROW_H,
    )


def _group_view(
    services: Svc, who: Viewer, year: AcademicYear, group_id: str, period: Period, today: date
) -> GroupView:
    actor = who.actor
    app = services.journal
    view = GroupView(group_id, year.groups[group_id].name)
    try:
        report = app.monitoring(
            actor, group_id=group_id, from_date=period.starts_on, to_date=period.ends_on
        )
        attendance = app.attendance(
            actor,
            group_id=group_id,
            from_date=period.starts_on,
            to_date=period.ends_on,
            unexplained_days=UNEXPLAINED_DAYS,
            year_id=year.year_id,
        )
    except RuleViolation as e:
        view.error = e.detail
        return view
    figures: dict[str, Any] = report.body
    view.complete = report.complete and attendance.complete
    view.bars = bars_of(figures)
    unexplained = list(attendance.body.unexplained)
    people = {*figures["teachers_not_working"], *(u["student_id"] for u in unexplained)}
    names = services.personal.names(actor.org_id, sorted(people)) if people else {}
    view.not_working = sorted(names.get(t, t) for t in figures["teachers_not_working"])
    org = app.organisation(actor.org_id)
    subjects = org.subjects if org else {}
    view.unexplained = sorted(
        (
            {
                **u,
                "full_name": names.get(u["student_id"], u["student_id"]),
                "subject": subjects.get(u["subject_id"], u["subject_id"])
                if u["subject_id"]
                else "весь день",
                "day": date.fromisoformat(u["lesson_date"]),
            }
            for u in unexplained
        ),
        key=lambda u: (-int(u["days_open"]), u["full_name"]),
    )
    return view
