"""The diary page (UI.md /diary) through a page session, on SQLite and PostgreSQL: a student
and a parent see marks, homework, absences; a corrected mark shows as corrected; someone else's
child is a 404 without data; acknowledgements and notices go through the JSON API."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.api.helpers import PARENT_OF_S01, STUDENT_S01, TEACHER_MATH, mark_body
from tests.conftest import PASSWORD, Api


@pytest.fixture
def roster(roster: dict[str, Any]) -> dict[str, Any]:
    """The example roster, with the parent of s01 also the parent of s02 (several children)."""
    for parent in roster["parents"]:
        if parent["id"] == "p01":
            parent["children"] = ["s01", "s02"]
    return roster


def sign_in(web: Any, username: str) -> None:
    form = web.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf, form.text
    r = web.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf.group(1)},
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/diary"


def page_csrf(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, html
    return found.group(1)


def write(web: Any, url: str, body: Any = None) -> Any:
    csrf = page_csrf(web.get("/diary").text)
    headers = {"X-CSRF-Token": csrf, "Idempotency-Key": str(uuid.uuid4())}
    return web.post(url, json=body, headers=headers)


def as_teacher(api: Api) -> dict[str, str]:
    return api.as_user(TEACHER_MATH)


def record(api: Api, **overrides: Any) -> dict[str, Any]:
    r = api.client.post("/api/v1/marks", headers=as_teacher(api), json=mark_body(**overrides))
    assert r.status_code == 201, r.text
    mark: dict[str, Any] = r.json()
    return mark


def test_a_student_sees_own_marks_and_homework(api: Api, web: Any) -> None:
    record(api, value=5, work_kind="control", lesson_date="2026-09-02")
    r = api.client.post(
        "/api/v1/lessons",
        headers=as_teacher(api),
        json={
            "group_id": "g1",
            "subject_id": "math",
            "lesson_date": "2026-09-02",
            "lesson_no": 1,
            "topic": "Пределы",
            "homework": "§ 4, № 12–15",
        },
    )
    assert r.status_code == 201, r.text
    sign_in(web, STUDENT_S01)
    page = web.get("/diary")
    assert page.status_code == 200, page.text
    html = page.text
    assert re.search(r"<h1>Дневник</h1>", html)
    assert "Александров Артём Игоревич" in html
    assert "Математика" in html and "Химия" in html
    assert re.search(
        r'<span class="v">5</span>\s*<span class="meta">02\.09, контрольная работа', html
    )
    assert "§ 4, № 12–15" in html and "Пределы" in html
    # A student neither acknowledges nor notifies: those are a parent's.
    assert "Ознакомлен(а)" not in html
    assert "Сообщить об отсутствии" not in html
    assert 'role="alert"' not in html.replace('role="alert" id', "")


def test_a_corrected_mark_is_shown_as_corrected(api: Api, web: Any) -> None:
    mark = record(api, value=3)
    r = api.client.post(
        f"/api/v1/marks/{mark['mark_id']}/corrections",
        headers=as_teacher(api),
        json={"value": 4, "reason": "Пересчёт баллов после апелляции"},
    )
    assert r.status_code == 200, r.text
    sign_in(web, STUDENT_S01)
    html = web.get("/diary").text
    corrected = re.search(r'<li class="dmark corrected">(.*?)</li>', html, re.S)
    assert corrected, html
    assert "<del" in corrected.group(1) and ">3</del>" in corrected.group(1)
    assert '<span class="v">4</span>' in corrected.group(1)
    assert "исправлена" in corrected.group(1)


def test_a_parent_sees_the_child_and_picks_another(api: Api, web: Any) -> None:
    record(api, value=4, student_id="s01")
    record(api, value=2, student_id="s02", comment="Не готов к уроку")
    sign_in(web, PARENT_OF_S01)
    html = web.get("/diary").text
    assert re.search(r'<label for="diary-child">Ребёнок</label>', html)
    assert re.search(r'<option value="s01" selected>Александров Артём Игоревич</option>', html)
    assert '<span class="v">4</span>' in html
    assert "Не готов к уроку" not in html
    other = web.get("/diary?student_id=s02")
    assert other.status_code == 200
    assert re.search(r'<option value="s02" selected>Андреева Полина Сергеевна</option>', other.text)
    assert '<span class="v">2</span>' in other.text and "Не готов к уроку" in other.text
    assert "Ознакомлен(а)" in other.text and "Сообщить об отсутствии" in other.text


def test_someone_elses_child_is_not_found_and_shows_nothing(api: Api, web: Any) -> None:
    record(api, value=3, student_id="s03", comment="Секретный комментарий")
    for username in (PARENT_OF_S01, STUDENT_S01):
        web.cookies.clear()
        sign_in(web, username)
        for student in ("s03", "nobody"):
            r = web.get(f"/diary?student_id={student}")
            assert r.status_code == 404, r.text
            assert "Дневник не найден" in r.text
            assert "Баранов" not in r.text and "Секретный комментарий" not in r.text
            assert '<span class="v">' not in r.text


def test_a_parent_acknowledges_the_diary(web: Any) -> None:
    sign_in(web, PARENT_OF_S01)
    assert "Ознакомления ещё не было." in web.get("/diary").text
    no_csrf = web.post("/api/v1/students/s01/diary-acknowledgements")
    assert no_csrf.status_code == 403
    r = write(web, "/api/v1/students/s01/diary-acknowledgements")
    assert r.status_code == 201, r.text
    assert r.json()["parent_id"] == "p01"
    html = web.get("/diary").text
    # 2026-09-03 05:00 UTC is 10:00 in Perm.
    assert "Последнее ознакомление: 03.09.2026 10:00 (Александрова Марина Викторовна)" in html
    other = web.get("/diary?student_id=s02").text
    assert "Ознакомления ещё не было." in other


def test_a_parent_reports_a_planned_absence(web: Any) -> None:
    sign_in(web, PARENT_OF_S01)
    html = web.get("/diary").text
    assert re.search(r'<label for="notice-from">С</label>\s*<input type="date"', html)
    assert re.search(r'<label for="notice-to">По</label>\s*<input type="date"', html)
    assert '<label for="notice-reason">Причина</label>' in html
    assert "Пропусков нет." in html
    body = {
        "student_id": "s01",
        "from_date": "2026-09-04",
        "to_date": "2026-09-05",
        "reason": "Семейные обстоятельства",
    }
    r = write(web, "/api/v1/absence-notices", body)
    assert r.status_code == 201, r.text
    html = web.get("/diary").text
    section = re.search(r'id="diary-absences">(.*?)</section>', html, re.S)
    assert section, html
    text = section.group(1)
    assert "04.09.2026" in text and "05.09.2026" in text
    assert "НУ" in text and "Семейные обстоятельства" in text
    assert "уведомление родителя" in text
    # A notice the API refuses keeps its Russian detail for the page's alert.
    bad = write(web, "/api/v1/absence-notices", body | {"student_id": "s03"})
    assert bad.status_code == 404
    assert re.search(r"[А-Яа-я]", bad.json()["detail"])
