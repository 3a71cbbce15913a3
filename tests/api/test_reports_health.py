"""GET /health/projections and the read models' freshness in report answers
(`position`, `complete`, `min_position`; README "Reports and read models")."""

from __future__ import annotations

from typing import Any

from api.bootstrap import Services
from tests.api.helpers import DEPUTY, TEACHER_MATH, assert_problem, record_mark
from tests.conftest import Api

GRADEBOOK = {"group_id": "g1", "subject_id": "math", "period_id": "S1"}
ATTENDANCE = {"group_id": "g1", "from_date": "2026-09-01", "to_date": "2026-09-30"}


def projections(api: Api) -> dict[str, dict[str, Any]]:
    r = api.client.get("/health/projections")  # no Authorization header
    assert r.status_code == 200, r.text
    return {p["name"]: p for p in r.json()["projections"]}


def test_health_projections_lists_positions_head_and_lag(api: Api) -> None:
    found = projections(api)
    assert {"journal_facts", "record_locator"} <= set(found)
    for name, p in found.items():
        for key in ("position", "head", "lag"):
            assert type(p[key]) is int and p[key] >= 0, (name, p)
        assert p["lag"] == max(0, p["head"] - p["position"]), (name, p)

    h = api.as_user(TEACHER_MATH)
    mark = record_mark(api, h)
    r = api.client.get(
        "/api/v1/gradebook", headers=h, params={**GRADEBOOK, "min_position": mark["position"]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["complete"] is True
    assert r.json()["position"] >= mark["position"]

    facts = projections(api)["journal_facts"]
    assert facts["head"] >= mark["position"]
    assert facts["position"] >= mark["position"]
    assert facts["lag"] == 0


def test_reports_say_complete_once_min_position_is_reached(api: Api) -> None:
    h = api.as_user(DEPUTY)
    position = record_mark(api, api.as_user(TEACHER_MATH))["position"]
    year = "/api/v1/years/2026-2027/summary-sheet"
    reads = [
        ("/api/v1/gradebook", GRADEBOOK),
        ("/api/v1/attendance", ATTENDANCE),
        (year, {"group_id": "g1"}),
        ("/api/v1/monitoring", ATTENDANCE),
    ]
    for url, params in reads:
        r = api.client.get(url, headers=h, params={**params, "min_position": position})
        assert r.status_code == 200, (url, r.text)
        body = r.json()
        assert body["complete"] is True, (url, body)
        assert body["position"] >= position, (url, body)
    [s01] = [
        row
        for row in api.client.get(
            "/api/v1/gradebook", headers=h, params={**GRADEBOOK, "min_position": position}
        ).json()["rows"]
        if row["student_id"] == "s01"
    ]
    assert [m["value"] for m in s01["marks"]] == [5]


def test_a_position_not_reached_in_time_answers_incomplete(api: Api, imported: Services) -> None:
    imported.journal.read_wait_seconds = 0.2  # instead of 2 s: this position never comes
    h = api.as_user(DEPUTY)
    position = record_mark(api, api.as_user(TEACHER_MATH))["position"]
    r = api.client.get(
        "/api/v1/gradebook", headers=h, params={**GRADEBOOK, "min_position": position + 1000}
    )
    assert r.status_code == 200, r.text
    assert r.json()["complete"] is False
    assert position <= r.json()["position"] < position + 1000

    r = api.client.get("/api/v1/gradebook", headers=h, params={**GRADEBOOK, "min_position": -1})
    assert_problem(r, 422, "validation-error")
