"""The /school and /audit pages (UI.md): who sees them, what they list, filters and paging, on
SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.clock import FixedClock
from api.bootstrap import Services
from tests.api.helpers import ADMIN, DEPUTY, DIRECTOR, TEACHER_MATH, form_csrf, record_mark
from tests.conftest import PASSWORD, Api


def sign_in(web: Any, username: str, password: str = PASSWORD) -> None:
    web.cookies.clear()
    form = web.get("/login")
    r = web.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": form_csrf(form.text)},
    )
    assert r.status_code == 303, r.text


def text_of(page: str) -> str:
    """The page's visible text, tags removed and whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def rows_of(page: str) -> list[list[str]]:
    """Cells of the body rows of the page's audit table."""
    body = re.search(r'<table class="audit">.*?<tbody>(.*?)</tbody>', page, re.S)
    if body is None:
        return []
    return [
        [text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


def catch_up(services: Services) -> None:
    services.journal.read_models.catch_up()


def utc(day: str, hour: int = 5) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


# --- /school -------------------------------------------------------------------------------


@pytest.mark.parametrize("username", [DEPUTY, DIRECTOR, ADMIN])
def test_school_lists_groups_with_journals_and_reports(web: Any, username: str) -> None:
    sign_in(web, username)
    r = web.get("/school")
    assert r.status_code == 200, r.text
    assert re.findall(r"<h1>(.*?)</h1>", r.text) == ["Школа"]
    assert '<a href="/journal/g1/math">ХТ-21 — Математика</a>' in r.text
    page = html.unescape(r.text)
    assert "/api/v1/attendance?group_id=g1&from_date=2026-09-01&to_date=2026-09-03&format=xlsx" in (
        page
    )
    assert "/api/v1/years/2026-2027/summary-sheet?group_id=g1&format=xlsx" in page
    assert "Исправления после срока" in r.text


def test_school_and_journals_list_a_groups_subjects_in_the_rosters_order(web: Any) -> None:
    """examples/roster.json lists math, chem, rus, hist: so do the pages (issue 14), not by
    name or id."""
    sign_in(web, DEPUTY)
    listed = ["/journal/g1/math", "/journal/g1/chem", "/journal/g1/rus", "/journal/g1/hist"]
    for page in ("/school", "/journal"):
        r = web.get(page)
        assert r.status_code == 200, r.text
        assert re.findall(r'href="(/journal/g1/[^"]+)"', r.text) == listed, page


def test_school_report_links_answer_with_the_page_cookie(web: Any) -> None:
    sign_in(web, DEPUTY)
    page = html.unescape(web.get("/school").text)
    links = re.findall(r'href="(/api/v1/[^"]+format=xlsx)"', page)
    assert len(links) >= 2
    for link in links[:2]:
        r = web.get(link)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )


def test_a_teacher_may_not_open_school_or_audit(web: Any) -> None:
    sign_in(web, TEACHER_MATH)
    for address in ("/school", "/audit"):
        r = web.get(address)
        assert r.status_code == 403, r.text
        assert re.search(r'role="alert"[^>]*>[^<]*заместитель директора', r.text)
        assert "ХТ-21 — Математика" not in r.text
        assert "<table" not in r.text


def test_school_lists_a_late_change_by_the_deputy(
    api: Api, web: Any, clock: FixedClock, imported: Services
) -> None:
    mark = record_mark(api, api.as_user(TEACHER_MATH), lesson_date="2026-09-02", value=3)
    clock.set(utc("2026-09-11"))
    r = api.client.post(
        f"/api/v1/marks/{mark['mark_id']}/corrections",
        headers=api.as_user(DEPUTY),
        json={"value": 4, "reason": "служебная записка №3"},
    )
    assert r.status_code == 200, r.text
    catch_up(imported)
    sign_in(web, DIRECTOR)
    page = web.get("/school").text
    late = page.split("Исправления после срока", 1)[1]
    text = text_of(late)
    assert "служебная записка №3" in text
    assert "Кузнецова" in text  # the deputy
    assert re.search(r"11\.09\.2026 10:00", text)  # Perm time
    # An in-time correction is not listed.
    assert "Отметка выставлена" not in text


# --- /audit --------------------------------------------------------------------------------


def test_audit_shows_a_mark_and_its_correction(
    api: Api, web: Any, clock: FixedClock, imported: Services
) -> None:
    teacher = api.as_user(TEACHER_MATH)
    mark = record_mark(api, teacher, value=3)
    clock.advance(minutes=5)
    r = api.client.post(
        f"/api/v1/marks/{mark['mark_id']}/corrections",
        headers=teacher,
        json={"value": 4, "reason": "ошибка при вводе"},
    )
    assert r.status_code == 200, r.text
    catch_up(imported)

    sign_in(web, DEPUTY)
    r = web.get("/audit")
    assert r.status_code == 200, r.text
    assert re.findall(r"<h1>(.*?)</h1>", r.text) == ["Журнал изменений"]
    for header in ("Когда", "Кто", "Действие", "Ученик", "Было", "Стало", "Причина"):
        assert f'<th scope="col">{header}</th>' in r.text
    for label in ("Ученик", "Преподаватель", "Действие", "С", "По"):
        assert re.search(rf'<label for="[^"]+">{label}</label>', r.text), label
    assert len(re.findall(r'type="date"', r.text)) == 2
    assert ">Показать</button>" in r.text

    rows = rows_of(r.text)
    corrected, recorded = rows[0], rows[1]
    assert corrected[0] == "03.09.2026 10:05"  # Perm, UTC+5
    assert corrected[1].startswith("Соколова")
    assert corrected[2].startswith("Отметка исправлена")
    assert corrected[3].startswith("Александров")
    assert (corrected[4], corrected[5], corrected[6]) == ("3", "4", "ошибка при вводе")
    assert recorded[2].startswith("Отметка выставлена")
    assert recorded[4] == ""
    assert recorded[5].startswith("3")
    history = f"/api/v1/marks/{mark['mark_id']}/history"
    assert f'href="{history}"' in r.text
    h = web.get(history)
    assert h.status_code == 200 and [v["value"] for v in h.json()["versions"]] == [3, 4]


def test_audit_filters_narrow_the_list(
    api: Api, web: Any, clock: FixedClock, imported: Services
) -> None:
    teacher = api.as_user(TEACHER_MATH)
    record_mark(api, teacher, student_id="s01", value=5)
    record_mark(api, teacher, student_id="s02", value=4)
    catch_up(imported)
    sign_in(web, DEPUTY)

    everything = rows_of(web.get("/audit").text)
    by_student = rows_of(web.get("/audit", params={"student_id": "s02"}).text)
    assert by_student and len(by_student) < len(everything)
    assert all(row[3].startswith(by_student[0][3]) for row in by_student)
    assert not any(row[3].startswith("Александров") for row in by_student)

    marks = rows_of(web.get("/audit", params={"action": "mark.recorded"}).text)
    assert len(marks) == 2 and all(r[2].startswith("Отметка выставлена") for r in marks)
    mine = rows_of(web.get("/audit", params={"action": "mark.recorded", "actor_id": "t1"}).text)
    assert len(mine) == 2
    assert (
        rows_of(web.get("/audit", params={"action": "mark.recorded", "actor_id": "t2"}).text) == []
    )

    today = rows_of(web.get("/audit", params={"from": "2026-09-03", "to": "2026-09-03"}).text)
    assert today == everything  # the import and the marks are all of 03.09 (Perm)
    assert rows_of(web.get("/audit", params={"from": "2026-09-04"}).text) == []
    assert rows_of(web.get("/audit", params={"to": "2026-08-01"}).text) == []
    r = web.get("/audit", params={"student_id": "s02"})
    assert re.search(r'<option value="s02" selected>', r.text)


def test_audit_bad_dates_are_an_alert_and_keep_the_filters(web: Any) -> None:
    sign_in(web, DEPUTY)
    r = web.get(
        "/audit", params={"from": "2026-09-10", "to": "2026-09-01", "action": "mark.recorded"}
    )
    assert r.status_code == 422
    assert re.search(r'role="alert">Дата «По» раньше даты «С»', r.text)
    assert 'value="2026-09-10"' in r.text and 'value="2026-09-01"' in r.text
    assert '<option value="mark.recorded" selected>' in r.text
    r = web.get("/audit", params={"from": "10.09.2026"})
    assert r.status_code == 422 and 'role="alert"' in r.text


def test_audit_pages_with_next(api: Api, web: Any, imported: Services) -> None:
    from api.pages.audit import PAGE_SIZE

    teacher = api.as_user(TEACHER_MATH)
    for n in range(PAGE_SIZE + 3):
        day = 2 if n % 2 else 1
        record_mark(api, teacher, lesson_date=f"2026-09-0{day}", value=2 + n % 4)
    catch_up(imported)
    sign_in(web, DEPUTY)
    first = web.get("/audit", params={"action": "mark.recorded"})
    assert len(rows_of(first.text)) == PAGE_SIZE
    found = re.search(r'<a href="([^"]+)" rel="next">Далее</a>', first.text)
    assert found, first.text
    second = web.get(html.unescape(found.group(1)))
    assert second.status_code == 200
    assert len(rows_of(second.text)) == 3
    assert "Далее" not in second.text
    assert "К началу" in second.text
    assert all(r[2].startswith("Отметка выставлена") for r in rows_of(second.text))
