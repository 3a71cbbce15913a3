"""R-ROLE (archivist): reads closed years only, and never writes (R-ARC-7, R-SEC-1)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.helpers import (
    DEPUTY,
    TEACHER_MATH,
    absence_body,
    assert_problem,
    mark_body,
    record_mark,
)
from tests.conftest import Api

ARCHIVIST = "zaitseva"  # arch1
YEAR = "2026-2027"


def reads(api: Api, headers: dict[str, str], mark_id: str, position: int) -> dict[str, Any]:
    """Every read the archivist is meant to have on a closed year, by name."""
    at = {"min_position": str(position)}
    calls: dict[str, httpx.Response] = {
        "journal": api.client.get("/api/v1/students/s01/journal", headers=headers),
        "mark history": api.client.get(f"/api/v1/marks/{mark_id}/history", headers=headers),
        "gradebook": api.client.get(
            "/api/v1/gradebook",
            headers=headers,
            params={"group_id": "g1", "subject_id": "math", "period_id": "S1", **at},
        ),
        "summary sheet": api.client.get(
            f"/api/v1/years/{YEAR}/summary-sheet", headers=headers, params={"group_id": "g1", **at}
        ),
        "attendance": api.client.get(
            "/api/v1/attendance",
            headers=headers,
            params={
                "group_id": "g1",
                "from_date": "2026-09-01",
                "to_date": "2026-09-30",
                **at,
            },
        ),
    }
    return calls


def writes(api: Api, headers: dict[str, str], mark_id: str) -> dict[str, httpx.Response]:
    c = api.client
    return {
        "mark": c.post("/api/v1/marks", headers=headers, json=mark_body(value=2)),
        "correction": c.post(
            f"/api/v1/marks/{mark_id}/corrections",
            headers=headers,
            json={"value": 3, "reason": "Архивная правка"},
        ),
        "absence": c.post("/api/v1/absences", headers=headers, json=absence_body()),
        "lesson": c.post(
            "/api/v1/lessons",
            headers=headers,
            json={
                "group_id": "g1",
                "subject_id": "math",
                "lesson_date": "2026-09-02",
                "lesson_no": 1,
                "topic": "Архив",
            },
        ),
        "close": c.post(f"/api/v1/years/{YEAR}/close", headers=headers),
    }


def test_an_archivist_reads_nothing_of_an_open_year(api: Api) -> None:
    mark = record_mark(api, api.as_user(TEACHER_MATH))
    archivist = api.as_user(ARCHIVIST)
    for name, r in reads(api, archivist, mark["mark_id"], mark["position"]).items():
        assert r.status_code == 403, (name, r.text)
        assert_problem(r, 403, "forbidden")
    for name, r in writes(api, archivist, mark["mark_id"]).items():
        assert r.status_code == 403, (name, r.text)
        assert_problem(r, 403, "forbidden")


def test_an_archivist_reads_a_closed_year_and_still_cannot_write(api: Api) -> None:
    mark = record_mark(api, api.as_user(TEACHER_MATH))
    archivist = api.as_user(ARCHIVIST)
    r = api.client.post(
        f"/api/v1/years/{YEAR}/close", headers=api.as_user(DEPUTY), json={"reason": "тест"}
    )
    assert r.status_code == 200, r.text
    closed = r.json()

    got = reads(api, archivist, mark["mark_id"], closed["position"])
    for name, r in got.items():
        assert r.status_code == 200, (name, r.text)
    assert [m["mark_id"] for m in got["journal"].json()["marks"]] == [mark["mark_id"]]
    assert [v["value"] for v in got["mark history"].json()["versions"]] == [5]
    book = got["gradebook"].json()
    assert book["complete"] is True
    [row] = [r for r in book["rows"] if r["student_id"] == "s01"]
    assert [m["value"] for m in row["marks"]] == [5]
    sheet = got["summary sheet"].json()
    assert sheet["complete"] is True
    assert {r["student_id"] for r in sheet["rows"]} >= {"s01", "s25"}

    for name, r in writes(api, archivist, mark["mark_id"]).items():
        assert r.status_code == 403, (name, r.text)
        assert_problem(r, 403, "forbidden")
    # Nothing changed.
    r = api.client.get("/api/v1/students/s01/journal", headers=archivist)
    assert [(m["mark_id"], m["value"]) for m in r.json()["marks"]] == [(mark["mark_id"], 5)]
