"""R-MARK-5: a teacher writes only for students enrolled in their group on the lesson date."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.clock import FixedClock
from tests.api.helpers import (
    ADMIN,
    DEPUTY,
    TEACHER_MATH,
    TEACHER_UNASSIGNED,
    absence_body,
    assert_problem,
    example_roster,
    journal,
    mark_body,
    record_mark,
)
from tests.conftest import Api


def utc(day: str, hour: int = 5) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def post_mark(api: Api, headers: dict[str, str], **overrides: Any) -> Any:
    return api.client.post("/api/v1/marks", headers=headers, json=mark_body(**overrides))


def transfer_roster() -> dict[str, Any]:
    """s01 leaves g1 after 2026-10-15 and joins the new group g2 (math: t5) on 2026-10-16."""
    doc = example_roster()
    g1 = doc["groups"][0]
    member = next(m for m in g1["students"] if m["id"] == "s01")
    member["to"] = "2026-10-15"
    doc["groups"].append(
        {
            "id": "g2",
            "name": "ХТ-22",
            "curator_id": None,
            "marks_enabled": True,
            "students": [{"id": "s01", "from": "2026-10-16", "to": None}],
        }
    )
    doc["assignments"].append({"teacher_id": "t5", "group_id": "g2", "subject_id": "math"})
    return doc


def test_a_student_is_written_only_from_the_day_they_join(api: Api, clock: FixedClock) -> None:
    clock.set(utc("2026-10-07"))
    for who in (TEACHER_MATH, DEPUTY):
        h = api.as_user(who)
        for day in ("2026-09-03", "2026-10-05"):
            r = post_mark(api, h, student_id="s25", lesson_date=day)
            assert_problem(r, 422, "not-enrolled")
        r = api.client.post(
            "/api/v1/absences",
            headers=h,
            json=absence_body(student_id="s25", lesson_date="2026-10-05"),
        )
        assert_problem(r, 422, "not-enrolled")
        assert (
            record_mark(api, h, student_id="s25", lesson_date="2026-10-06")["student_id"] == "s25"
        )
    marks = journal(api, api.as_user(DEPUTY), "s25")["marks"]
    assert [(m["lesson_date"], m["recorded_by"]) for m in marks] == [
        ("2026-10-06", "t1"),
        ("2026-10-06", "dep1"),
    ]


def test_a_transfer_moves_the_student_to_the_new_groups_teacher(
    api: Api, clock: FixedClock
) -> None:
    t1 = api.as_user(TEACHER_MATH)
    earlier = record_mark(api, t1, lesson_date="2026-09-03", value=4)

    r = api.client.post("/api/v1/import", headers=api.as_user(ADMIN), json=transfer_roster())
    assert r.status_code == 200, r.text
    assert r.json()["events"] > 0

    clock.set(utc("2026-10-16"))
    t1 = api.as_user(TEACHER_MATH)
    t5 = api.as_user(TEACHER_UNASSIGNED)
    # The earlier marks stay in the journal as they were.
    marks = journal(api, api.as_user(DEPUTY))["marks"]
    assert [(m["mark_id"], m["value"], m["status"]) for m in marks] == [
        (earlier["mark_id"], 4, "active")
    ]
    assert earlier["mark_id"] in {m["mark_id"] for m in journal(api, t1)["marks"]}

    # g1's math teacher: up to the last day in g1, not after.
    assert record_mark(api, t1, lesson_date="2026-10-15")["recorded_by"] == "t1"
    assert_problem(post_mark(api, t1, lesson_date="2026-10-16"), 422, "not-enrolled")
    r = api.client.post("/api/v1/absences", headers=t1, json=absence_body(lesson_date="2026-10-16"))
    assert_problem(r, 422, "not-enrolled")
    # Other g1 students are still hers on that day.
    assert record_mark(api, t1, student_id="s02", lesson_date="2026-10-16")["student_id"] == "s02"

    # g2's math teacher: from the first day in g2, not before.
    assert record_mark(api, t5, lesson_date="2026-10-16")["recorded_by"] == "t5"
    assert_problem(post_mark(api, t5, lesson_date="2026-10-15"), 422, "not-enrolled")
    assert_problem(
        post_mark(api, t5, student_id="s02", lesson_date="2026-10-16"), 422, "not-enrolled"
    )
    r = api.client.post("/api/v1/absences", headers=t5, json=absence_body(lesson_date="2026-10-16"))
    assert r.status_code == 201, r.text

    # A subject t5 teaches nowhere is forbidden, whatever the date.
    for day in ("2026-10-15", "2026-10-16"):
        assert_problem(post_mark(api, t5, subject_id="chem", lesson_date=day), 403, "forbidden")
    # So is math for a teacher without any math assignment.
    belova = api.as_user("belova")
    assert_problem(post_mark(api, belova, lesson_date="2026-10-16"), 403, "forbidden")

    values = sorted((m["lesson_date"], m["recorded_by"]) for m in journal(api, t5)["marks"])
    assert values == [("2026-09-03", "t1"), ("2026-10-15", "t1"), ("2026-10-16", "t5")]
