"""GET /api/v1/gradebook: a group's page in a subject for a period (API.md "Reading").

Every read names `min_position` (the last write's position), so it sees that write."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import openpyxl
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
TEACHER_HIST = "gromov"  # t4, hist in g1
GROUP_G1 = [f"s{n:02d}" for n in range(1, 26)]
S01_NAME = "Александров Артём Игоревич"
S25_NAME = "Яковлев Михаил Юрьевич"
SECOND = timedelta(seconds=1)


def get_gradebook(
    api: Api,
    headers: dict[str, str],
    min_position: int,
    subject_id: str = "math",
    period_id: str = "S1",
    **params: str,
) -> Any:
    query = {
        "group_id": "g1",
        "subject_id": subject_id,
        "period_id": period_id,
        "min_position": str(min_position),
        **params,
    }
    return api.client.get("/api/v1/gradebook", headers=headers, params=query)


def gradebook(api: Api, headers: dict[str, str], min_position: int, **params: str) -> Any:
    r = get_gradebook(api, headers, min_position, **params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["complete"] is True, body
    assert body["position"] >= min_position
    return body


def row_of(body: dict[str, Any], student_id: str = "s01") -> dict[str, Any]:
    [row] = [r for r in body["rows"] if r["student_id"] == student_id]
    return row


def post(api: Api, url: str, headers: dict[str, str], body: dict[str, Any], status: int) -> Any:
    r = api.client.post(url, headers=headers, json=body)
    assert r.status_code == status, r.text
    return r.json()


def test_gradebook_lists_lessons_students_marks_averages_absences_attestation(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    lesson = post(
        api,
        "/api/v1/lessons",
        t1,
        {
            "group_id": "g1",
            "subject_id": "math",
            "lesson_date": "2026-09-02",
            "lesson_no": 1,
            "topic": "Множества",
            "homework": "№ 1–3",
        },
        201,
    )
    control = record_mark(api, t1, work_kind="control", value=5, lesson_no=1)
    record_mark(api, t1, work_kind="oral", value=4, lesson_no=1)
    corrected = record_mark(api, t1, work_kind="oral", value=2, lesson_date="2026-09-03")
    post(
        api,
        f"/api/v1/marks/{corrected['mark_id']}/corrections",
        t1,
        {"value": 4, "reason": "ошибка при вводе"},
        200,
    )
    cancelled = record_mark(api, t1, work_kind="test", value=3, lesson_date="2026-09-03")
    post(
        api,
        f"/api/v1/marks/{cancelled['mark_id']}/cancellation",
        t1,
        {"reason": "не тот студент"},
        200,
    )
    absence = post(
        api, "/api/v1/absences", t1, absence_body(student_id="s02", lesson_no=1, code="Б"), 201
    )
    last = post(
        api,
        "/api/v1/attestations",
        t1,
        {"student_id": "s03", "subject_id": "math", "period_id": "S1", "result": "4"},
        201,
    )

    body = gradebook(api, t1, last["position"])
    assert (body["group_id"], body["subject_id"], body["period_id"]) == ("g1", "math", "S1")
    assert body["year_id"] == "2026-2027"
    [column] = body["columns"]
    assert column["lesson_id"] == lesson["lesson_id"]
    assert (column["lesson_date"], column["lesson_no"]) == ("2026-09-02", 1)
    assert (column["topic"], column["homework"]) == ("Множества", "№ 1–3")

    # Every student of g1 in S1, s25 too: it joins on 2026-10-06, inside the semester.
    assert [r["student_id"] for r in body["rows"]] == GROUP_G1
    assert row_of(body, "s25")["full_name"] == S25_NAME

    s01 = row_of(body)
    assert s01["full_name"] == S01_NAME
    kinds = [(m["lesson_date"], m["work_kind"], m["weight"], m["value"]) for m in s01["marks"]]
    # The cancelled test is gone; the corrected oral counts with its new value.
    assert sorted(kinds) == sorted(
        [
            ("2026-09-02", "control", 2, 5),
            ("2026-09-02", "oral", 1, 4),
            ("2026-09-03", "oral", 1, 4),
        ]
    )
    ids = {m["mark_id"] for m in s01["marks"]}
    assert control["mark_id"] in ids and corrected["mark_id"] in ids
    assert cancelled["mark_id"] not in ids
    # (5 + 4 + 4) / 3 = 4.333… → 4.33; (5·2 + 4 + 4) / 4 = 4.5: JSON numbers, not strings.
    assert type(s01["average"]) is float and s01["average"] == 4.33
    assert type(s01["weighted_average"]) is float and s01["weighted_average"] == 4.5
    assert s01["absences"] == []
    assert s01["attestation"] is None

    s02 = row_of(body, "s02")
    assert s02["marks"] == [] and s02["average"] is None and s02["weighted_average"] is None
    [missed] = s02["absences"]
    assert missed["absence_id"] == absence["absence_id"]
    assert (missed["lesson_date"], missed["lesson_no"], missed["code"]) == ("2026-09-02", 1, "Б")

    assert row_of(body, "s03")["attestation"]["result"] == "4"
    assert row_of(body, "s03")["attestation"]["attestation_id"] == last["attestation_id"]

    # Another subject's page and another period do not show math's entries.
    other = gradebook(api, api.as_user(DEPUTY), last["position"], subject_id="chem")
    assert all(r["marks"] == [] and r["attestation"] is None for r in other["rows"])
    s2 = gradebook(api, t1, last["position"], period_id="S2")
    assert s2["columns"] == []
    assert all(r["marks"] == [] and r["attestation"] is None for r in s2["rows"])


def test_averages_are_rounded_half_up_to_two_places(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    last = 0
    # s01: (5·2 + 4·5 + 3) / 8 = 4.125 weighted → 4.13; plain (5 + 20 + 3) / 7 = 4.0.
    for kind, value in [("control", 5), *[("oral", 4)] * 5, ("oral", 3)]:
        last = record_mark(api, t1, work_kind=kind, value=value)["position"]
    # s02: (5 + 5 + 4·5 + 3) / 8 = 4.125 → 4.13 (a float's round() would give 4.12).
    for value in (5, 5, 4, 4, 4, 4, 4, 3):
        last = record_mark(api, t1, student_id="s02", value=value)["position"]
    body = gradebook(api, t1, last)
    s01, s02 = row_of(body, "s01"), row_of(body, "s02")
    assert (s01["average"], s01["weighted_average"]) == (4.0, 4.13)
    assert (s02["average"], s02["weighted_average"]) == (4.13, 4.13)


def test_gradebook_as_of_shows_the_page_as_it_stood(api: Api, clock: FixedClock) -> None:
    t1 = api.as_user(TEACHER_MATH)
    t0 = clock.advance(minutes=10)  # later than the roster import
    mark = record_mark(api, t1, value=3)
    t1_at = clock.advance(minutes=10)
    corrected = post(
        api,
        f"/api/v1/marks/{mark['mark_id']}/corrections",
        t1,
        {"value": 5, "reason": "перепроверена работа"},
        200,
    )
    clock.advance(minutes=5)
    last = corrected["position"]

    before = gradebook(api, t1, last, as_of=(t0 - SECOND).isoformat())
    assert [r["student_id"] for r in before["rows"]] == GROUP_G1
    assert row_of(before)["marks"] == []
    assert row_of(before)["average"] is None

    for at in (t0, t0 + SECOND, t1_at - SECOND):
        then = gradebook(api, t1, last, as_of=at.isoformat())
        [m] = row_of(then)["marks"]
        assert m["value"] == 3, at
        assert (row_of(then)["average"], row_of(then)["weighted_average"]) == (3.0, 3.0)

    for body in (gradebook(api, t1, last, as_of=t1_at.isoformat()), gradebook(api, t1, last)):
        [m] = row_of(body)["marks"]
        assert m["value"] == 5
        assert row_of(body)["average"] == 5.0


def test_who_may_read_the_gradebook(api: Api) -> None:
    last = record_mark(api, api.as_user(TEACHER_MATH))["position"]
    for user in (TEACHER_MATH, TEACHER_CHEM_CURATOR, DEPUTY, DIRECTOR):
        r = get_gradebook(api, api.as_user(user), last)
        assert r.status_code == 200, (user, r.text)
        assert [m["value"] for m in row_of(r.json())["marks"]] == [5], user

    # A teacher of the group, but of another subject; a teacher of another subject asking
    # for their own page is fine.
    assert_problem(get_gradebook(api, api.as_user(TEACHER_RUS), last), 403, "forbidden")
    assert get_gradebook(api, api.as_user(TEACHER_RUS), last, "rus").status_code == 200
    assert_problem(get_gradebook(api, api.as_user(TEACHER_HIST), last), 403, "forbidden")

    for user in (STUDENT_S01, PARENT_OF_S01):
        r = get_gradebook(api, api.as_user(user), last)
        assert r.status_code in (403, 404), (user, r.text)
        assert_problem(r, r.status_code, "forbidden" if r.status_code == 403 else "not-found")

    deputy = api.as_user(DEPUTY)
    assert_problem(get_gradebook(api, deputy, last, period_id="S9"), 404, "not-found")
    r = api.client.get(
        "/api/v1/gradebook",
        headers=deputy,
        params={"group_id": "nope", "subject_id": "math", "period_id": "S1"},
    )
    assert_problem(r, 404, "not-found")
    r = api.client.get("/api/v1/gradebook", params={"group_id": "g1", "subject_id": "math"})
    assert_problem(r, 401, "unauthenticated")


@pytest.fixture
def marked(api: Api) -> int:
    """s01 has 5 (control) and 4 in math on 2026-09-02 lesson 1; s02 was absent there."""
    t1 = api.as_user(TEACHER_MATH)
    post(
        api,
        "/api/v1/lessons",
        t1,
        {"group_id": "g1", "subject_id": "math", "lesson_date": "2026-09-02", "lesson_no": 1},
        201,
    )
    record_mark(api, t1, work_kind="control", value=5, lesson_no=1)
    record_mark(api, t1, value=4, lesson_no=1)
    absence = post(api, "/api/v1/absences", t1, absence_body(student_id="s02", lesson_no=1), 201)
    position: int = absence["position"]
    return position


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def test_gradebook_as_csv_and_xlsx(api: Api, marked: int) -> None:
    h = api.as_user(TEACHER_MATH)
    r = get_gradebook(api, h, marked, format="csv")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    table = read_csv(r.content)
    header = table[0]
    assert header[0] == "ФИО"
    assert "02.09.2026 №1" in header
    [s01] = [row for row in table[1:] if row[0] == S01_NAME]
    # The lesson's cell holds both marks (their order within a lesson is not promised).
    assert sorted(s01[header.index("02.09.2026 №1")].split()) == ["4", "5"]
    # Decimals with a comma, as Russian Excel reads them.
    assert s01[header.index("Средний балл")] == "4,5"
    assert s01[header.index("Средневзвешенный балл")] == "4,67"
    assert len(table) == 1 + len(GROUP_G1)

    # The Accept header chooses the same file.
    r = get_gradebook(api, {**h, "Accept": "text/csv"}, marked)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert read_csv(r.content)[0][0] == "ФИО"

    r = get_gradebook(api, h, marked, format="xlsx")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert "Математика" in str(rows[0][0])  # the title row
    rows = rows[1:]
    assert rows[0][0] == "ФИО"
    [s01_row] = [row for row in rows[1:] if row[0] == S01_NAME]
    assert s01_row[rows[0].index("Средний балл")] == 4.5
    [s02_row] = [row for row in rows[1:] if row[0] == "Андреева Полина Сергеевна"]
    lesson = rows[0].index("02.09.2026 №1")
    assert s02_row[lesson] == "н"
    # Each of the lesson's two marks is a number in its own cell (the header spans both).
    assert sorted(s01_row[lesson : lesson + 2]) == [4, 5]
    assert rows[0][lesson + 1] is None
    assert sheet.freeze_panes == "B3"  # below the title row and the header


def test_marks_without_a_lesson_record_get_their_column_in_csv_and_xlsx(api: Api) -> None:
    """A teacher who records marks without POST /lessons (issue 14): the JSON lists no lesson,
    as before, while the CSV and the XLSX give the mark's day a column, as the printed journal
    does, and the XLSX cell holds the mark as a number."""
    t1 = api.as_user(TEACHER_MATH)
    record_mark(api, t1, value=5, lesson_date="2026-09-01")
    position = record_mark(api, t1, value=3, lesson_date="2026-09-02", lesson_no=2)["position"]
    body = gradebook(api, t1, position)
    assert body["columns"] == []
    assert sorted(m["value"] for m in row_of(body)["marks"]) == [3, 5]

    table = read_csv(get_gradebook(api, t1, position, format="csv").content)
    header = table[0]
    assert header[1:3] == ["01.09.2026", "02.09.2026 №2"]
    [s01] = [row for row in table[1:] if row[0] == S01_NAME]
    assert s01[1:3] == ["5", "3"]

    r = get_gradebook(api, t1, position, format="xlsx")
    assert r.status_code == 200, r.text
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert rows[0][1:3] == ["01.09.2026", "02.09.2026 №2"]
    [s01_row] = [row for row in rows[1:] if row[0] == S01_NAME]
    assert s01_row[1:3] == [5, 3]
    assert all(isinstance(v, int) for v in s01_row[1:3])
