"""R-ABS-2/3: reasons of absences, withdrawal, the curator's entries and parents' notices."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.clock import FixedClock
from tests.api.helpers import (
    DEPUTY,
    PARENT_OF_S01,
    STUDENT_S01,
    TEACHER_CHEM_CURATOR,
    TEACHER_MATH,
    TEACHER_UNASSIGNED,
    absence_body,
    assert_problem,
    journal,
    mark_body,
)
from tests.conftest import Api

# 2026-09-05 10:00 in Perm: a Saturday.
SATURDAY_MORNING = datetime(2026, 9, 5, 5, 0, tzinfo=UTC)


def record_absence(api: Api, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    r = api.client.post("/api/v1/absences", headers=headers, json=absence_body(**overrides))
    assert r.status_code == 201, r.text
    absence: dict[str, Any] = r.json()
    return absence


def set_reason(api: Api, headers: dict[str, str], absence_id: str, code: str, reason: str) -> Any:
    return api.client.post(
        f"/api/v1/absences/{absence_id}/reason",
        headers=headers,
        json={"code": code, "reason": reason},
    )


def withdraw(api: Api, headers: dict[str, str], absence_id: str, **body: Any) -> Any:
    return api.client.post(
        f"/api/v1/absences/{absence_id}/withdrawal",
        headers=headers,
        json={"reason": "был на уроке", **body},
    )


def test_reason_is_given_by_the_teacher_the_curator_or_the_deputy(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    absence = record_absence(api, t1, lesson_no=1)
    aid = absence["absence_id"]
    steps = [
        (t1, "НН", "без уважительной причины"),
        (api.as_user(TEACHER_CHEM_CURATOR), "Б", "справка из поликлиники"),
        (api.as_user(DEPUTY), "НУ", "соревнования, приказ №12"),
    ]
    for h, code, reason in steps:
        r = set_reason(api, h, aid, code, reason)
        assert r.status_code == 200, r.text
        got = r.json()
        assert (got["absence_id"], got["code"], got["reason"]) == (aid, code, reason)
        assert got["status"] == "active"
        assert got["source"] == "teacher"
    # Neither a teacher of another subject nor one without any assignment.
    for who in ("belova", TEACHER_UNASSIGNED):
        r = set_reason(api, api.as_user(who), aid, "НН", "не так")
        assert_problem(r, 403, "forbidden")
    # Nor the student or the parent.
    for who in (STUDENT_S01, PARENT_OF_S01):
        r = set_reason(api, api.as_user(who), aid, "НН", "не так")
        assert r.status_code in (403, 404), r.text
    r = api.client.get(f"/api/v1/absences/{aid}/history", headers=t1)
    assert r.status_code == 200, r.text
    versions = r.json()["versions"]
    assert [(v["action"], v["code"], v["actor_id"], v["actor_role"]) for v in versions] == [
        ("recorded", "Н", "t1", "teacher"),
        ("reason_set", "НН", "t1", "teacher"),
        ("reason_set", "Б", "t2", "curator"),
        ("reason_set", "НУ", "dep1", "deputy"),
    ]
    assert journal(api, t1)["absences"][0]["code"] == "НУ"


def test_curator_records_absences_but_no_marks(api: Api) -> None:
    curator = api.as_user(TEACHER_CHEM_CURATOR)
    absence = record_absence(api, curator, lesson_no=3, code="Б", reason="справка")
    assert (absence["source"], absence["recorded_by"]) == ("curator", "t2")
    assert (absence["subject_id"], absence["code"]) == ("math", "Б")
    r = api.client.post("/api/v1/marks", headers=curator, json=mark_body())
    assert_problem(r, 403, "forbidden")
    # In the subject the curator teaches, the entry is the teacher's.
    chem = record_absence(api, curator, subject_id="chem")
    assert chem["source"] == "teacher"


def test_withdrawal_ends_the_absence_for_good(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    aid = record_absence(api, t1, lesson_no=2)["absence_id"]
    assert set_reason(api, t1, aid, "НН", "не предупредил").status_code == 200
    # Someone else's entry is not the unrelated teacher's to withdraw.
    assert_problem(withdraw(api, api.as_user(TEACHER_UNASSIGNED), aid), 403, "forbidden")
    r = withdraw(api, t1, aid)
    assert r.status_code == 200, r.text
    assert (r.json()["absence_id"], r.json()["status"]) == (aid, "withdrawn")
    assert_problem(withdraw(api, t1, aid), 422, "already-withdrawn")
    assert_problem(set_reason(api, t1, aid, "НУ", "поздно"), 422, "already-withdrawn")
    dep = api.as_user(DEPUTY)
    assert_problem(set_reason(api, dep, aid, "НУ", "поздно"), 422, "already-withdrawn")
    r = api.client.get(f"/api/v1/absences/{aid}/history", headers=dep)
    assert r.status_code == 200, r.text
    assert [(v["action"], v["code"], v["status"]) for v in r.json()["versions"]] == [
        ("recorded", "Н", "active"),
        ("reason_set", "НН", "active"),
        ("withdrawn", "НН", "withdrawn"),
    ]
    [shown] = journal(api, t1)["absences"]
    assert shown["status"] == "withdrawn"
    # Withdrawal needs a reason.
    other = record_absence(api, t1, lesson_no=3)["absence_id"]
    r = api.client.post(f"/api/v1/absences/{other}/withdrawal", headers=t1, json={"reason": " "})
    assert_problem(r, 422, "validation-error")


def test_teacher_withdraws_an_absence_the_curator_set(api: Api) -> None:
    curator_entry = record_absence(api, api.as_user(TEACHER_CHEM_CURATOR), lesson_no=2)
    assert curator_entry["source"] == "curator"
    r = withdraw(api, api.as_user(TEACHER_MATH), curator_entry["absence_id"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "withdrawn"


def test_parent_notice_marks_the_days_and_the_teacher_lifts_one_lesson(
    api: Api, clock: FixedClock
) -> None:
    clock.set(SATURDAY_MORNING)
    parent = api.as_user(PARENT_OF_S01)
    notice = {
        "student_id": "s01",
        "from_date": "2026-09-05",
        "to_date": "2026-09-07",
        "reason": "семейные обстоятельства",
    }
    r = api.client.post("/api/v1/absence-notices", headers=parent, json=notice)
    assert r.status_code == 201, r.text
    filed = r.json()
    assert (filed["student_id"], filed["from_date"], filed["to_date"]) == (
        "s01",
        "2026-09-05",
        "2026-09-07",
    )
    assert filed["reason"] == "семейные обстоятельства"
    assert isinstance(filed["position"], int) and filed["position"] > 0
    ids = filed["absence_ids"]
    assert len(ids) == 2 == len(set(ids))  # Saturday and Monday; Sunday 09-06 is skipped

    absences = {a["absence_id"]: a for a in journal(api, parent)["absences"]}
    assert set(absences) == set(ids)
    assert sorted(a["lesson_date"] for a in absences.values()) == ["2026-09-05", "2026-09-07"]
    for a in absences.values():
        assert (a["code"], a["source"], a["subject_id"], a["status"]) == (
            "НУ",
            "parent_notice",
            None,
            "active",
        )
        assert a["reason"] == "семейные обстоятельства"
    # The math teacher sees them in the student's journal too.
    assert set(ids) <= {
        a["absence_id"] for a in journal(api, api.as_user(TEACHER_MATH))["absences"]
    }

    # Not for another child, not by the student, not by staff; not for the past.
    r = api.client.post(
        "/api/v1/absence-notices", headers=parent, json={**notice, "student_id": "s02"}
    )
    assert_problem(r, 404, "not-found")
    r = api.client.post("/api/v1/absence-notices", headers=api.as_user(STUDENT_S01), json=notice)
    assert r.status_code in (403, 404), r.text
    r = api.client.post("/api/v1/absence-notices", headers=api.as_user(TEACHER_MATH), json=notice)
    assert_problem(r, 403, "forbidden")
    r = api.client.post(
        "/api/v1/absence-notices", headers=parent, json={**notice, "from_date": "2026-09-04"}
    )
    assert_problem(r, 422, "validation-error")

    # The student came to the second math lesson on Saturday: the notice stays for the rest.
    today = next(i for i in ids if absences[i]["lesson_date"] == "2026-09-05")
    t1 = api.as_user(TEACHER_MATH)
    r = withdraw(api, t1, today, subject_id="math", lesson_no=2)
    assert r.status_code == 200, r.text
    lifted = r.json()
    assert lifted["status"] == "active"
    assert lifted["present_at"] == [{"subject_id": "math", "lesson_no": 2}]
    # The same lesson twice, a notice day without a lesson named.
    r = withdraw(api, t1, today, subject_id="math", lesson_no=2)
    assert_problem(r, 422, "already-withdrawn")
    assert_problem(withdraw(api, t1, today), 422, "validation-error")
    # A teacher lifts a notice only for a lesson of their own subject.
    r = withdraw(api, t1, today, subject_id="chem", lesson_no=3)
    assert_problem(r, 403, "forbidden")
    r = api.client.get(f"/api/v1/absences/{today}/history", headers=t1)
    assert r.status_code == 200, r.text
    assert [(v["action"], v["actor_role"]) for v in r.json()["versions"]] == [
        ("recorded", "parent"),
        ("withdrawn", "teacher"),
    ]
    [shown] = [a for a in journal(api, parent)["absences"] if a["absence_id"] == today]
    assert shown["status"] == "active"
    assert shown["present_at"] == [{"subject_id": "math", "lesson_no": 2}]
