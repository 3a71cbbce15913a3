"""The school for deputies, directors and administrators (UI.md /school): every group of the
current year with its subject journals, attendance and summary sheet, and the authorised late
changes of the last two weeks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import Svc
from api.pages.audit import AuditRow, rows_of
from api.pages.common import PageViewer, render, render_error
from domain.errors import RuleViolation
from domain.reference import in_roster_order

router = APIRouter(include_in_schema=False)

LATE_DAYS = 14
# Audit actions whose `after` carries the `late` flag (projections/audit.py `_change`).
LATE_ACTIONS = ("mark.recorded", "mark.corrected", "mark.cancelled")
LATE_LIMIT = 500


@dataclass
class GroupView:
    group_id: str
    name: str
    curator: str | None
    students: int
    journals: list[tuple[str, str]] = field(default_factory=list)  # (address, title)
    attendance_url: str = ""
    summary_url: str = ""


def _forbidden(request: Request, who: Any) -> Response:
    return render_error(
        request,
        who,
        403,
        "Школа",
        "Страницу школы видят заместитель директора, директор и администратор",
    )


@router.get("/school")
def school(request: Request, services: Svc, who: PageViewer) -> Response:
    actor = who.actor
    if not actor.is_administration():
        return _forbidden(request, who)
    app = services.journal
    try:
        year = app.current_year(actor.org_id)
    except RuleViolation:
        year = None
    names = services.personal.names(actor.org_id)
    groups: list[GroupView] = []
    if year is not None:
        org = app.organisation(actor.org_id)
        subjects = org.subjects if org is not None else {}
        order = org.subject_order if org is not None else []
        today = app.today(actor.org_id)
        to_date = min(max(today, year.starts_on), year.ends_on)
        members: dict[str, int] = {}
        for g, _s in year.memberships:
            members[g] = members.get(g, 0) + 1
        for group_id, info in year.groups.items():
            view = GroupView(
                group_id=group_id,
                name=info.name,
                curator=names.get(info.curator_id) if info.curator_id else None,
                students=members.get(group_id, 0),
            )
            taught = {s for _t, g, s in year.assignments if g == group_id}
            view.journals = [
                (f"/journal/{group_id}/{s}", f"{info.name} — {subjects.get(s, s)}")
                for s in in_roster_order(taught, order)
            ]
            view.attendance_url = "/api/v1/attendance?" + urlencode(
                {
                    "group_id": group_id,
                    "from_date": year.starts_on.isoformat(),
                    "to_date": to_date.isoformat(),
                    "format": "xlsx",
                }
            )
            view.summary_url = f"/api/v1/years/{year.year_id}/summary-sheet?" + urlencode(
                {"group_id": group_id, "format": "xlsx"}
            )
            groups.append(view)
        groups.sort(key=lambda g: g.name.lower().replace("ё", "е"))

    late, late_error = _late_changes(services, who)
    return render(
        request,
        "school.html",
        who,
        year=year,
        groups=groups,
        late=late,
        late_error=late_error,
        late_days=LATE_DAYS,
    )


def _late_changes(services: Svc, who: Any) -> tuple[list[AuditRow], str | None]:
    """Authorised late changes (R-MARK-4) of the last LATE_DAYS days, newest first, from the
    same use case as GET /api/v1/audit."""
    actor = who.actor
    app = services.journal
    since = app.clock.now() - timedelta(days=LATE_DAYS)
    found: list[dict[str, Any]] = []
    try:
        for action in LATE_ACTIONS:
            items, _next = app.audit(actor, action=action, since=since, limit=LATE_LIMIT)
            found += [i for i in items if isinstance(i["after"], dict) and i["after"].get("late")]
    except RuleViolation as e:
        return [], e.detail
    found.sort(key=lambda i: i["position"], reverse=True)
    return rows_of(services, actor.org_id, found), None
