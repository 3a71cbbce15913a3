"""POST /api/v1/entries: a lesson's marks and absences, all or nothing (API.md 1.1)."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import TEACHER_MATH, TEACHER_UNASSIGNED, assert_problem, journal
from tests.conftest import Api


def lesson(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "group_id": "g1",
        "subject_id": "math",
        "lesson_date": "2026-09-02",
        "lesson_no": 2,
        "work_kind": "oral",
        "marks": [{"student_id": f"s{i:02d}", "value": 2 + i % 4} for i in range(1, 23)],
        "absences": [{"student_id": "s23", "code": "Н"}, {"student_id": "s24", "code": "Б"}],
    }
    body.update(overrides)
    return body


def test_a_whole_lesson_is_recorded_in_one_transaction(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    r = api.client.post("/api/v1/entries", headers=t1, json=lesson())
    assert r.status_code == 201, r.text
    body = r.json()
    assert len(body["marks"]) == 22 and len(body["absences"]) == 2
    assert {m["position"] for m in body["marks"]} == {body["position"]}
    assert body["marks"][0]["work_kind"] == "oral" and body["marks"][0]["lesson_no"] == 2
    for i in (1, 7, 22):
        marks = journal(api, t1, f"s{i:02d}")["marks"]
        assert [m["value"] for m in marks] == [2 + i % 4]
    absences = journal(api, t1, "s24")["absences"]
    assert [(a["code"], a["source"]) for a in absences] == [("Б", "teacher")]


def test_one_bad_item_records_nothing_and_each_failure_is_named(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    marks = [{"student_id": f"s{i:02d}", "value": 5} for i in range(1, 6)]
    marks[3]["value"] = 7  # not on the scale
    marks[1]["student_id"] = "nobody"  # not in the group
    r = api.client.post("/api/v1/entries", headers=t1, json=lesson(marks=marks, absences=[]))
    problem = assert_problem(r, 422, "validation-error")
    locs = [e["loc"] for e in problem["errors"]]
    assert ["marks", 1, "student_id"] in locs
    assert ["marks", 3, "value"] in locs
    assert len(locs) == 2
    for i in (1, 3, 5):
        assert journal(api, t1, f"s{i:02d}")["marks"] == []


def test_the_same_rule_codes_as_single_calls(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    late = api.client.post("/api/v1/entries", headers=t1, json=lesson(lesson_date="2026-08-31"))
    assert late.status_code == 422  # before the year: outside-academic-year
    other = api.as_user(TEACHER_UNASSIGNED)
    r = api.client.post("/api/v1/entries", headers=other, json=lesson())
    assert_problem(r, 403, "forbidden")
    assert journal(api, t1, "s01")["marks"] == []


def test_malformed_bodies_are_refused(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    empty = api.client.post("/api/v1/entries", headers=t1, json=lesson(marks=[], absences=[]))
    assert_problem(empty, 422, "validation-error")
    many = [{"student_id": "s01", "value": 5}] * 101
    big = api.client.post("/api/v1/entries", headers=t1, json=lesson(marks=many, absences=[]))
    assert_problem(big, 422, "validation-error")
    kindless = api.client.post(
        "/api/v1/entries", headers=t1, json=lesson(work_kind=None, absences=[])
    )
    assert_problem(kindless, 422, "validation-error")


def test_a_retried_lesson_with_its_key_is_recorded_once(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    keyed = {**t1, "Idempotency-Key": "lesson-2026-09-02-2"}
    first = api.client.post("/api/v1/entries", headers=keyed, json=lesson())
    again = api.client.post("/api/v1/entries", headers=keyed, json=lesson())
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(journal(api, t1, "s01")["marks"]) == 1
