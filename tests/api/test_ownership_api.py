"""Who may write and read whose journal: roles, assignments, enrolment, organisations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.clock import FixedClock
from api.bootstrap import Services
from tests.api.helpers import (
    DEPUTY,
    DIRECTOR,
    PARENT_OF_S01,
    STUDENT_S01,
    TEACHER_CHEM_CURATOR,
    TEACHER_MATH,
    TEACHER_UNASSIGNED,
    assert_problem,
    import_other_org,
    journal,
    mark_body,
    record_mark,
)
from tests.conftest import Api


def test_teacher_writes_only_assigned_subjects(api: Api) -> None:
    h = api.as_user(TEACHER_UNASSIGNED)
    for subject in ("math", "chem"):
        r = api.client.post("/api/v1/marks", headers=h, json=mark_body(subject_id=subject))
        assert_problem(r, 403, "forbidden")
    # t1 teaches math in g1, not chem.
    h = api.as_user(TEACHER_MATH)
    r = api.client.post("/api/v1/marks", headers=h, json=mark_body(subject_id="chem"))
    assert_problem(r, 403, "forbidden")


def test_teacher_before_the_student_joined_is_not_enrolled(api: Api, clock: FixedClock) -> None:
    clock.set(datetime(2026, 10, 6, 5, 0, tzinfo=UTC))
    h = api.as_user(TEACHER_MATH)
    r = api.client.post(
        "/api/v1/marks", headers=h, json=mark_body(student_id="s25", lesson_date="2026-10-05")
    )
    assert_problem(r, 422, "not-enrolled")
    # From the day s25 joins g1 the same teacher may write.
    mark = record_mark(api, h, student_id="s25", lesson_date="2026-10-06")
    assert mark["student_id"] == "s25"


def test_teacher_cannot_change_another_subjects_mark(api: Api) -> None:
    chem = record_mark(api, api.as_user(TEACHER_CHEM_CURATOR), subject_id="chem")
    h = api.as_user(TEACHER_MATH)
    url = f"/api/v1/marks/{chem['mark_id']}"
    r = api.client.post(f"{url}/corrections", headers=h, json={"value": 3, "reason": "x"})
    assert_problem(r, 403, "forbidden")
    r = api.client.post(f"{url}/cancellation", headers=h, json={"reason": "x"})
    assert_problem(r, 403, "forbidden")
    assert api.client.get(f"{url}/history", headers=h).status_code in (403, 404)


def test_deputy_records_and_history_names_the_deputy_role(api: Api) -> None:
    h = api.as_user(DEPUTY)
    mark = record_mark(api, h, subject_id="chem", work_kind="control", value=3)
    assert mark["recorded_by"] == "dep1"
    r = api.client.get(f"/api/v1/marks/{mark['mark_id']}/history", headers=h)
    assert r.status_code == 200, r.text
    [version] = r.json()["versions"]
    assert version["actor_id"] == "dep1"
    assert version["actor_role"] == "deputy"
    # The deputy may also correct a teacher's mark; the history names who did what.
    teachers = record_mark(api, api.as_user(TEACHER_MATH), value=4)
    r = api.client.post(
        f"/api/v1/marks/{teachers['mark_id']}/corrections",
        headers=h,
        json={"value": 5, "reason": "по решению учебной части"},
    )
    assert r.status_code == 200, r.text
    versions = api.client.get(f"/api/v1/marks/{teachers['mark_id']}/history", headers=h).json()[
        "versions"
    ]
    assert [(v["actor_id"], v["actor_role"]) for v in versions] == [
        ("t1", "teacher"),
        ("dep1", "deputy"),
    ]


def test_director_cannot_write(api: Api) -> None:
    teacher_mark = record_mark(api, api.as_user(TEACHER_MATH))
    h = api.as_user(DIRECTOR)
    assert_problem(api.client.post("/api/v1/marks", headers=h, json=mark_body()), 403, "forbidden")
    url = f"/api/v1/marks/{teacher_mark['mark_id']}"
    r = api.client.post(f"{url}/corrections", headers=h, json={"value": 3, "reason": "x"})
    assert_problem(r, 403, "forbidden")
    assert_problem(
        api.client.post(f"{url}/cancellation", headers=h, json={"reason": "x"}), 403, "forbidden"
    )
    r = api.client.post(
        "/api/v1/absences",
        headers=h,
        json={"student_id": "s01", "subject_id": "math", "lesson_date": "2026-09-02", "code": "Н"},
    )
    assert_problem(r, 403, "forbidden")
    # The director reads everything.
    assert [m["mark_id"] for m in journal(api, h)["marks"]] == [teacher_mark["mark_id"]]


def test_student_reads_own_journal_only_and_cannot_write(api: Api) -> None:
    mark = record_mark(api, api.as_user(TEACHER_MATH))
    h = api.as_user(STUDENT_S01)
    own = journal(api, h)
    assert own["student_id"] == "s01"
    assert own["year_id"] == "2026-2027"
    assert [m["mark_id"] for m in own["marks"]] == [mark["mark_id"]]
    assert api.client.get(f"/api/v1/marks/{mark['mark_id']}/history", headers=h).is_success
    assert_problem(api.client.get("/api/v1/students/s02/journal", headers=h), 404, "not-found")
    assert_problem(api.client.get("/api/v1/students/zz/journal", headers=h), 404, "not-found")
    assert_problem(api.client.post("/api/v1/marks", headers=h, json=mark_body()), 403, "forbidden")
    r = api.client.post(
        f"/api/v1/marks/{mark['mark_id']}/corrections", headers=h, json={"value": 3, "reason": "x"}
    )
    assert r.status_code in (403, 404)


def test_parent_reads_own_child_only(api: Api) -> None:
    other_child_mark = record_mark(api, api.as_user(TEACHER_MATH), student_id="s02")
    own_child_mark = record_mark(api, api.as_user(TEACHER_MATH), student_id="s01")
    h = api.as_user(PARENT_OF_S01)
    assert [m["mark_id"] for m in journal(api, h)["marks"]] == [own_child_mark["mark_id"]]
    assert_problem(api.client.get("/api/v1/students/s02/journal", headers=h), 404, "not-found")
    url = f"/api/v1/marks/{other_child_mark['mark_id']}/history"
    assert_problem(api.client.get(url, headers=h), 404, "not-found")
    assert api.client.get(
        f"/api/v1/marks/{own_child_mark['mark_id']}/history", headers=h
    ).is_success
    assert_problem(api.client.post("/api/v1/marks", headers=h, json=mark_body()), 403, "forbidden")


def test_subject_teacher_sees_own_subject_curator_sees_all(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    t2 = api.as_user(TEACHER_CHEM_CURATOR)
    math = record_mark(api, t1, value=5)
    chem = record_mark(api, t2, subject_id="chem", value=3)
    rus = record_mark(api, api.as_user("belova"), subject_id="rus", value=4)
    assert {m["mark_id"] for m in journal(api, t1)["marks"]} == {math["mark_id"]}
    assert {m["subject_id"] for m in journal(api, t1)["marks"]} == {"math"}
    assert {m["mark_id"] for m in journal(api, t2)["marks"]} == {
        math["mark_id"],
        chem["mark_id"],
        rus["mark_id"],
    }
    # Neither may read a student they never teach nor curate: t5 has no groups at all.
    r = api.client.get("/api/v1/students/s01/journal", headers=api.as_user(TEACHER_UNASSIGNED))
    assert r.status_code in (403, 404)


# --- a second organisation ------------------------------------------------------------------


@pytest.fixture
def two_orgs(api: Api, services: Services) -> Api:
    import_other_org(services)
    return api


def test_other_organisation_cannot_read_sght(two_orgs: Api) -> None:
    api = two_orgs
    mark = record_mark(api, api.as_user(TEACHER_MATH))
    for username in ("o.sokolova", "o.fedorov", "o.kuznetsova", "o.orlov"):
        h = api.as_user(username)
        for params in ({}, {"year_id": "2026-2027"}):
            r = api.client.get("/api/v1/students/s01/journal", headers=h, params=params)
            assert r.status_code in (403, 404), (username, r.text)
            assert "marks" not in r.json()
        r = api.client.get(f"/api/v1/marks/{mark['mark_id']}/history", headers=h)
        assert_problem(r, 404, "not-found")
    # Each organisation still reads its own.
    assert journal(api, api.as_user("o.kuznetsova"), "o-s01")["marks"] == []
    assert len(journal(api, api.as_user(DEPUTY))["marks"]) == 1


def test_other_organisation_cannot_change_sght_marks(two_orgs: Api) -> None:
    api = two_orgs
    t1 = api.as_user(TEACHER_MATH)
    mark = record_mark(api, t1, value=4)
    url = f"/api/v1/marks/{mark['mark_id']}"
    for username in ("o.sokolova", "o.kuznetsova"):
        h = api.as_user(username)
        r = api.client.post(f"{url}/corrections", headers=h, json={"value": 2, "reason": "x"})
        assert_problem(r, 404, "not-found")
        r = api.client.post(f"{url}/cancellation", headers=h, json={"reason": "x"})
        assert_problem(r, 404, "not-found")
    versions = api.client.get(f"{url}/history", headers=t1).json()["versions"]
    assert [(v["value"], v["status"]) for v in versions] == [(4, "active")]


def test_other_organisation_writes_never_reach_sght_journals(two_orgs: Api) -> None:
    api = two_orgs
    for username in ("o.sokolova", "o.kuznetsova", "o.orlov"):
        h = api.as_user(username)
        r = api.client.post("/api/v1/marks", headers=h, json=mark_body())
        assert r.status_code in (403, 404, 422), r.text
        r = api.client.post(
            "/api/v1/absences",
            headers=h,
            json={
                "student_id": "s01",
                "subject_id": "math",
                "lesson_date": "2026-09-02",
                "code": "Н",
            },
        )
        assert r.status_code in (403, 404, 422), r.text
    seen = journal(api, api.as_user(DEPUTY))
    assert seen["marks"] == [] and seen["absences"] == []
    # And the other organisation's teacher writes into its own student's journal.
    mine = record_mark(api, api.as_user("o.sokolova"), student_id="o-s01")
    assert mine["recorded_by"] == "o-t1"


def test_other_organisations_staff_writing_sght_student_is_403_or_404(two_orgs: Api) -> None:
    api = two_orgs
    for username in ("o.sokolova", "o.kuznetsova"):
        h = api.as_user(username)
        r = api.client.post("/api/v1/marks", headers=h, json=mark_body())
        assert r.status_code in (403, 404), (username, r.text)


def test_deputy_writing_for_an_unknown_student_is_not_found(api: Api) -> None:
    h = api.as_user(DEPUTY)
    r = api.client.post("/api/v1/marks", headers=h, json=mark_body(student_id="s99"))
    assert_problem(r, 404, "not-found")
