"""The README's session: a teacher records, corrects, cancels a mark and reads its history."""

from __future__ import annotations

from tests.conftest import Api


def test_teacher_records_corrects_cancels_and_reads_history(api: Api) -> None:
    h = api.as_user("sokolova")
    r = api.client.post(
        "/api/v1/marks",
        headers=h,
        json={
            "student_id": "s01",
            "subject_id": "math",
            "lesson_date": "2026-09-02",
            "work_kind": "control",
            "value": 5,
        },
    )
    assert r.status_code == 201, r.text
    mark = r.json()
    assert mark["weight"] == 2 and mark["status"] == "active" and mark["position"] > 0
    r = api.client.post(
        f"/api/v1/marks/{mark['mark_id']}/corrections",
        headers=h,
        json={"value": 4, "reason": "опечатка"},
    )
    assert r.status_code == 200 and r.json()["value"] == 4 and r.json()["corrected"]
    r = api.client.post(
        f"/api/v1/marks/{mark['mark_id']}/cancellation",
        headers=h,
        json={"reason": "не тот студент"},
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = api.client.get(f"/api/v1/marks/{mark['mark_id']}/history", headers=h)
    versions = r.json()["versions"]
    assert [(v["value"], v["status"], v["reason"]) for v in versions] == [
        (5, "active", None),
        (4, "active", "опечатка"),
        (4, "cancelled", "не тот студент"),
    ]
