"""R-ATT: intermediate attestation results, their deadline, academic debts, subject schedules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.clock import FixedClock
from tests.api.helpers import (
    ADMIN,
    DEPUTY,
    PARENT_OF_S01,
    STUDENT_S01,
    TEACHER_MATH,
    assert_problem,
    example_roster,
    journal,
)
from tests.conftest import Api

TEACHER_HIST = "gromov"  # t4


def utc(day: str, hour: int = 5) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def attestation_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "student_id": "s01",
        "subject_id": "math",
        "period_id": "S1",
        "result": "5",
    }
    body.update(overrides)
    return body


def post_attestation(api: Api, headers: dict[str, str], **overrides: Any) -> Any:
    return api.client.post(
        "/api/v1/attestations", headers=headers, json=attestation_body(**overrides)
    )


def record_attestation(api: Api, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    r = post_attestation(api, headers, **overrides)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def correct(api: Api, headers: dict[str, str], attestation_id: str, result: str) -> Any:
    return api.client.post(
        f"/api/v1/attestations/{attestation_id}/corrections",
        headers=headers,
        json={"result": result, "reason": "пересдача, ведомость №5"},
    )


def debts(api: Api, headers: dict[str, str]) -> Any:
    return api.client.get("/api/v1/academic-debts", headers=headers, params={"group_id": "g1"})


def test_results_during_the_period_one_per_subject_and_never_a_two(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    result = record_attestation(api, t1)
    assert (result["student_id"], result["subject_id"], result["period_id"]) == (
        "s01",
        "math",
        "S1",
    )
    assert (result["result"], result["debt"], result["recorded_by"]) == ("5", None, "t1")
    assert result["corrected"] is False
    assert isinstance(result["position"], int) and result["position"] > 0

    for bad in ("2", "1"):
        r = post_attestation(api, t1, student_id="s02", result=bad)
        assert_problem(r, 422, "unsatisfactory-attestation")
        r = correct(api, t1, result["attestation_id"], bad)
        assert_problem(r, 422, "unsatisfactory-attestation")
    assert_problem(post_attestation(api, t1, student_id="s02", result="6"), 422, "validation-error")
    # One result per subject and period: a second one is refused, even another value.
    for again in ("5", "4"):
        assert_problem(post_attestation(api, t1, result=again), 422, "validation-error")
    # The second semester has not started.
    r = post_attestation(api, t1, student_id="s02", period_id="S2")
    assert_problem(r, 422, "period-not-started")
    # Not a subject the teacher teaches, not an unknown period.
    assert_problem(post_attestation(api, t1, subject_id="chem"), 403, "forbidden")
    assert_problem(post_attestation(api, t1, student_id="s02", period_id="S9"), 404, "not-found")

    for who in (STUDENT_S01, PARENT_OF_S01):
        results = journal(api, api.as_user(who))["attestations"]
        assert [(t["subject_id"], t["period_id"], t["result"]) for t in results] == [
            ("math", "S1", "5")
        ]


def test_after_the_period_only_a_deputy_with_a_reason(api: Api, clock: FixedClock) -> None:
    # S1 ends 2026-12-30 and attestation_mark_days is 0: the last day is the period's last.
    clock.set(utc("2026-12-30", 18))  # 23:00 in Perm
    t1 = api.as_user(TEACHER_MATH)
    record_attestation(api, t1, student_id="s03", result="4")

    clock.set(utc("2026-12-31"))
    t1 = api.as_user(TEACHER_MATH)
    dep = api.as_user(DEPUTY)
    assert_problem(post_attestation(api, t1), 422, "deadline-passed")
    assert_problem(post_attestation(api, t1, reason="забыла"), 422, "deadline-passed")
    problem = assert_problem(post_attestation(api, dep), 422, "validation-error")
    assert any("reason" in str(e) for e in problem.get("errors", [])), problem
    r = post_attestation(api, dep, result="4", reason="приказ №44")
    assert r.status_code == 201, r.text
    late = r.json()
    assert (late["result"], late["recorded_by"]) == ("4", "dep1")
    r = api.client.get(f"/api/v1/attestations/{late['attestation_id']}/history", headers=dep)
    assert r.status_code == 200, r.text
    [version] = r.json()["versions"]
    assert (version["actor_role"], version["late"], version["reason"]) == (
        "deputy",
        True,
        "приказ №44",
    )


def test_academic_debt_is_listed_until_cleared(api: Api, clock: FixedClock) -> None:
    t1 = api.as_user(TEACHER_MATH)
    dep = api.as_user(DEPUTY)
    debt = record_attestation(api, t1, student_id="s02", result="а/з")
    assert debt["debt"] == "open"
    record_attestation(api, t1, student_id="s01", result="5")

    r = debts(api, dep)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["group_id"] == "g1"
    assert body["year_id"] == "2026-2027"
    [item] = body["items"]
    assert (item["student_id"], item["full_name"]) == ("s02", "Андреева Полина Сергеевна")
    assert (item["attestation_id"], item["subject_id"], item["period_id"]) == (
        debt["attestation_id"],
        "math",
        "S1",
    )
    assert (item["status"], item["result"]) == ("open", "а/з")
    assert [v["result"] for v in item["history"]] == ["а/з"]

    assert_problem(correct(api, t1, debt["attestation_id"], "2"), 422, "unsatisfactory-attestation")
    clock.advance(days=2)
    t1 = api.as_user(TEACHER_MATH)
    dep = api.as_user(DEPUTY)
    r = correct(api, t1, debt["attestation_id"], "4")
    assert r.status_code == 200, r.text
    cleared = r.json()
    assert (cleared["result"], cleared["debt"], cleared["corrected"]) == ("4", "cleared", True)

    [item] = debts(api, dep).json()["items"]
    assert (item["status"], item["result"]) == ("cleared", "4")
    assert [(v["result"], v["actor_id"]) for v in item["history"]] == [("а/з", "t1"), ("4", "t1")]

    r = api.client.get(f"/api/v1/attestations/{debt['attestation_id']}/history", headers=t1)
    assert r.status_code == 200, r.text
    history = r.json()
    assert history["attestation_id"] == debt["attestation_id"]
    assert history["student_id"] == "s02"
    versions = history["versions"]
    assert [v["result"] for v in versions] == ["а/з", "4"]
    assert versions[0]["occurred_at"] < versions[1]["occurred_at"]
    assert versions[1]["reason"] == "пересдача, ведомость №5"

    # A group's debts are for staff: not for students or parents.
    for who in (STUDENT_S01, PARENT_OF_S01, "st.andreeva", "andreeva"):
        r = debts(api, api.as_user(who))
        assert r.status_code in (403, 404), (who, r.text)
        assert "Андреева" not in r.text


def test_a_subject_with_its_own_attestation_schedule(api: Api, clock: FixedClock) -> None:
    doc = example_roster()
    hist = next(s for s in doc["subjects"] if s["id"] == "hist")
    hist["periods"] = [
        {"id": "M1", "name": "Модуль 1", "starts_on": "2026-09-01", "ends_on": "2026-10-31"}
    ]
    r = api.client.post("/api/v1/import", headers=api.as_user(ADMIN), json=doc)
    assert r.status_code == 200, r.text
    assert r.json()["events"] > 0

    t4 = api.as_user(TEACHER_HIST)
    assert_problem(post_attestation(api, t4, subject_id="hist"), 404, "not-found")
    result = record_attestation(api, t4, subject_id="hist", period_id="M1", result="зачёт")
    assert (result["period_id"], result["result"]) == ("M1", "зачёт")
    # Other subjects keep the year's semesters.
    assert record_attestation(api, api.as_user(TEACHER_MATH))["period_id"] == "S1"
    assert_problem(
        post_attestation(api, api.as_user(TEACHER_MATH), period_id="M1"), 404, "not-found"
    )
    # The module's own end is the deadline.
    clock.set(utc("2026-11-01"))
    r = post_attestation(
        api, api.as_user(TEACHER_HIST), student_id="s02", subject_id="hist", period_id="M1"
    )
    assert_problem(r, 422, "deadline-passed")


def test_a_token_issued_ahead_of_the_wall_clock_is_accepted(api: Api, clock: FixedClock) -> None:
    clock.set(datetime.now(UTC) + timedelta(days=30))
    r = api.client.get(
        "/api/v1/students/s01/journal",
        headers=api.as_user(DEPUTY),
        params={"year_id": "2026-2027"},
    )
    assert r.status_code == 200, r.text
