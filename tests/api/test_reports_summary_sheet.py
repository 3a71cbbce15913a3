"""GET /api/v1/years/{year_id}/summary-sheet: the final result per student per subject
(API.md "Reading", R-ATT-5, R-ARC-1).

Every read names `min_position` (the last write's position), so it sees that write."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest

from tests.api.helpers import (
    ADMIN,
    DEPUTY,
    DIRECTOR,
    PARENT_OF_S01,
    STUDENT_S01,
    TEACHER_CHEM_CURATOR,
    TEACHER_MATH,
    assert_problem,
    example_roster,
    record_mark,
)
from tests.conftest import Api

TEACHER_RUS = "belova"  # t3, rus in g1
TEACHER_HIST = "gromov"  # t4, hist in g1
URL = "/api/v1/years/2026-2027/summary-sheet"
SUBJECTS = {"chem": "Химия", "hist": "История", "math": "Математика", "rus": "Русский язык"}
S01_NAME = "Александров Артём Игоревич"


def get_sheet(api: Api, headers: dict[str, str], min_position: int, **params: str) -> Any:
    query = {"group_id": "g1", "min_position": str(min_position), **params}
    return api.client.get(URL, headers=headers, params=query)


def sheet(api: Api, headers: dict[str, str], min_position: int, **params: str) -> Any:
    r = get_sheet(api, headers, min_position, **params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["complete"] is True, body
    assert body["position"] >= min_position
    return body


def row_of(body: dict[str, Any], student_id: str = "s01") -> dict[str, Any]:
    [row] = [r for r in body["rows"] if r["student_id"] == student_id]
    return row


def s1_of(row: dict[str, Any], subject_id: str) -> dict[str, Any]:
    [s1] = [p for p in row["periods"][subject_id] if p["period_id"] == "S1"]
    return s1


@pytest.fixture
def semester(api: Api) -> int:
    """s01's S1: math attested "5" (over marks 3, 3); chem 4, 5; rus 3 (control), 4;
    hist 3, 3, 4 and a cancelled 5. s02 has chem 3, 4. Returns the last write's position."""
    t1 = api.as_user(TEACHER_MATH)
    record_mark(api, t1, value=3)
    record_mark(api, t1, value=3, lesson_date="2026-09-03")
    t2 = api.as_user(TEACHER_CHEM_CURATOR)
    for value in (4, 5):
        record_mark(api, t2, subject_id="chem", value=value)
    for value in (3, 4):
        record_mark(api, t2, student_id="s02", subject_id="chem", value=value)
    t3 = api.as_user(TEACHER_RUS)
    record_mark(api, t3, subject_id="rus", value=3, work_kind="control")
    record_mark(api, t3, subject_id="rus", value=4)
    t4 = api.as_user(TEACHER_HIST)
    for value in (3, 3, 4):
        record_mark(api, t4, subject_id="hist", value=value)
    cancelled = record_mark(api, t4, subject_id="hist", value=5)
    r = api.client.post(
        f"/api/v1/marks/{cancelled['mark_id']}/cancellation",
        headers=t4,
        json={"reason": "не тот студент"},
    )
    assert r.status_code == 200, r.text
    r = api.client.post(
        "/api/v1/attestations",
        headers=t1,
        json={"student_id": "s01", "subject_id": "math", "period_id": "S1", "result": "5"},
    )
    assert r.status_code == 201, r.text
    position: int = r.json()["position"]
    return position


def test_summary_sheet_attested_or_mean_of_current_marks(api: Api, semester: int) -> None:
    body = sheet(api, api.as_user(DEPUTY), semester)
    assert (body["year_id"], body["group_id"]) == ("2026-2027", "g1")
    assert body["subjects"] == SUBJECTS
    assert [r["student_id"] for r in body["rows"]] == [f"s{n:02d}" for n in range(1, 26)]

    s01 = row_of(body)
    assert s01["full_name"] == S01_NAME
    assert set(s01["results"]) == set(SUBJECTS)
    # math: the attestation result, though the marks' mean would be 3.
    # chem: (4 + 5) / 2 = 4.5 → "5" (half up); rus: (3 + 4) / 2 = 3.5 → "4", the plain mean
    # although the 3 is a control work of weight 2; hist: 10 / 3 = 3.33 → "3", the cancelled
    # 5 not counted.
    assert s01["results"] == {"math": "5", "chem": "5", "rus": "4", "hist": "3"}
    assert s1_of(s01, "math")["result"] == "5" and s1_of(s01, "math")["computed"] is False
    for subject_id in ("chem", "rus", "hist"):
        assert s1_of(s01, subject_id)["computed"] is True, subject_id
        assert s1_of(s01, subject_id)["result"] == s01["results"][subject_id]
    # S2 has no marks and no result yet: the final result is S1's.
    for subject_id in SUBJECTS:
        periods = s01["periods"][subject_id]
        assert [p["period_id"] for p in periods] == ["S1", "S2"]
        assert (periods[1]["result"], periods[1]["computed"]) == (None, False)

    s02 = row_of(body, "s02")
    assert s02["results"] == {"chem": "4", "math": None, "rus": None, "hist": None}
    assert s1_of(s02, "math") == {"period_id": "S1", "result": None, "computed": False}
    assert row_of(body, "s25")["results"] == dict.fromkeys(SUBJECTS)


def test_explain_lists_the_marks_behind_a_computed_result(api: Api, semester: int) -> None:
    body = sheet(api, api.as_user(DEPUTY), semester, explain="true")
    s01 = row_of(body)
    chem = s1_of(s01, "chem")["explanation"]
    assert chem["method"] == "arithmetic_mean"
    assert sorted(m["value"] for m in chem["marks"]) == [4, 5]
    assert all(m["lesson_date"] == "2026-09-02" and m["mark_id"] for m in chem["marks"])
    hist = s1_of(s01, "hist")["explanation"]
    assert sorted(m["value"] for m in hist["marks"]) == [3, 3, 4]  # not the cancelled 5
    math = s1_of(s01, "math")["explanation"]
    assert math["method"] == "attestation"

    # Without explain there is no explanation.
    plain = sheet(api, api.as_user(DEPUTY), semester)
    assert "explanation" not in s1_of(row_of(plain), "chem")


def test_who_may_read_the_summary_sheet(api: Api, semester: int) -> None:
    for user in (TEACHER_CHEM_CURATOR, DEPUTY, DIRECTOR, ADMIN):
        assert sheet(api, api.as_user(user), semester)["rows"], user
    # A teacher of the group who is not its curator.
    for user in (TEACHER_MATH, TEACHER_RUS):
        assert_problem(get_sheet(api, api.as_user(user), semester), 403, "forbidden")
    for user in (STUDENT_S01, PARENT_OF_S01):
        assert get_sheet(api, api.as_user(user), semester).status_code in (403, 404), user
    deputy = api.as_user(DEPUTY)
    assert_problem(get_sheet(api, deputy, semester, group_id="nope"), 404, "not-found")
    r = api.client.get(
        "/api/v1/years/1999-2000/summary-sheet", headers=deputy, params={"group_id": "g1"}
    )
    assert_problem(r, 404, "not-found")


def test_summary_sheet_as_xlsx_and_csv(api: Api, semester: int) -> None:
    h = api.as_user(DEPUTY)
    r = get_sheet(api, h, semester, format="xlsx")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    assert "группа ХТ-21" in str(rows[0][0])  # the title row
    rows = rows[1:]
    header = rows[0]
    assert header[0] == "ФИО"
    assert sorted(header[1:]) == sorted(SUBJECTS.values())
    [s01] = [row for row in rows[1:] if row[0] == S01_NAME]
    # Marks are numbers.
    assert s01[header.index("Химия")] == 5
    assert s01[header.index("Математика")] == 5
    assert s01[header.index("История")] == 3
    assert len(rows) == 1 + 25

    r = get_sheet(api, h, semester, format="csv")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert table[0][0] == "ФИО"
    [s01_csv] = [row for row in table[1:] if row[0] == S01_NAME]
    assert s01_csv[table[0].index("Русский язык")] == "4"


def test_subjects_come_in_the_rosters_order_not_by_id(api: Api, semester: int) -> None:
    """examples/roster.json lists math, chem, rus, hist (issue 14): the sheet too, in JSON, CSV
    and XLSX; a roster listing them otherwise reorders the sheet, and records that once."""
    h = api.as_user(DEPUTY)
    listed = ["math", "chem", "rus", "hist"]
    assert list(sheet(api, h, semester)["subjects"]) == listed
    r = get_sheet(api, h, semester, format="csv")
    header = next(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert header[1:] == [SUBJECTS[s] for s in listed]

    doc = example_roster()
    doc["subjects"].reverse()
    admin = api.as_user(ADMIN)
    r = api.client.post("/api/v1/import", headers=admin, json=doc)
    assert r.status_code == 200, r.text
    assert r.json()["events"] == 1  # the new order, nothing else
    position = r.json()["position"]
    assert list(sheet(api, h, position)["subjects"]) == listed[::-1]
    book = openpyxl.load_workbook(io.BytesIO(get_sheet(api, h, position, format="xlsx").content))
    header = [c.value for c in next(book.active.iter_rows(min_row=2, max_row=2))]
    assert header[1:] == [SUBJECTS[s] for s in listed[::-1]]
    r = api.client.post("/api/v1/import", headers=admin, json=doc)
    assert r.status_code == 200 and r.json()["events"] == 0, r.text
