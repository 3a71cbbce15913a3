"""GET /api/v1/monitoring: how the group's journal is kept (R-MON-1..3), and parents'
diary acknowledgements (POST /api/v1/students/{id}/diary-acknowledgements).

Every read names `min_position` (the last write's position), so it sees that write."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.clock import FixedClock
from tests.api.helpers import (
    DEPUTY,
    DIRECTOR,
    PARENT_OF_S01,
    STUDENT_S01,
    TEACHER_CHEM_CURATOR,
    TEACHER_MATH,
    absence_body,
    assert_problem,
    record_mark,
)
from tests.conftest import Api

TEACHER_RUS = "belova"  # t3, rus in g1
SECOND_PARENT_OF_S01 = "aleksandrov"  # p02
PARENT_OF_S02 = "andreeva"  # p03
SEPTEMBER = {"group_id": "g1", "from_date": "2026-09-01", "to_date": "2026-09-30"}
SHARES = (
    "teachers_working_share",
    "students_without_marks_share",
    "students_with_one_mark_share",
    "lessons_with_topic_share",
    "lessons_with_homework_share",
    "parents_acknowledged_share",
)


def get_monitoring(api: Api, headers: dict[str, str], min_position: int, **params: str) -> Any:
    query = {**SEPTEMBER, "min_position": str(min_position), **params}
    return api.client.get("/api/v1/monitoring", headers=headers, params=query)


def monitoring(api: Api, min_position: int, **params: str) -> Any:
    r = get_monitoring(api, api.as_user(DEPUTY), min_position, **params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["complete"] is True, body
    assert body["position"] >= min_position
    return body


def post(api: Api, url: str, headers: dict[str, str], body: dict[str, Any], status: int) -> Any:
    r = api.client.post(url, headers=headers, json=body)
    assert r.status_code == status, r.text
    return r.json()


def acknowledge(api: Api, parent: str, student_id: str = "s01") -> Any:
    return api.client.post(
        f"/api/v1/students/{student_id}/diary-acknowledgements", headers=api.as_user(parent)
    )


def test_monitoring_figures_for_a_month(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    lesson = {"group_id": "g1", "subject_id": "math", "lesson_no": 1}
    post(
        api,
        "/api/v1/lessons",
        t1,
        {**lesson, "lesson_date": "2026-09-02", "topic": "Множества", "homework": "№ 1"},
        201,
    )
    post(api, "/api/v1/lessons", t1, {**lesson, "lesson_date": "2026-09-03", "topic": "Тема"}, 201)
    record_mark(api, t1, student_id="s03", value=4)  # s03: one mark
    t2 = api.as_user(TEACHER_CHEM_CURATOR)
    record_mark(api, t2, subject_id="chem", value=5)  # s01: two marks
    record_mark(api, t2, subject_id="chem", value=4, lesson_date="2026-09-03")
    # belova only records an absence; gromov writes nothing.
    last = post(
        api,
        "/api/v1/absences",
        api.as_user(TEACHER_RUS),
        absence_body(student_id="s02", subject_id="rus"),
        201,
    )["position"]

    body = monitoring(api, last)
    assert body["group_id"] == "g1"
    assert (body["from_date"], body["to_date"]) == ("2026-09-01", "2026-09-30")
    for key in SHARES:
        assert body[key] is None or type(body[key]) in (float, int), (key, body[key])
    assert body["teachers_assigned"] == 4
    assert body["teachers_working"] == 3
    assert body["teachers_working_share"] == pytest.approx(0.75)
    assert body["teachers_not_working"] == ["t4"]
    # 24 students in September (s25 joins in October): s01 two marks, s03 one, 22 none.
    assert body["students"] == 24
    assert body["students_without_marks"] == 22
    assert body["students_without_marks_share"] == pytest.approx(22 / 24, abs=0.001)
    assert body["students_with_one_mark"] == 1
    assert body["students_with_one_mark_share"] == pytest.approx(1 / 24, abs=0.001)
    assert body["lessons"] == 2
    assert body["lessons_with_topic_share"] == pytest.approx(1.0)
    assert body["lessons_with_homework_share"] == pytest.approx(0.5)
    assert body["open_academic_debts"] == 0
    assert body["parents_acknowledged"] == 0
    assert body["parents_acknowledged_share"] == pytest.approx(0.0)

    # Only what is dated inside the range counts.
    day = monitoring(api, last, from_date="2026-09-03", to_date="2026-09-03")
    assert (day["lessons"], day["lessons_with_homework_share"]) == (1, 0.0)
    assert day["teachers_working"] == 2  # sokolova's lesson and fedorov's second mark
    assert day["students_with_one_mark"] == 1  # s01's mark of the 3rd
    assert day["students_without_marks"] == 23
    empty = monitoring(api, last, from_date="2026-09-20", to_date="2026-09-25")
    assert (empty["teachers_working"], empty["lessons"]) == (0, 0)
    assert empty["lessons_with_topic_share"] is None  # no lessons: no share


def test_open_academic_debts(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    debt = post(
        api,
        "/api/v1/attestations",
        t1,
        {"student_id": "s04", "subject_id": "math", "period_id": "S1", "result": "а/з"},
        201,
    )
    passed = post(
        api,
        "/api/v1/attestations",
        t1,
        {"student_id": "s05", "subject_id": "math", "period_id": "S1", "result": "4"},
        201,
    )
    assert monitoring(api, passed["position"])["open_academic_debts"] == 1
    cleared = post(
        api,
        f"/api/v1/attestations/{debt['attestation_id']}/corrections",
        t1,
        {"result": "3", "reason": "задолженность ликвидирована"},
        200,
    )
    assert monitoring(api, cleared["position"])["open_academic_debts"] == 0


def log_head(api: Api) -> int:
    """The event log's head: the position of the last write (here, the roster import)."""
    r = api.client.get("/health/projections")
    assert r.status_code == 200, r.text
    [facts] = [p for p in r.json()["projections"] if p["name"] == "journal_facts"]
    head: int = facts["head"]
    return head


def test_parents_acknowledge_the_diary(api: Api) -> None:
    base = monitoring(api, log_head(api))
    # Parents of the group's students who have accounts (s01..s22 have parents in the roster).
    assert base["parents"] == 20
    assert base["parents_acknowledged"] == 0

    r = acknowledge(api, PARENT_OF_S01)
    assert r.status_code == 201, r.text
    ack = r.json()
    assert (ack["student_id"], ack["parent_id"]) == ("s01", "p01")
    assert ack["acknowledged_at"].startswith("2026-09-03T05:00:00")
    # Twice by the same parent still counts the parent once; the other parent counts too.
    assert acknowledge(api, PARENT_OF_S01).status_code == 201
    r = acknowledge(api, SECOND_PARENT_OF_S01)
    assert r.status_code == 201, r.text
    last = r.json()["position"]

    body = monitoring(api, last)
    assert body["parents_acknowledged"] == 2
    assert body["parents_acknowledged_share"] == pytest.approx(0.1)
    assert monitoring(api, last, to_date="2026-09-02")["parents_acknowledged"] == 0

    # Another's child, a student, a teacher: not theirs to acknowledge.
    r = acknowledge(api, PARENT_OF_S02, "s01")
    assert r.status_code in (403, 404), r.text
    assert_problem(r, r.status_code, "forbidden" if r.status_code == 403 else "not-found")
    assert acknowledge(api, STUDENT_S01).status_code in (403, 404, 422)
    assert acknowledge(api, TEACHER_MATH).status_code in (403, 404, 422)
    assert monitoring(api, last)["parents_acknowledged"] == 2


def test_acknowledgement_day_is_the_schools_day(api: Api, clock: FixedClock) -> None:
    clock.advance(hours=15)  # 2026-09-03T20:00Z = 2026-09-04 01:00 in Perm
    r = acknowledge(api, PARENT_OF_S01)
    assert r.status_code == 201, r.text
    last = r.json()["position"]
    on_4th = monitoring(api, last, from_date="2026-09-04", to_date="2026-09-04")
    on_3rd = monitoring(api, last, from_date="2026-09-03", to_date="2026-09-03")
    assert (on_4th["parents_acknowledged"], on_3rd["parents_acknowledged"]) == (1, 0)


def test_who_may_read_monitoring(api: Api) -> None:
    last = record_mark(api, api.as_user(TEACHER_MATH))["position"]
    for user in (DEPUTY, DIRECTOR, TEACHER_CHEM_CURATOR):
        assert get_monitoring(api, api.as_user(user), last).status_code == 200, user
    for user in (TEACHER_MATH, TEACHER_RUS):
        assert_problem(get_monitoring(api, api.as_user(user), last), 403, "forbidden")
    for user in (STUDENT_S01, PARENT_OF_S01):
        assert get_monitoring(api, api.as_user(user), last).status_code in (403, 404), user
    r = get_monitoring(api, api.as_user(DEPUTY), last, to_date="2026-08-01")
    assert_problem(r, 422, "validation-error")
