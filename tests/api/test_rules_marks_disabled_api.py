"""R-LES-3: a group with marks disabled keeps attendance and lessons, but no marks."""

from __future__ import annotations

from tests.api.helpers import (
    ADMIN,
    DEPUTY,
    TEACHER_MATH,
    absence_body,
    assert_problem,
    example_roster,
    journal,
    mark_body,
    record_mark,
)
from tests.conftest import Api


def test_marks_disabled_group_refuses_marks_and_attestations_only(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    before = record_mark(api, t1, value=4)
    doc = example_roster()
    doc["groups"][0]["marks_enabled"] = False
    r = api.client.post("/api/v1/import", headers=api.as_user(ADMIN), json=doc)
    assert r.status_code == 200, r.text
    assert r.json()["events"] > 0

    dep = api.as_user(DEPUTY)
    for h in (t1, dep):
        r = api.client.post("/api/v1/marks", headers=h, json=mark_body(reason="проверка"))
        assert_problem(r, 422, "marks-disabled")
        r = api.client.post(
            "/api/v1/attestations",
            headers=h,
            json={"student_id": "s01", "subject_id": "math", "period_id": "S1", "result": "5"},
        )
        assert_problem(r, 422, "marks-disabled")
    r = api.client.post(
        f"/api/v1/marks/{before['mark_id']}/corrections",
        headers=t1,
        json={"value": 5, "reason": "ошибка"},
    )
    assert_problem(r, 422, "marks-disabled")

    # Attendance and lessons go on.
    r = api.client.post("/api/v1/absences", headers=t1, json=absence_body(code="НН"))
    assert r.status_code == 201, r.text
    assert (r.json()["code"], r.json()["source"]) == ("НН", "teacher")
    r = api.client.post(
        "/api/v1/absences",
        headers=api.as_user("fedorov"),
        json=absence_body(code="Б", lesson_no=2),
    )
    assert r.status_code == 201, r.text
    assert r.json()["source"] == "curator"
    r = api.client.post(
        "/api/v1/lessons",
        headers=t1,
        json={
            "group_id": "g1",
            "subject_id": "math",
            "lesson_date": "2026-09-02",
            "lesson_no": 1,
            "topic": "Счёт до десяти",
            "homework": None,
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["topic"] == "Счёт до десяти"

    page = journal(api, dep)
    assert [m["mark_id"] for m in page["marks"]] == [before["mark_id"]]
    assert page["attestations"] == []
    assert sorted(a["code"] for a in page["absences"]) == ["Б", "НН"]
