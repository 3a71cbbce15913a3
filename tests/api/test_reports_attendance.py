"""GET /api/v1/attendance: lessons missed per student by code and source, parents' notices,
unexplained absences (API.md "Reading", R-ABS-3, R-ABS-5).

Every read names `min_position` (the last write's position), so it sees that write."""

from __future__ import annotations

import csv
import io
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
)
from tests.conftest import Api

TEACHER_RUS = "belova"  # t3, rus in g1
SEPTEMBER = {"group_id": "g1", "from_date": "2026-09-01", "to_date": "2026-09-30"}
NO_ABSENCE = {"Н": 0, "НУ": 0, "НН": 0, "Б": 0}


def get_attendance(api: Api, headers: dict[str, str], min_position: int, **params: str) -> Any:
    query = {**SEPTEMBER, "min_position": str(min_position), **params}
    return api.client.get("/api/v1/attendance", headers=headers, params=query)


def attendance(api: Api, headers: dict[str, str], min_position: int, **params: str) -> Any:
    r = get_attendance(api, headers, min_position, **params)
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


def absent(api: Api, headers: dict[str, str], status: int = 201, **overrides: Any) -> Any:
    return post(api, "/api/v1/absences", headers, absence_body(**overrides), status)


def test_absences_counted_by_code_withdrawn_not_counted(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    absent(api, t1, lesson_date="2026-09-01", lesson_no=1, code="Н")
    absent(api, t1, lesson_date="2026-09-02", lesson_no=2, code="НУ", reason="справка")
    absent(api, t1, student_id="s02", lesson_no=1, code="Б")
    withdrawn = absent(api, t1, student_id="s03", lesson_date="2026-09-03", lesson_no=1)
    post(
        api,
        f"/api/v1/absences/{withdrawn['absence_id']}/withdrawal",
        t1,
        {"reason": "был на уроке"},
        200,
    )
    # The curator records one too (another subject of the group).
    last = absent(
        api, api.as_user(TEACHER_CHEM_CURATOR), student_id="s02", subject_id="rus", code="НН"
    )["position"]

    body = attendance(api, api.as_user(DEPUTY), last)
    assert body["group_id"] == "g1"
    assert (body["from_date"], body["to_date"]) == ("2026-09-01", "2026-09-30")
    # Every student in the group during September; s25 joins only on 2026-10-06.
    assert [r["student_id"] for r in body["rows"]] == [f"s{n:02d}" for n in range(1, 25)]

    s01 = row_of(body)
    assert s01["full_name"] == "Александров Артём Игоревич"
    assert s01["absent_lessons"] == 2
    assert s01["by_code"] == {**NO_ABSENCE, "Н": 1, "НУ": 1}
    assert s01["by_source"] == {"teacher": 2, "curator": 0, "parent_notice": 0}

    s02 = row_of(body, "s02")
    assert s02["absent_lessons"] == 2
    assert s02["by_code"] == {**NO_ABSENCE, "Б": 1, "НН": 1}
    assert s02["by_source"] == {"teacher": 1, "curator": 1, "parent_notice": 0}

    s03 = row_of(body, "s03")  # withdrawn: the student was there
    assert (s03["absent_lessons"], s03["by_code"]) == (0, NO_ABSENCE)

    # The date range bounds the count.
    first_day = attendance(api, api.as_user(DEPUTY), last, to_date="2026-09-01")
    assert row_of(first_day)["absent_lessons"] == 1
    assert row_of(first_day)["by_code"]["Н"] == 1
    assert row_of(first_day, "s02")["absent_lessons"] == 0

    # Any teacher of the group and its curator read it; others do not.
    for user in (TEACHER_MATH, TEACHER_RUS, TEACHER_CHEM_CURATOR):
        assert get_attendance(api, api.as_user(user), last).status_code == 200, user
    assert_problem(get_attendance(api, api.as_user(TEACHER_UNASSIGNED), last), 403, "forbidden")
    for user in (STUDENT_S01, PARENT_OF_S01):
        assert get_attendance(api, api.as_user(user), last).status_code in (403, 404), user


def test_parent_notice_counts_every_lesson_of_the_day_but_the_attended_one(
    api: Api, clock: FixedClock
) -> None:
    # Thursday 2026-09-03: the parent notifies Friday 4th to Sunday 6th (Sunday is no school day).
    notice = post(
        api,
        "/api/v1/absence-notices",
        api.as_user(PARENT_OF_S01),
        {
            "student_id": "s01",
            "from_date": "2026-09-04",
            "to_date": "2026-09-06",
            "reason": "семейные обстоятельства",
        },
        201,
    )
    assert len(notice["absence_ids"]) == 2  # Friday and Saturday
    friday = next(a for a in notice["absence_ids"] if a.endswith("2026-09-04"))

    clock.advance(days=1)  # Friday
    t1, t2 = api.as_user(TEACHER_MATH), api.as_user(TEACHER_CHEM_CURATOR)
    lesson = {"group_id": "g1", "lesson_date": "2026-09-04"}
    post(api, "/api/v1/lessons", t1, {**lesson, "subject_id": "math", "lesson_no": 1}, 201)
    post(api, "/api/v1/lessons", t1, {**lesson, "subject_id": "math", "lesson_no": 2}, 201)
    post(api, "/api/v1/lessons", t2, {**lesson, "subject_id": "chem", "lesson_no": 3}, 201)
    # s01 came to math lesson 2 after all.
    withdrawn = post(
        api,
        f"/api/v1/absences/{friday}/withdrawal",
        t1,
        {"reason": "пришёл на второй урок", "subject_id": "math", "lesson_no": 2},
        200,
    )
    last = withdrawn["position"]

    body = attendance(api, api.as_user(DEPUTY), last)
    s01 = row_of(body)
    # Friday: math 1 and chem 3 (math 2 attended); Saturday without recorded lessons: once.
    assert s01["absent_lessons"] == 3
    assert s01["by_code"] == {**NO_ABSENCE, "НУ": 3}
    assert s01["by_source"] == {"teacher": 0, "curator": 0, "parent_notice": 3}
    assert body["unexplained"] == []

    friday_only = attendance(
        api, api.as_user(DEPUTY), last, from_date="2026-09-04", to_date="2026-09-04"
    )
    assert row_of(friday_only)["absent_lessons"] == 2

    # The math page shows the notice at lesson 1 only.
    r = api.client.get(
        "/api/v1/gradebook",
        headers=t1,
        params={"group_id": "g1", "subject_id": "math", "period_id": "S1", "min_position": last},
    )
    assert r.status_code == 200, r.text
    [s01_page] = [row for row in r.json()["rows"] if row["student_id"] == "s01"]
    shown = [
        (a["lesson_date"], a["lesson_no"], a["code"], a["source"]) for a in s01_page["absences"]
    ]
    assert shown == [("2026-09-04", 1, "НУ", "parent_notice")]


def test_unexplained_lists_old_absences_still_coded_n(api: Api, clock: FixedClock) -> None:
    t1 = api.as_user(TEACHER_MATH)
    old = absent(api, t1, lesson_date="2026-09-01", lesson_no=1, code="Н")
    absent(api, t1, student_id="s02", lesson_date="2026-09-01", lesson_no=1, code="НУ")
    absent(api, t1, student_id="s04", lesson_date="2026-09-01", lesson_no=1, code="НН")
    later = absent(api, t1, student_id="s05", lesson_date="2026-09-01", lesson_no=1, code="Н")

    # On the day itself nothing is overdue yet.
    assert attendance(api, t1, later["position"])["unexplained"] == []

    clock.advance(days=7)  # Thursday 2026-09-10
    t1 = api.as_user(TEACHER_MATH)
    # s05's reason is found; s03 misses a lesson today (fresh).
    post(
        api,
        f"/api/v1/absences/{later['absence_id']}/reason",
        t1,
        {"code": "Б", "reason": "справка от врача"},
        200,
    )
    fresh = absent(api, t1, student_id="s03", lesson_date="2026-09-10", lesson_no=1, code="Н")

    body = attendance(api, t1, fresh["position"])
    [item] = body["unexplained"]
    assert item["absence_id"] == old["absence_id"]
    assert (item["student_id"], item["lesson_date"], item["lesson_no"]) == ("s01", "2026-09-01", 1)
    assert item["subject_id"] == "math"
    assert item["days_open"] == 9
    assert item["full_name"] == "Александров Артём Игоревич"
    # The fresh absence is counted, just not overdue.
    assert row_of(body, "s03")["by_code"]["Н"] == 1

    assert attendance(api, t1, fresh["position"], unexplained_days="9")["unexplained"] == []
    overdue = attendance(api, t1, fresh["position"], unexplained_days="0")["unexplained"]
    assert [u["student_id"] for u in overdue] == ["s01"]


def test_attendance_as_csv(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    absent(api, t1, lesson_no=1, code="Н")
    last = absent(api, t1, lesson_no=2, code="Б")["position"]
    r = get_attendance(api, t1, last, format="csv")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    assert text.startswith("ФИО;Пропущено уроков;")
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = table[0]
    assert header[:6] == ["ФИО", "Пропущено уроков", "Н", "НУ", "НН", "Б"]
    [s01] = [row for row in table[1:] if row[0] == "Александров Артём Игоревич"]
    assert s01[:6] == ["Александров Артём Игоревич", "2", "1", "0", "0", "1"]
    assert len(table) == 1 + 24

    r = get_attendance(api, {**t1, "Accept": "text/csv"}, last)
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.decode("utf-8-sig").startswith("ФИО;Пропущено уроков;")


def test_notice_and_teachers_absence_for_one_lesson_count_once(api: Api, clock: FixedClock) -> None:
    post(
        api,
        "/api/v1/absence-notices",
        api.as_user(PARENT_OF_S01),
        {"student_id": "s01", "from_date": "2026-09-04", "to_date": "2026-09-04", "reason": "врач"},
        201,
    )
    clock.advance(days=1)
    t1 = api.as_user(TEACHER_MATH)
    post(
        api,
        "/api/v1/lessons",
        t1,
        {"group_id": "g1", "subject_id": "math", "lesson_date": "2026-09-04", "lesson_no": 1},
        201,
    )
    last = absent(api, t1, lesson_date="2026-09-04", lesson_no=1, code="НУ")["position"]
    s01 = row_of(attendance(api, t1, last))
    assert s01["absent_lessons"] == 1
    assert sum(s01["by_code"].values()) == 1
