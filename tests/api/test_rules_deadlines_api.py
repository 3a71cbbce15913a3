"""R-MARK-2 / R-MARK-4: deadlines of current entries, counted in the school's days.

The example roster allows current marks up to 7 days after the lesson (`current_mark_days`).
"Today" is the organisation's date: Perm (UTC+5) by default, or the roster's
`organization.timezone`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.clock import FixedClock
from tests.api.helpers import (
    ADMIN,
    DEPUTY,
    TEACHER_MATH,
    absence_body,
    assert_problem,
    example_roster,
    mark_body,
    record_mark,
)
from tests.conftest import Api


def utc(day: str, hour: int = 5, minute: int = 0) -> datetime:
    """A moment in UTC; 05:00 UTC is 10:00 in Perm."""
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


def post_mark(api: Api, headers: dict[str, str], **overrides: Any) -> Any:
    return api.client.post("/api/v1/marks", headers=headers, json=mark_body(**overrides))


def reimport(api: Api, doc: dict[str, Any]) -> dict[str, Any]:
    r = api.client.post("/api/v1/import", headers=api.as_user(ADMIN), json=doc)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def history(api: Api, headers: dict[str, str], mark_id: str) -> list[dict[str, Any]]:
    r = api.client.get(f"/api/v1/marks/{mark_id}/history", headers=headers)
    assert r.status_code == 200, r.text
    versions: list[dict[str, Any]] = r.json()["versions"]
    return versions


def test_teacher_records_up_to_seven_days_after_the_lesson(api: Api, clock: FixedClock) -> None:
    # On the lesson day.
    h = api.as_user(TEACHER_MATH)
    assert record_mark(api, h, lesson_date="2026-09-03")["lesson_date"] == "2026-09-03"
    r = api.client.post("/api/v1/absences", headers=h, json=absence_body(lesson_date="2026-09-03"))
    assert r.status_code == 201, r.text

    # Seven days later: still allowed.
    clock.set(utc("2026-09-10"))
    h = api.as_user(TEACHER_MATH)
    assert record_mark(api, h, lesson_date="2026-09-03", value=4)["value"] == 4
    r = api.client.post(
        "/api/v1/absences", headers=h, json=absence_body(lesson_date="2026-09-03", lesson_no=2)
    )
    assert r.status_code == 201, r.text

    # Eight days later: refused for marks and absences alike, nothing recorded.
    clock.set(utc("2026-09-11"))
    h = api.as_user(TEACHER_MATH)
    assert_problem(post_mark(api, h, lesson_date="2026-09-03"), 422, "deadline-passed")
    r = api.client.post(
        "/api/v1/absences", headers=h, json=absence_body(lesson_date="2026-09-03", lesson_no=3)
    )
    assert_problem(r, 422, "deadline-passed")
    # The lesson of the next day is on its seventh day.
    assert record_mark(api, h, lesson_date="2026-09-04")["lesson_date"] == "2026-09-04"

    # A lesson that has not happened yet, a date outside the academic year.
    assert_problem(post_mark(api, h, lesson_date="2026-09-12"), 422, "lesson-in-future")
    r = api.client.post("/api/v1/absences", headers=h, json=absence_body(lesson_date="2026-09-12"))
    assert_problem(r, 422, "lesson-in-future")
    for day in ("2026-08-31", "2027-07-01", "2027-08-01"):
        assert_problem(post_mark(api, h, lesson_date=day), 422, "outside-academic-year")

    r = api.client.get("/api/v1/students/s01/journal", headers=h)
    marks = r.json()["marks"]
    assert sorted((m["lesson_date"], m["value"]) for m in marks) == [
        ("2026-09-03", 4),
        ("2026-09-03", 5),
        ("2026-09-04", 5),
    ]
    assert len(r.json()["absences"]) == 2


def test_corrections_and_cancellations_count_from_the_marks_lesson_date(
    api: Api, clock: FixedClock
) -> None:
    h = api.as_user(TEACHER_MATH)
    first = record_mark(api, h, lesson_date="2026-09-03", value=3)
    second = record_mark(api, h, lesson_date="2026-09-03", value=4)

    clock.set(utc("2026-09-10"))
    h = api.as_user(TEACHER_MATH)
    # Recorded on the last allowed day: the deadline stays the lesson's, not the recording's.
    third = record_mark(api, h, lesson_date="2026-09-03", value=2)
    r = api.client.post(
        f"/api/v1/marks/{first['mark_id']}/corrections",
        headers=h,
        json={"value": 4, "reason": "ошибка при вводе"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["value"] == 4

    clock.set(utc("2026-09-11"))
    h = api.as_user(TEACHER_MATH)
    for mark in (first, second, third):
        url = f"/api/v1/marks/{mark['mark_id']}"
        r = api.client.post(f"{url}/corrections", headers=h, json={"value": 5, "reason": "поздно"})
        assert_problem(r, 422, "deadline-passed")
        r = api.client.post(f"{url}/cancellation", headers=h, json={"reason": "поздно"})
        assert_problem(r, 422, "deadline-passed")
    assert [v["value"] for v in history(api, h, first["mark_id"])] == [3, 4]
    assert [v["status"] for v in history(api, h, second["mark_id"])] == ["active"]

    # The deputy may change them late, with a reason; the versions say so.
    dep = api.as_user(DEPUTY)
    r = api.client.post(
        f"/api/v1/marks/{first['mark_id']}/corrections",
        headers=dep,
        json={"value": 5, "reason": "служебная записка №3"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["value"] == 5
    r = api.client.post(
        f"/api/v1/marks/{second['mark_id']}/cancellation",
        headers=dep,
        json={"reason": "служебная записка №4"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    versions = history(api, dep, first["mark_id"])
    assert [(v["value"], v["actor_role"], v["late"]) for v in versions] == [
        (3, "teacher", False),
        (4, "teacher", False),
        (5, "deputy", True),
    ]
    assert versions[-1]["actor_id"] == "dep1"
    assert versions[-1]["reason"] == "служебная записка №3"
    last = history(api, dep, second["mark_id"])[-1]
    assert (last["status"], last["actor_role"], last["late"]) == ("cancelled", "deputy", True)


def test_deputy_past_the_deadline_needs_a_reason_and_is_recorded_late(
    api: Api, clock: FixedClock
) -> None:
    clock.set(utc("2026-09-20"))
    dep = api.as_user(DEPUTY)
    teacher = api.as_user(TEACHER_MATH)
    assert_problem(post_mark(api, teacher, lesson_date="2026-09-03"), 422, "deadline-passed")
    for reason in (None, "", "   "):
        body = {} if reason is None else {"reason": reason}
        r = post_mark(api, dep, lesson_date="2026-09-03", **body)
        problem = assert_problem(r, 422, "validation-error")
        assert any("reason" in str(e) for e in problem.get("errors", [])), problem
    # A teacher's reason does not help: only a deputy acts late.
    r = post_mark(api, teacher, lesson_date="2026-09-03", reason="забыла")
    assert_problem(r, 422, "deadline-passed")

    r = post_mark(api, dep, lesson_date="2026-09-03", value=4, reason="ошибка учителя, записка №7")
    assert r.status_code == 201, r.text
    mark = r.json()
    assert mark["recorded_by"] == "dep1"
    assert (mark["lesson_date"], mark["value"], mark["status"]) == ("2026-09-03", 4, "active")
    [version] = history(api, dep, mark["mark_id"])
    assert version["late"] is True
    assert version["actor_role"] == "deputy"
    assert version["actor_id"] == "dep1"
    assert version["reason"] == "ошибка учителя, записка №7"

    # Within the deadline the deputy needs no reason and the entry is not late.
    in_time = record_mark(api, dep, lesson_date="2026-09-15")
    [version] = history(api, dep, in_time["mark_id"])
    assert (version["late"], version["actor_role"]) == (False, "deputy")
    # Nor may a deputy write for a lesson still to come.
    r = post_mark(api, dep, lesson_date="2026-09-21", reason="заранее")
    assert_problem(r, 422, "lesson-in-future")


def test_today_is_the_schools_day_in_its_time_zone(api: Api, clock: FixedClock) -> None:
    # Perm is UTC+5: 18:00 UTC on 09-10 is 23:00 there, the lesson of 09-03's seventh day.
    clock.set(utc("2026-09-10", 18))
    h = api.as_user(TEACHER_MATH)
    assert record_mark(api, h, lesson_date="2026-09-03")["lesson_date"] == "2026-09-03"
    assert_problem(post_mark(api, h, lesson_date="2026-09-11"), 422, "lesson-in-future")

    # 19:00 UTC is already midnight of 09-11 in Perm, though still 09-10 in UTC.
    for hour in (19, 20):
        clock.set(utc("2026-09-10", hour))
        h = api.as_user(TEACHER_MATH)
        assert_problem(post_mark(api, h, lesson_date="2026-09-03"), 422, "deadline-passed")
    # 09-04 is on its seventh day, and 09-11 is the school's today.
    assert record_mark(api, h, lesson_date="2026-09-04")["lesson_date"] == "2026-09-04"
    assert record_mark(api, h, lesson_date="2026-09-11")["lesson_date"] == "2026-09-11"

    # The same organisation in Moscow (UTC+3): 20:00 UTC is 23:00 of 09-10 there.
    doc = example_roster()
    doc["organization"]["timezone"] = "Europe/Moscow"
    assert reimport(api, doc)["events"] > 0
    h = api.as_user(TEACHER_MATH)
    assert record_mark(api, h, lesson_date="2026-09-03", value=3)["value"] == 3
    assert_problem(post_mark(api, h, lesson_date="2026-09-11"), 422, "lesson-in-future")
    clock.set(utc("2026-09-10", 21))
    h = api.as_user(TEACHER_MATH)
    assert_problem(post_mark(api, h, lesson_date="2026-09-03"), 422, "deadline-passed")
    assert record_mark(api, h, lesson_date="2026-09-11")["lesson_date"] == "2026-09-11"

    # Without a time zone in the roster, the deployment's zone (Perm) counts again.
    assert reimport(api, example_roster())["events"] > 0
    clock.set(utc("2026-09-10", 20))
    h = api.as_user(TEACHER_MATH)
    assert_problem(post_mark(api, h, lesson_date="2026-09-03"), 422, "deadline-passed")
