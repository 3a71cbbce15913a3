"""R-LES-1/2: lessons with topic and homework, substitutions, cancelled lessons, who reads them."""

from __future__ import annotations

from typing import Any

from api.bootstrap import Services
from tests.api.helpers import (
    DEPUTY,
    PARENT_OF_S01,
    STUDENT_S01,
    TEACHER_CHEM_CURATOR,
    TEACHER_MATH,
    TEACHER_UNASSIGNED,
    absence_body,
    assert_problem,
    import_other_org,
    mark_body,
)
from tests.conftest import Api

LESSON_FIELDS = {
    "lesson_id",
    "group_id",
    "subject_id",
    "lesson_date",
    "lesson_no",
    "topic",
    "homework",
    "substitute_teacher_id",
    "status",
    "position",
}


def lesson_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "group_id": "g1",
        "subject_id": "math",
        "lesson_date": "2026-09-03",
        "lesson_no": 2,
        "topic": "Логарифмы",
        "homework": "№ 12–15",
    }
    body.update(overrides)
    return body


def post_lesson(api: Api, headers: dict[str, str], **overrides: Any) -> Any:
    return api.client.post("/api/v1/lessons", headers=headers, json=lesson_body(**overrides))


def record_lesson(api: Api, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    r = post_lesson(api, headers, **overrides)
    assert r.status_code == 201, r.text
    lesson: dict[str, Any] = r.json()
    return lesson


def list_lessons(api: Api, headers: dict[str, str], **params: str) -> Any:
    query = {"group_id": "g1", "subject_id": "math", **params}
    return api.client.get("/api/v1/lessons", headers=headers, params=query)


def test_record_change_cancel_and_list_lessons_in_order(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    r = post_lesson(api, t1)
    assert r.status_code == 201, r.text
    lesson = r.json()
    assert lesson.keys() >= LESSON_FIELDS
    assert isinstance(lesson["lesson_id"], str) and lesson["lesson_id"]
    assert (lesson["group_id"], lesson["subject_id"]) == ("g1", "math")
    assert (lesson["lesson_date"], lesson["lesson_no"]) == ("2026-09-03", 2)
    assert (lesson["topic"], lesson["homework"]) == ("Логарифмы", "№ 12–15")
    assert lesson["substitute_teacher_id"] is None
    assert lesson["status"] == "active"
    assert isinstance(lesson["position"], int) and lesson["position"] > 0

    # The same date and number twice is refused; another number that day is not.
    assert_problem(post_lesson(api, t1, topic="Другая тема"), 422, "validation-error")
    record_lesson(api, t1, lesson_no=1, topic="Степени", homework=None)
    record_lesson(api, t1, lesson_date="2026-09-02", lesson_no=3, topic="Повторение")
    # A lesson planned ahead is accepted.
    planned = record_lesson(api, t1, lesson_date="2026-09-10", lesson_no=1, topic="Контрольная")
    assert planned["status"] == "active"
    # A teacher of another subject of g1 may not write math lessons.
    assert_problem(post_lesson(api, api.as_user("belova"), lesson_no=5), 403, "forbidden")
    assert_problem(post_lesson(api, api.as_user(TEACHER_UNASSIGNED), lesson_no=5), 403, "forbidden")

    r = api.client.post(
        f"/api/v1/lessons/{lesson['lesson_id']}/changes",
        headers=t1,
        json={"topic": "Логарифмы и их свойства", "homework": "№ 16"},
    )
    assert r.status_code == 200, r.text
    changed = r.json()
    assert (changed["topic"], changed["homework"]) == ("Логарифмы и их свойства", "№ 16")
    assert changed["position"] > lesson["position"]

    r = api.client.post(
        f"/api/v1/lessons/{planned['lesson_id']}/cancellation",
        headers=t1,
        json={"reason": "экскурсия"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    r = api.client.post(
        f"/api/v1/lessons/{planned['lesson_id']}/changes", headers=t1, json={"topic": "x"}
    )
    assert_problem(r, 422, "validation-error")

    r = list_lessons(api, t1)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["group_id"], body["subject_id"]) == ("g1", "math")
    got = [
        (les["lesson_date"], les["lesson_no"], les["topic"], les["status"])
        for les in body["lessons"]
    ]
    assert got == [
        ("2026-09-02", 3, "Повторение", "active"),
        ("2026-09-03", 1, "Степени", "active"),
        ("2026-09-03", 2, "Логарифмы и их свойства", "active"),
        ("2026-09-10", 1, "Контрольная", "cancelled"),
    ]
    # Other subjects' pages are separate.
    r = list_lessons(api, api.as_user(TEACHER_CHEM_CURATOR), subject_id="chem")
    assert r.status_code == 200, r.text
    assert r.json()["lessons"] == []


def test_substitute_writes_only_the_substituted_lesson(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    dep = api.as_user(DEPUTY)
    t5 = api.as_user(TEACHER_UNASSIGNED)
    lesson = record_lesson(api, t1)
    url = f"/api/v1/lessons/{lesson['lesson_id']}"

    # Before the substitution t5 may write nothing in math.
    r = api.client.post("/api/v1/marks", headers=t5, json=mark_body(lesson_date="2026-09-03"))
    assert_problem(r, 403, "forbidden")
    # Teachers do not record substitutions.
    for h in (t1, t5):
        r = api.client.post(
            f"{url}/substitution", headers=h, json={"teacher_id": "t5", "reason": "x"}
        )
        assert_problem(r, 403, "forbidden")
    r = post_lesson(api, t1, lesson_no=4, substitute_teacher_id="t5", reason="болезнь")
    assert_problem(r, 403, "forbidden")

    r = api.client.post(
        f"{url}/substitution", headers=dep, json={"teacher_id": "t5", "reason": "болезнь"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["substitute_teacher_id"] == "t5"
    assert r.json()["lesson_id"] == lesson["lesson_id"]

    # The substituted lesson: a mark and an absence, recorded as the substitute.
    r = api.client.post(
        "/api/v1/marks", headers=t5, json=mark_body(lesson_date="2026-09-03", lesson_no=2)
    )
    assert r.status_code == 201, r.text
    mark = r.json()
    assert mark["recorded_by"] == "t5"
    r = api.client.get(f"/api/v1/marks/{mark['mark_id']}/history", headers=dep)
    assert r.status_code == 200, r.text
    assert [(v["actor_id"], v["actor_role"]) for v in r.json()["versions"]] == [
        ("t5", "substitute")
    ]
    r = api.client.post(
        "/api/v1/absences",
        headers=t5,
        json=absence_body(student_id="s02", lesson_date="2026-09-03", lesson_no=2),
    )
    assert r.status_code == 201, r.text
    absence = r.json()
    r = api.client.get(f"/api/v1/absences/{absence['absence_id']}/history", headers=dep)
    assert r.status_code == 200, r.text
    assert [(v["actor_id"], v["actor_role"]) for v in r.json()["versions"]] == [
        ("t5", "substitute")
    ]
    # The substitute may fill in the lesson's topic.
    r = api.client.post(f"{url}/changes", headers=t5, json={"topic": "Логарифмы (замена)"})
    assert r.status_code == 200, r.text

    # Not another date, another lesson number or another subject.
    refused = [
        ("/api/v1/marks", mark_body(lesson_date="2026-09-02", lesson_no=2)),
        ("/api/v1/marks", mark_body(lesson_date="2026-09-03", lesson_no=3)),
        ("/api/v1/marks", mark_body(subject_id="chem", lesson_date="2026-09-03", lesson_no=2)),
        ("/api/v1/absences", absence_body(lesson_date="2026-09-02", lesson_no=2)),
        ("/api/v1/absences", absence_body(lesson_date="2026-09-03", lesson_no=3)),
        ("/api/v1/absences", absence_body(subject_id="rus", lesson_date="2026-09-03", lesson_no=2)),
    ]
    for path, body in refused:
        r = api.client.post(path, headers=t5, json=body)
        assert r.status_code in (403, 422), (body, r.text)
        assert r.json()["code"] in ("forbidden", "not-enrolled"), (body, r.text)

    # Once the lesson is cancelled, the substitution gives no more rights.
    r = api.client.post(f"{url}/cancellation", headers=dep, json={"reason": "отменён"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["substitute_teacher_id"]) == ("cancelled", "t5")
    r = api.client.post(
        "/api/v1/marks", headers=t5, json=mark_body(lesson_date="2026-09-03", lesson_no=2)
    )
    assert_problem(r, 403, "forbidden")


def test_who_may_read_a_groups_lessons(api: Api, imported: Services) -> None:
    record_lesson(api, api.as_user(TEACHER_MATH))
    import_other_org(imported)
    for who in (TEACHER_MATH, TEACHER_CHEM_CURATOR, DEPUTY, STUDENT_S01, PARENT_OF_S01):
        r = list_lessons(api, api.as_user(who))
        assert r.status_code == 200, (who, r.text)
        assert [les["topic"] for les in r.json()["lessons"]] == ["Логарифмы"], who
    # A teacher of no g1 subject, a teacher of another g1 subject.
    assert_problem(list_lessons(api, api.as_user(TEACHER_UNASSIGNED)), 403, "forbidden")
    assert_problem(list_lessons(api, api.as_user("belova")), 403, "forbidden")
    # A student and a parent of another organisation are not told the group exists.
    for who in (f"o.{STUDENT_S01}", f"o.{PARENT_OF_S01}", "o.sokolova"):
        r = list_lessons(api, api.as_user(who))
        assert r.status_code in (403, 404), (who, r.text)
        assert "Логарифмы" not in r.text
    r = api.client.get("/api/v1/lessons", params={"group_id": "g1", "subject_id": "math"})
    assert_problem(r, 401, "unauthenticated")
