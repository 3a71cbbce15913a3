"""GET /api/v1/students/{id}/journal?as_of=: the journal as it stood at a moment."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from adapters.clock import FixedClock
from tests.api.helpers import (
    STUDENT_S01,
    TEACHER_MATH,
    absence_body,
    assert_problem,
    journal,
    record_mark,
)
from tests.conftest import Api

PERM = timezone(timedelta(hours=5))
SECOND = timedelta(seconds=1)


def marks_as_of(api: Api, h: dict[str, str], at: datetime) -> list[dict[str, Any]]:
    body = journal(api, h, as_of=at.isoformat())
    assert body["student_id"] == "s01"
    assert body["year_id"] == "2026-2027"
    marks: list[dict[str, Any]] = body["marks"]
    return marks


@pytest.fixture
def timeline(api: Api, clock: FixedClock) -> tuple[str, datetime, datetime, datetime]:
    """A mark recorded at T0 (5), corrected at T1 (3), cancelled at T2."""
    h = api.as_user(TEACHER_MATH)
    t0 = clock.now()
    mark = record_mark(api, h, value=5, work_kind="control")
    url = f"/api/v1/marks/{mark['mark_id']}"
    t1 = clock.advance(minutes=7)
    r = api.client.post(f"{url}/corrections", headers=h, json={"value": 3, "reason": "опечатка"})
    assert r.status_code == 200, r.text
    t2 = clock.advance(minutes=9)
    r = api.client.post(f"{url}/cancellation", headers=h, json={"reason": "не тот студент"})
    assert r.status_code == 200, r.text
    clock.advance(minutes=5)
    return mark["mark_id"], t0, t1, t2


def test_journal_as_of_each_moment(
    api: Api, timeline: tuple[str, datetime, datetime, datetime]
) -> None:
    mark_id, t0, t1, t2 = timeline
    h = api.as_user(TEACHER_MATH)

    assert marks_as_of(api, h, t0 - SECOND) == []

    for at in (t0, t0 + SECOND, t1 - SECOND):
        [m] = marks_as_of(api, h, at)
        assert (m["mark_id"], m["value"], m["status"], m["corrected"]) == (
            mark_id,
            5,
            "active",
            False,
        ), at
        assert m["weight"] == 2

    for at in (t1, t1 + SECOND, t2 - SECOND):
        [m] = marks_as_of(api, h, at)
        assert (m["value"], m["status"], m["corrected"]) == (3, "active", True), at

    for at in (t2, t2 + timedelta(days=30)):
        [m] = marks_as_of(api, h, at)
        assert (m["value"], m["status"]) == (3, "cancelled"), at

    # Without as_of: the journal now.
    [now] = journal(api, h)["marks"]
    assert (now["value"], now["status"]) == (3, "cancelled")


def test_as_of_with_another_offset_means_the_same_moment(
    api: Api, timeline: tuple[str, datetime, datetime, datetime]
) -> None:
    _, _t0, t1, _t2 = timeline
    h = api.as_user(STUDENT_S01)
    [before] = marks_as_of(api, h, (t1 - SECOND).astimezone(PERM))
    [after] = marks_as_of(api, h, t1.astimezone(PERM))
    assert before["value"] == 5
    assert after["value"] == 3
    zulu = (t1 - SECOND).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [m["value"] for m in journal(api, h, as_of=zulu)["marks"]] == [5]


def test_as_of_applies_to_absences_too(api: Api, clock: FixedClock) -> None:
    h = api.as_user(TEACHER_MATH)
    before = clock.now()
    recorded_at = clock.advance(minutes=10)
    r = api.client.post("/api/v1/absences", headers=h, json=absence_body())
    assert r.status_code == 201, r.text
    assert journal(api, h, as_of=before.isoformat())["absences"] == []
    assert len(journal(api, h, as_of=recorded_at.isoformat())["absences"]) == 1


def test_as_of_needs_a_utc_offset(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    for value in ("2026-09-03T05:00:00", "2026-09-03", "yesterday"):
        r = api.client.get("/api/v1/students/s01/journal", headers=h, params={"as_of": value})
        problem = assert_problem(r, 422, "validation-error")
        assert any("as_of" in str(e) for e in problem.get("errors", [])), problem
