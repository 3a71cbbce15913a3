"""The audit trail: who changed what and when, newest first, filtered, paged; readers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from adapters.clock import FixedClock
from tests.api.helpers import (
    ADMIN,
    DEPUTY,
    DIRECTOR,
    PARENT_OF_S01,
    STUDENT_S01,
    TEACHER_CHEM_CURATOR,
    TEACHER_MATH,
    example_roster,
    mark_body,
)
from tests.conftest import Api


def audit(api: Api, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    r = api.client.get("/api/v1/audit", headers=headers, params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_changes_are_listed_newest_first_with_before_after_reason(
    api: Api, clock: FixedClock
) -> None:
    t1, dep = api.as_user(TEACHER_MATH), api.as_user(DEPUTY)
    mark = api.client.post("/api/v1/marks", headers=t1, json=mark_body(value=4)).json()
    clock.advance(minutes=5)
    api.client.post(
        f"/api/v1/marks/{mark['mark_id']}/corrections",
        headers=t1,
        json={"value": 5, "reason": "пересчёт"},
    )
    clock.advance(minutes=5)
    last = api.client.post(
        f"/api/v1/marks/{mark['mark_id']}/cancellation",
        headers=t1,
        json={"reason": "не тот студент"},
    ).json()
    items = audit(api, dep, student_id="s01", min_position=last["position"])["items"]
    mine = [i for i in items if i["record_id"] == mark["mark_id"]]
    assert [(i["action"], i["before"], i["reason"]) for i in mine] == [
        ("mark.cancelled", {"status": "active"}, "не тот студент"),
        ("mark.corrected", {"value": 4}, "пересчёт"),
        ("mark.recorded", None, None),
    ]
    assert mine[1]["after"]["value"] == 5 and mine[2]["after"]["value"] == 4
    assert all(i["actor_id"] == "t1" and i["actor_role"] == "teacher" for i in mine)
    assert all(i["subject_id"] == "math" for i in mine)  # changes carry the record's subject
    assert mine[0]["occurred_at"] > mine[1]["occurred_at"] > mine[2]["occurred_at"]


def test_filters_and_cursor_pagination(api: Api, clock: FixedClock) -> None:
    t1, t2, dep = (api.as_user(u) for u in (TEACHER_MATH, TEACHER_CHEM_CURATOR, DEPUTY))
    start = clock.now()
    for student in ("s01", "s02", "s03"):
        clock.advance(minutes=1)
        api.client.post("/api/v1/marks", headers=t1, json=mark_body(student_id=student))
    clock.advance(minutes=1)
    last = api.client.post("/api/v1/marks", headers=t2, json=mark_body(subject_id="chem")).json()
    at = last["position"]
    assert {i["student_id"] for i in audit(api, dep, actor_id="t1", min_position=at)["items"]} == {
        "s01",
        "s02",
        "s03",
    }
    chem = audit(api, dep, subject_id="chem")["items"]
    assert [i["actor_id"] for i in chem if i["action"].startswith("mark.")] == ["t2"]
    assert {i["subject_id"] for i in chem} == {"chem"}  # the roster's chem entries too
    assert len(audit(api, dep, action="mark.recorded", **{"from": start.isoformat()})["items"]) == 4
    before_marks = (start + timedelta(seconds=30)).isoformat()
    assert audit(api, dep, action="mark.recorded", to=before_marks)["items"] == []
    # Pages of two, newest first, until the cursor runs out.
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"action": "mark.recorded", "limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = audit(api, dep, **params)
        seen += [i["position"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == 4
    # The group: its students' journals and its pages and roster changes.
    group = audit(api, dep, group_id="g1", limit=500)["items"]
    assert {"s01", "s02", "s03"} <= {i["student_id"] for i in group}


def test_reference_data_changes_are_audited(api: Api) -> None:
    admin, dep = api.as_user(ADMIN), api.as_user(DEPUTY)
    roster = example_roster()
    roster["academic_year"]["rules"]["current_mark_days"] = 3
    r = api.client.post("/api/v1/import", headers=admin, json=roster)
    assert r.status_code == 200, r.text
    items = audit(api, dep, action="year.rules_changed", min_position=r.json()["position"])
    change = items["items"][0]
    assert change["before"]["current_mark_days"] == 7 and change["after"]["current_mark_days"] == 3
    assert change["actor_id"] == "adm1" and change["actor_role"] == "admin"


def test_who_reads_the_audit_trail(api: Api) -> None:
    for user in (DEPUTY, DIRECTOR, ADMIN):
        assert api.client.get("/api/v1/audit", headers=api.as_user(user)).status_code == 200
    for user in (TEACHER_MATH, STUDENT_S01, PARENT_OF_S01):
        r = api.client.get("/api/v1/audit", headers=api.as_user(user))
        assert r.status_code == 403, (user, r.text)
    assert api.client.get("/api/v1/audit").status_code == 401
