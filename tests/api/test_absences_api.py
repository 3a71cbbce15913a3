"""POST /api/v1/absences: the absence as API.md lists it, refused codes, seen in the journal."""

from __future__ import annotations

from tests.api.helpers import (
    STUDENT_S01,
    TEACHER_MATH,
    absence_body,
    assert_problem,
    journal,
)
from tests.conftest import Api

ABSENCE_FIELDS = {
    "absence_id",
    "student_id",
    "subject_id",
    "lesson_date",
    "lesson_no",
    "code",
    "reason",
    "status",
    "source",
}


def test_record_answers_201_with_every_absence_field(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    r = api.client.post(
        "/api/v1/absences", headers=h, json=absence_body(code="Б", lesson_no=2, reason="справка")
    )
    assert r.status_code == 201, r.text
    absence = r.json()
    assert absence.keys() >= ABSENCE_FIELDS
    assert isinstance(absence["absence_id"], str) and absence["absence_id"]
    assert absence["student_id"] == "s01"
    assert absence["subject_id"] == "math"
    assert absence["lesson_date"] == "2026-09-02"
    assert absence["lesson_no"] == 2
    assert absence["code"] == "Б"
    assert absence["reason"] == "справка"
    assert absence["status"] == "active"
    assert absence["source"] == "teacher"
    assert isinstance(absence["position"], int) and absence["position"] > 0


def test_every_code_is_accepted_and_reason_is_optional(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    for n, code in enumerate(("Н", "НУ", "НН", "Б"), start=1):
        r = api.client.post(
            "/api/v1/absences", headers=h, json=absence_body(code=code, lesson_no=n)
        )
        assert r.status_code == 201, r.text
        assert r.json()["code"] == code
        assert r.json()["reason"] is None
        assert r.json()["lesson_no"] == n


def test_invalid_absences_are_refused(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    for code in ("X", "н", "", "ABSENT"):
        r = api.client.post("/api/v1/absences", headers=h, json=absence_body(code=code))
        problem = assert_problem(r, 422, "validation-error")
        assert any("code" in str(e) for e in problem.get("errors", [])), problem
    body = absence_body()
    del body["code"]
    assert_problem(
        api.client.post("/api/v1/absences", headers=h, json=body), 422, "validation-error"
    )
    # A subject the teacher does not teach, a date outside the year.
    r = api.client.post("/api/v1/absences", headers=h, json=absence_body(subject_id="chem"))
    assert_problem(r, 403, "forbidden")
    r = api.client.post("/api/v1/absences", headers=h, json=absence_body(lesson_date="2027-08-01"))
    assert_problem(r, 422, "outside-academic-year")
    assert journal(api, h)["absences"] == []


def test_absence_appears_in_the_students_journal(api: Api) -> None:
    teacher = api.as_user(TEACHER_MATH)
    r = api.client.post("/api/v1/absences", headers=teacher, json=absence_body(code="НН"))
    assert r.status_code == 201, r.text
    recorded = r.json()
    for h in (teacher, api.as_user(STUDENT_S01)):
        absences = journal(api, h)["absences"]
        assert len(absences) == 1
        seen = absences[0]
        assert seen["absence_id"] == recorded["absence_id"]
        assert seen["code"] == "НН"
        assert seen["status"] == "active"
        assert seen["source"] == "teacher"
        assert seen["lesson_date"] == "2026-09-02"
