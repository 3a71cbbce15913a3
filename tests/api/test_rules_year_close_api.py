"""R-ARC-7: a closed year accepts no more changes, from anyone; reads go on."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from api.bootstrap import Services
from domain import ids
from domain.access import rule_for
from tests.api.helpers import (
    ADMIN,
    DEPUTY,
    DIRECTOR,
    PARENT_OF_S01,
    STUDENT_S01,
    TEACHER_MATH,
    absence_body,
    assert_problem,
    example_roster,
    journal,
    mark_body,
    record_mark,
)
from tests.conftest import SCHOOL_MORNING, Api

YEAR = "2026-2027"
CLOSE = f"/api/v1/years/{YEAR}/close"


def stored_events(services: Services, aggregate_id: Any) -> int:
    return len(list(services.journal.events.get(aggregate_id)))


def test_only_a_deputy_or_admin_closes_and_the_count_covers_the_years_streams(
    api: Api, imported: Services
) -> None:
    for who in (TEACHER_MATH, DIRECTOR, STUDENT_S01, PARENT_OF_S01):
        r = api.client.post(CLOSE, headers=api.as_user(who))
        assert r.status_code in (403, 404), (who, r.text)
    assert_problem(api.client.post(CLOSE, headers=api.as_user(TEACHER_MATH)), 403, "forbidden")
    r = api.client.post("/api/v1/years/1999-2000/close", headers=api.as_user(DEPUTY))
    assert_problem(r, 404, "not-found")

    year_stream = ids.academic_year_id("sght", YEAR)
    roster_only = stored_events(imported, year_stream)
    assert roster_only > 0
    # A mark opens s01's journal (2 events); a lesson opens g1's math page (2 events).
    t1 = api.as_user(TEACHER_MATH)
    record_mark(api, t1)
    r = api.client.post(
        "/api/v1/lessons",
        headers=t1,
        json={
            "group_id": "g1",
            "subject_id": "math",
            "lesson_date": "2026-09-02",
            "lesson_no": 1,
            "topic": "Вводный урок",
        },
    )
    assert r.status_code == 201, r.text

    r = api.client.post(CLOSE, headers=api.as_user(DEPUTY), json={"reason": "тест"})
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["year_id"] == YEAR
    assert datetime.fromisoformat(closed["closed_at"]) == SCHOOL_MORNING
    assert closed["closed_by"] == "dep1"
    assert isinstance(closed["position"], int) and closed["position"] > 0
    count = closed["event_count"]
    assert isinstance(count, int) and not isinstance(count, bool)
    # The year's own stream (with the closing event), the journal and the subject page.
    streams = [
        year_stream,
        ids.journal_id("sght", YEAR, "s01"),
        ids.subject_page_id("sght", YEAR, "g1", "math"),
    ]
    assert stored_events(imported, year_stream) == roster_only + 1
    assert count == sum(stored_events(imported, s) for s in streams) == roster_only + 1 + 2 + 2

    # Closing again is a write into a closed year, for the admin too.
    for who in (DEPUTY, ADMIN):
        assert_problem(api.client.post(CLOSE, headers=api.as_user(who)), 409, "year-closed")


_PARAM: dict[str, str] = {}


def test_a_closed_year_refuses_every_write_and_still_reads(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    dep = api.as_user(DEPUTY)
    admin = api.as_user(ADMIN)
    parent = api.as_user(PARENT_OF_S01)
    mark = record_mark(api, t1)
    r = api.client.post("/api/v1/absences", headers=t1, json=absence_body())
    assert r.status_code == 201, r.text
    absence = r.json()
    r = api.client.post(
        "/api/v1/lessons",
        headers=t1,
        json={"group_id": "g1", "subject_id": "math", "lesson_date": "2026-09-02", "lesson_no": 1},
    )
    assert r.status_code == 201, r.text
    lesson = r.json()
    r = api.client.post(
        "/api/v1/attestations",
        headers=t1,
        json={"student_id": "s02", "subject_id": "math", "period_id": "S1", "result": "а/з"},
    )
    assert r.status_code == 201, r.text
    attestation = r.json()

    r = api.client.post(CLOSE, headers=dep, json={"reason": "тест"})
    assert r.status_code == 200, r.text

    m, a, les = mark["mark_id"], absence["absence_id"], lesson["lesson_id"]
    t = attestation["attestation_id"]
    _PARAM.update(
        {
            f"/{m}/": "/{mark_id}/",
            f"/{a}/": "/{absence_id}/",
            f"/{les}/": "/{lesson_id}/",
            f"/{t}/": "/{attestation_id}/",
        }
    )
    writes: list[tuple[str, dict[str, Any]]] = [
        ("/api/v1/marks", mark_body(reason="после закрытия")),
        (f"/api/v1/marks/{m}/corrections", {"value": 4, "reason": "ошибка"}),
        (f"/api/v1/marks/{m}/cancellation", {"reason": "ошибка"}),
        ("/api/v1/absences", absence_body(lesson_no=2, reason="после закрытия")),
        (f"/api/v1/absences/{a}/reason", {"code": "НУ", "reason": "справка"}),
        (f"/api/v1/absences/{a}/withdrawal", {"reason": "был на уроке"}),
        (
            "/api/v1/absence-notices",
            {
                "student_id": "s01",
                "from_date": "2026-09-04",
                "to_date": "2026-09-05",
                "reason": "семейные обстоятельства",
            },
        ),
        (
            "/api/v1/attestations",
            {"student_id": "s01", "subject_id": "math", "period_id": "S1", "result": "5"},
        ),
        (
            f"/api/v1/attestations/{attestation['attestation_id']}/corrections",
            {"result": "4", "reason": "пересдача"},
        ),
        (
            "/api/v1/lessons",
            {"group_id": "g1", "subject_id": "math", "lesson_date": "2026-09-03", "lesson_no": 2},
        ),
        (f"/api/v1/lessons/{les}/changes", {"topic": "Новая тема"}),
        (f"/api/v1/lessons/{les}/substitution", {"teacher_id": "t5", "reason": "болезнь"}),
        (f"/api/v1/lessons/{les}/cancellation", {"reason": "отменён"}),
    ]
    # Whoever may make a write answers year-closed; a role the access table never lets make
    # it (an admin's marks, a teacher's substitution) is refused as before, by the gate.
    for who, h in (("teacher", t1), ("deputy", dep), ("admin", admin)):
        for path, body in writes:
            r = api.client.post(path, headers=h, json=body)
            template = re.sub(
                r"/[0-9a-f-]{36}/|/[ma][0-9a-f]{64}/", lambda m: _PARAM[m.group(0)], path
            )
            if who in rule_for("POST", template).roles:
                assert_problem(r, 409, "year-closed")
            else:
                assert_problem(r, 403, "forbidden")
    notice = writes[6][1]
    assert_problem(
        api.client.post("/api/v1/absence-notices", headers=parent, json=notice), 409, "year-closed"
    )

    # Reads go on, and show the year as it was closed.
    page = journal(api, t1)
    assert [(x["mark_id"], x["value"], x["status"]) for x in page["marks"]] == [(m, 5, "active")]
    assert [(x["absence_id"], x["code"], x["status"]) for x in page["absences"]] == [
        (a, "Н", "active")
    ]
    assert journal(api, parent)["marks"][0]["mark_id"] == m
    r = api.client.get(f"/api/v1/marks/{m}/history", headers=t1)
    assert r.status_code == 200, r.text
    assert [v["value"] for v in r.json()["versions"]] == [5]
    r = api.client.get(
        "/api/v1/lessons", headers=t1, params={"group_id": "g1", "subject_id": "math"}
    )
    assert r.status_code == 200, r.text
    assert [x["lesson_id"] for x in r.json()["lessons"]] == [les]
    r = api.client.get(f"/api/v1/attestations/{attestation['attestation_id']}/history", headers=dep)
    assert r.status_code == 200, r.text


def test_a_closed_years_roster_is_history(api: Api) -> None:
    admin = api.as_user(ADMIN)
    close = api.client.post(CLOSE, headers=api.as_user(DEPUTY), json={"reason": "тест"})
    assert close.status_code == 200
    # The same roster again changes nothing and is answered as such.
    r = api.client.post("/api/v1/import", headers=admin, json=example_roster())
    assert r.status_code == 200, r.text
    assert r.json()["events"] == 0
    # A changed one would rewrite the closed year: transfers, load, groups, periods, rules.
    changes = []
    doc = example_roster()
    doc["groups"][0]["students"][0]["to"] = "2026-10-15"
    changes.append(doc)
    doc = example_roster()
    doc["assignments"].append({"teacher_id": "t5", "group_id": "g1", "subject_id": "math"})
    changes.append(doc)
    doc = example_roster()
    doc["groups"][0]["marks_enabled"] = False
    changes.append(doc)
    doc = example_roster()
    doc["academic_year"]["rules"]["current_mark_days"] = 30
    changes.append(doc)
    doc = example_roster()
    doc["subjects"][3]["periods"] = [
        {"id": "M1", "name": "Модуль 1", "starts_on": "2026-09-01", "ends_on": "2026-10-31"}
    ]
    changes.append(doc)
    for doc in changes:
        r = api.client.post("/api/v1/import", headers=admin, json=doc)
        assert_problem(r, 409, "year-closed")
    # Nothing of them took effect: the original roster is still no news.
    r = api.client.post("/api/v1/import", headers=admin, json=example_roster())
    assert r.status_code == 200, r.text
    assert r.json()["events"] == 0
