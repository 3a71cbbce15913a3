"""Issue 11.9: before the last day of the year's last period, closing needs a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from adapters.clock import FixedClock
from api.bootstrap import Services
from domain.ids import academic_year_id
from domain.reference import AcademicYear
from tests.api.helpers import ADMIN, DEPUTY, assert_problem
from tests.conftest import Api

YEAR = "2026-2027"
CLOSE = f"/api/v1/years/{YEAR}/close"
# The example year's last period ends on 2027-06-30; Perm is UTC+5.
LAST_DAY_STARTS = datetime(2027, 6, 29, 19, 0, tzinfo=UTC)  # 2027-06-30 00:00 in Perm


def audit_of_close(api: Api) -> list[dict[str, object]]:
    r = api.client.get(
        "/api/v1/audit", headers=api.as_user(DEPUTY), params={"action": "year.closed"}
    )
    assert r.status_code == 200, r.text
    items: list[dict[str, object]] = r.json()["items"]
    return items


def test_an_early_close_without_a_reason_is_refused_and_records_nothing(
    api: Api, imported: Services
) -> None:
    dep = api.as_user(DEPUTY)
    before = len(list(imported.journal.events.get(academic_year_id("sght", YEAR))))
    for body in (None, {}, {"reason": None}, {"reason": "   "}):
        r = api.client.post(CLOSE, headers=dep, json=body)
        problem = assert_problem(r, 422, "year-not-over")
        assert "2027-06-30" in problem["detail"]
    assert len(list(imported.journal.events.get(academic_year_id("sght", YEAR)))) == before
    # The year is still open: writes go on.
    r = api.client.get("/api/v1/archives/2026-2027", headers=dep)
    assert_problem(r, 409, "year-open")


def test_an_early_close_with_a_reason_keeps_it_in_the_audit_and_the_manifest(api: Api) -> None:
    r = api.client.post(
        CLOSE, headers=api.as_user(DEPUTY), json={"reason": "  Реорганизация техникума  "}
    )
    assert r.status_code == 200, r.text
    manifest = r.json()["manifest"]
    assert manifest["close_reason"] == "Реорганизация техникума"
    stored = api.client.get(f"/api/v1/archives/{YEAR}", headers=api.as_user(DEPUTY))
    assert stored.json()["manifest"]["close_reason"] == "Реорганизация техникума"
    rows = audit_of_close(api)
    assert len(rows) == 1
    assert rows[0]["reason"] == "Реорганизация техникума"
    assert rows[0]["actor_id"] == "dep1"


def test_an_admin_also_needs_a_reason_early(api: Api) -> None:
    admin = api.as_user(ADMIN)
    assert_problem(api.client.post(CLOSE, headers=admin), 422, "year-not-over")
    r = api.client.post(CLOSE, headers=admin, json={"reason": "Ликвидация"})
    assert r.status_code == 200, r.text


def test_from_the_last_day_on_no_body_is_needed(api: Api, clock: FixedClock) -> None:
    # One minute before the organisation's last day: still early (the school's day, not UTC's).
    clock.set(LAST_DAY_STARTS - timedelta(minutes=1))
    assert_problem(api.client.post(CLOSE, headers=api.as_user(DEPUTY)), 422, "year-not-over")
    clock.set(LAST_DAY_STARTS)
    r = api.client.post(CLOSE, headers=api.as_user(DEPUTY))
    assert r.status_code == 200, r.text
    assert "close_reason" not in r.json()["manifest"]
    rows = audit_of_close(api)
    assert len(rows) == 1 and rows[0]["reason"] is None


def test_a_closed_year_answers_year_closed_with_or_without_a_reason(api: Api) -> None:
    dep = api.as_user(DEPUTY)
    assert api.client.post(CLOSE, headers=dep, json={"reason": "тест"}).status_code == 200
    assert_problem(api.client.post(CLOSE, headers=dep), 409, "year-closed")
    assert_problem(api.client.post(CLOSE, headers=dep, json={"reason": "ещё"}), 409, "year-closed")


def test_a_close_stored_before_the_reason_existed_still_loads(
    imported: Services, clock: FixedClock
) -> None:
    app = imported.journal
    year_id = academic_year_id("sght", YEAR)
    head = list(app.events.get(year_id))[-1].originator_version
    # The version-1 shape: no `reason`, no `class_version` key, as first stored.
    v1_state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": clock.now().isoformat()},
        "actor_id": "dep1",
        "actor_role": "deputy",
    }
    app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=year_id,
                originator_version=head + 1,
                topic=get_topic(AcademicYear.Closed),
                state=json.dumps(v1_state).encode(),
            )
        ]
    )
    assert AcademicYear.Closed.class_version == 2
    closed = list(app.events.get(year_id))[-1]
    assert isinstance(closed, AcademicYear.Closed) and closed.reason is None
    year: AcademicYear = app.repository.get(year_id)
    assert year.closed_at == clock.now() and year.closed_by == "dep1"
    assert year.closed_reason is None
