"""POST /api/v1/marks, corrections, cancellation and history, with every error they answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.clock import FixedClock
from tests.api.helpers import TEACHER_MATH, assert_problem, mark_body, record_mark
from tests.conftest import SCHOOL_MORNING, Api

MARK_FIELDS = {
    "mark_id",
    "student_id",
    "subject_id",
    "lesson_date",
    "lesson_no",
    "work_kind",
    "value",
    "status",
    "weight",
    "recorded_by",
    "recorded_at",
    "corrected",
}


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_record_answers_201_with_every_mark_field_and_position(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    r = api.client.post(
        "/api/v1/marks",
        headers=h,
        json=mark_body(work_kind="control", value=4, lesson_no=3, comment="контрольная №1"),
    )
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("application/json")
    mark = r.json()
    assert mark.keys() >= MARK_FIELDS
    assert isinstance(mark["position"], int) and not isinstance(mark["position"], bool)
    assert mark["position"] > 0
    assert isinstance(mark["mark_id"], str) and mark["mark_id"]
    assert mark["student_id"] == "s01"
    assert mark["subject_id"] == "math"
    assert mark["lesson_date"] == "2026-09-02"
    assert mark["lesson_no"] == 3
    assert mark["work_kind"] == "control"
    assert mark["value"] == 4
    assert mark["status"] == "active"
    assert mark["weight"] == 2
    assert mark["recorded_by"] == "t1"
    assert ts(mark["recorded_at"]) == SCHOOL_MORNING
    assert mark["corrected"] is False


def test_weight_comes_from_the_years_rules_and_positions_grow(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    positions, ids = [], set()
    for work_kind, weight in [("control", 2), ("monitoring", 2), ("oral", 1), ("homework", 1)]:
        mark = record_mark(api, h, work_kind=work_kind)
        assert mark["weight"] == weight, work_kind
        assert mark["lesson_no"] is None
        positions.append(mark["position"])
        ids.add(mark["mark_id"])
    assert positions == sorted(positions) and len(set(positions)) == 4
    assert len(ids) == 4


def test_correction_changes_value_and_refuses_the_same_value(api: Api, clock: FixedClock) -> None:
    h = api.as_user(TEACHER_MATH)
    mark = record_mark(api, h, value=3, work_kind="control")
    clock.advance(minutes=5)
    r = api.client.post(
        f"/api/v1/marks/{mark['mark_id']}/corrections",
        headers=h,
        json={"value": 4, "reason": "ошибка при вводе"},
    )
    assert r.status_code == 200, r.text
    fixed = r.json()
    assert fixed["mark_id"] == mark["mark_id"]
    assert fixed["value"] == 4
    assert fixed["corrected"] is True
    assert fixed["status"] == "active"
    # What was fixed at recording stays: weight, author, time.
    assert fixed["weight"] == 2
    assert fixed["recorded_by"] == "t1"
    assert ts(fixed["recorded_at"]) == SCHOOL_MORNING
    assert isinstance(fixed["position"], int) and fixed["position"] > mark["position"]
    # Correcting to the value it already has is refused.
    r = api.client.post(
        f"/api/v1/marks/{mark['mark_id']}/corrections",
        headers=h,
        json={"value": 4, "reason": "проверка"},
    )
    assert_problem(r, 422, "validation-error")


def test_correction_and_cancellation_need_a_reason(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    mark = record_mark(api, h)
    url = f"/api/v1/marks/{mark['mark_id']}"
    for body in ({"value": 4}, {"value": 4, "reason": ""}, {"value": 4, "reason": "   "}):
        r = api.client.post(f"{url}/corrections", headers=h, json=body)
        problem = assert_problem(r, 422, "validation-error")
        assert any("reason" in str(e) for e in problem.get("errors", [])), problem
    for body in ({}, {"reason": ""}, {"reason": "  "}):
        r = api.client.post(f"{url}/cancellation", headers=h, json=body)
        problem = assert_problem(r, 422, "validation-error")
        assert any("reason" in str(e) for e in problem.get("errors", [])), problem
    versions = api.client.get(f"{url}/history", headers=h).json()["versions"]
    assert [(v["value"], v["status"]) for v in versions] == [(5, "active")]


def test_value_outside_the_scale_is_invalid_mark(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    mark = record_mark(api, h, value=3)
    for value in (6, 1, 0, -3):
        r = api.client.post("/api/v1/marks", headers=h, json=mark_body(value=value))
        assert_problem(r, 422, "invalid-mark")
        r = api.client.post(
            f"/api/v1/marks/{mark['mark_id']}/corrections",
            headers=h,
            json={"value": value, "reason": "проверка"},
        )
        assert_problem(r, 422, "invalid-mark")
    # lowest_mark is 2: a 2 is on the scale.
    assert record_mark(api, h, value=2)["value"] == 2


MALFORMED: list[dict[str, object]] = [
    {"work_kind": "essay"},
    {"value": "5"},
    {"value": 4.5},
    {"value": True},
    {"lesson_date": "02.09.2026"},
    {"student_id": ""},
    {"lesson_no": 0},
    {"unexpected": 1},
]


def test_malformed_mark_is_validation_error(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    for override in MALFORMED:
        r = api.client.post("/api/v1/marks", headers=h, json=mark_body(**override))
        problem = assert_problem(r, 422, "validation-error")
        assert problem.get("errors"), (override, problem)
    body = mark_body()
    del body["work_kind"]
    r = api.client.post("/api/v1/marks", headers=h, json=body)
    problem = assert_problem(r, 422, "validation-error")
    assert any("work_kind" in str(e) for e in problem["errors"]), problem
    assert api.client.get("/api/v1/students/s01/journal", headers=h).json()["marks"] == []


def test_cancel_then_change_again_is_already_cancelled(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    mark = record_mark(api, h)
    url = f"/api/v1/marks/{mark['mark_id']}"
    r = api.client.post(f"{url}/cancellation", headers=h, json={"reason": "дубль"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert r.json()["value"] == 5
    assert r.json()["position"] > mark["position"]
    r = api.client.post(f"{url}/corrections", headers=h, json={"value": 3, "reason": "исправление"})
    assert_problem(r, 422, "already-cancelled")
    r = api.client.post(f"{url}/cancellation", headers=h, json={"reason": "ещё раз"})
    assert_problem(r, 422, "already-cancelled")
    versions = api.client.get(f"{url}/history", headers=h).json()["versions"]
    assert [v["status"] for v in versions] == ["active", "cancelled"]


def test_unknown_mark_id_is_not_found(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    url = "/api/v1/marks/00000000-0000-0000-0000-000000000000"
    assert_problem(
        api.client.post(f"{url}/corrections", headers=h, json={"value": 3, "reason": "x"}),
        404,
        "not-found",
    )
    assert_problem(
        api.client.post(f"{url}/cancellation", headers=h, json={"reason": "x"}), 404, "not-found"
    )
    assert_problem(api.client.get(f"{url}/history", headers=h), 404, "not-found")


def test_history_lists_versions_oldest_first(api: Api, clock: FixedClock) -> None:
    h = api.as_user(TEACHER_MATH)
    t0 = clock.now()
    mark = record_mark(api, h, value=5)
    url = f"/api/v1/marks/{mark['mark_id']}"
    t1 = clock.advance(minutes=3)
    assert api.client.post(
        f"{url}/corrections", headers=h, json={"value": 3, "reason": "опечатка"}
    ).is_success
    t2 = clock.advance(minutes=4)
    assert api.client.post(
        f"{url}/corrections", headers=h, json={"value": 4, "reason": "пересмотр"}
    ).is_success
    t3 = clock.advance(minutes=5)
    assert api.client.post(
        f"{url}/cancellation", headers=h, json={"reason": "не тот студент"}
    ).is_success

    r = api.client.get(f"{url}/history", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["mark_id"] == mark["mark_id"]
    versions = body["versions"]
    assert [
        (v["value"], v["status"], v["actor_id"], ts(v["occurred_at"]), v["reason"])
        for v in versions
    ] == [
        (5, "active", "t1", t0, None),
        (3, "active", "t1", t1, "опечатка"),
        (4, "active", "t1", t2, "пересмотр"),
        (4, "cancelled", "t1", t3, "не тот студент"),
    ]
    assert all(v["actor_role"] == "teacher" for v in versions)
    assert t0 < t1 < t2 < t3 == t0 + timedelta(minutes=12)


def test_date_outside_the_academic_year(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    for day in ("2026-08-31", "2027-07-01", "2025-09-15"):
        r = api.client.post("/api/v1/marks", headers=h, json=mark_body(lesson_date=day))
        assert_problem(r, 422, "outside-academic-year")


def test_teacher_past_the_deadline_is_refused(api: Api, clock: FixedClock) -> None:
    clock.set(datetime(2026, 9, 25, 5, 0, tzinfo=UTC))
    h = api.as_user(TEACHER_MATH)
    r = api.client.post("/api/v1/marks", headers=h, json=mark_body(lesson_date="2026-09-02"))
    assert_problem(r, 422, "deadline-passed")
