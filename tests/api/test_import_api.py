"""POST /api/v1/import: a bad document changes nothing; the same one twice records nothing."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import (
    ADMIN,
    TEACHER_UNASSIGNED,
    assert_problem,
    example_roster,
    mark_body,
    record_mark,
)
from tests.conftest import PASSWORD, Api


def post_import(api: Api, doc: dict[str, Any], headers: dict[str, str]) -> Any:
    return api.client.post("/api/v1/import", headers=headers, json=doc)


def staff_index(doc: dict[str, Any], person_id: str) -> int:
    return next(i for i, s in enumerate(doc["staff"]) if s["id"] == person_id)


def error_paths(problem: dict[str, Any]) -> set[str]:
    paths = set()
    for e in problem["errors"]:
        paths.add(e.get("path") or e.get("field"))
        assert e.get("message"), e
    return paths


def test_bad_document_names_every_failing_path_and_changes_nothing(api: Api) -> None:
    admin = api.as_user(ADMIN)
    t5 = api.as_user(TEACHER_UNASSIGNED)
    doc = example_roster()
    t3 = staff_index(doc, "t3")
    doc["staff"][t3]["password"] = "short"
    doc["parents"][0]["children"] = ["s99"]
    doc["assignments"].append({"teacher_id": "t5", "group_id": "g1", "subject_id": "math"})
    doc["assignments"].append({"teacher_id": "t4", "group_id": "g1", "subject_id": "astronomy"})
    doc["subjects"].append({"id": "bio", "name": "Биология"})

    r = post_import(api, doc, admin)
    problem = assert_problem(r, 422, "validation-error")
    assert error_paths(problem) == {
        f"$.staff[{t3}].password",
        "$.parents[0].children[0]",
        "$.assignments[5].subject_id",
    }
    # Passwords are never echoed back.
    assert "short" not in r.text and PASSWORD not in r.text

    # Nothing of the document took effect: t5 still has no assignment ...
    r = api.client.post("/api/v1/marks", headers=t5, json=mark_body())
    assert_problem(r, 403, "forbidden")
    # ... t3 keeps the old password and p01 still reads s01.
    assert api.client.get("/api/v1/students/s01/journal", headers=api.as_user("belova")).is_success
    parent = api.as_user("aleksandrova")
    assert api.client.get("/api/v1/students/s01/journal", headers=parent).status_code == 200
    # The very same document without its errors is news: it had never been applied.
    doc["staff"][t3]["password"] = PASSWORD
    doc["parents"][0]["children"] = ["s01"]
    doc["assignments"].pop()
    r = post_import(api, doc, admin)
    assert r.status_code == 200, r.text
    assert r.json()["events"] > 0


def test_malformed_documents_name_their_paths(api: Api) -> None:
    admin = api.as_user(ADMIN)
    doc = example_roster()
    del doc["organization"]
    doc["academic_year"]["rules"]["lowest_mark"] = 3
    doc["groups"][0]["students"][0]["from"] = "not-a-date"
    problem = assert_problem(post_import(api, doc, admin), 422, "validation-error")
    paths = error_paths(problem)
    assert "$.organization" in paths
    assert "$.academic_year.rules.lowest_mark" in paths
    assert "$.groups[0].students[0].from" in paths

    for body in ([], "roster", {"organization": {"id": "sght", "name": "x"}}):
        r = api.client.post("/api/v1/import", headers=admin, json=body)
        assert_problem(r, 422, "validation-error")


def test_reimporting_the_same_document_records_nothing(api: Api) -> None:
    admin = api.as_user(ADMIN)
    doc = example_roster()
    for _ in range(2):
        r = post_import(api, doc, admin)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["events"] == 0
        assert body["organization_id"] == "sght"
        assert body["year_id"] == "2026-2027"


def test_changed_document_records_the_new_assignment(api: Api) -> None:
    admin = api.as_user(ADMIN)
    t5 = api.as_user(TEACHER_UNASSIGNED)
    assert_problem(api.client.post("/api/v1/marks", headers=t5, json=mark_body()), 403, "forbidden")

    doc = example_roster()
    doc["assignments"].append({"teacher_id": "t5", "group_id": "g1", "subject_id": "math"})
    r = post_import(api, doc, admin)
    assert r.status_code == 200, r.text
    assert r.json()["events"] > 0
    assert isinstance(r.json()["position"], int)

    mark = record_mark(api, t5, work_kind="control")
    assert mark["recorded_by"] == "t5"
    assert mark["weight"] == 2
    # Applied once: the same changed document again records nothing.
    assert post_import(api, doc, admin).json()["events"] == 0
    # Still not chem.
    r = api.client.post("/api/v1/marks", headers=t5, json=mark_body(subject_id="chem"))
    assert_problem(r, 403, "forbidden")


def test_withdrawn_assignment_ends_the_right_to_write(api: Api) -> None:
    admin = api.as_user(ADMIN)
    doc = example_roster()
    doc["assignments"] = [a for a in doc["assignments"] if a["teacher_id"] != "t4"]
    r = post_import(api, doc, admin)
    assert r.status_code == 200, r.text
    assert r.json()["events"] > 0
    r = api.client.post(
        "/api/v1/marks", headers=api.as_user("gromov"), json=mark_body(subject_id="hist")
    )
    assert_problem(r, 403, "forbidden")


def test_weight_change_never_changes_recorded_marks(api: Api) -> None:
    admin = api.as_user(ADMIN)
    t1 = api.as_user("sokolova")
    before = record_mark(api, t1, work_kind="control")
    assert before["weight"] == 2
    doc = example_roster()
    doc["academic_year"]["rules"]["weights"]["control"] = 3
    r = post_import(api, doc, admin)
    assert r.status_code == 200 and r.json()["events"] > 0, r.text
    after = record_mark(api, t1, work_kind="control", student_id="s02")
    assert after["weight"] == 3
    marks = api.client.get("/api/v1/students/s01/journal", headers=t1).json()["marks"]
    assert [m["weight"] for m in marks] == [2]
