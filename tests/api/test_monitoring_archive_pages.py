"""The /monitoring and /archive pages (UI.md) on both stores: the R-MON-2 figures with an inline
SVG chart per group for the administration and the curator, 403 for others; the closed years
with «Скачать архив», and the offline verification of an uploaded archive."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest

from adapters.clock import FixedClock
from api.bootstrap import Services
from tests.api.helpers import (
    DEPUTY,
    DIRECTOR,
    TEACHER_CHEM_CURATOR,
    TEACHER_MATH,
    absence_body,
    form_csrf,
    mark_body,
)
from tests.conftest import PASSWORD, Api

ARCHIVIST = "zaitseva"
YEAR = "2026-2027"


def sign_in(web: Any, username: str) -> None:
    form = web.get("/login")
    r = web.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": form_csrf(form.text)},
    )
    assert r.status_code == 303, r.text


def main_of(html: str) -> str:
    found = re.search(r"<main>(.*)</main>", html, re.S)
    assert found, html
    return found.group(1)


def record_some(api: Api, services: Services) -> None:
    """A lesson with a topic, marks for s01 (one) and s02 (two), an «Н» for s03; then wait
    until the read models have them (reports may lag writes)."""
    t1 = api.as_user(TEACHER_MATH)
    r = api.client.post(
        "/api/v1/lessons",
        headers=t1,
        json={
            "group_id": "g1",
            "subject_id": "math",
            "lesson_date": "2026-09-02",
            "lesson_no": 1,
            "topic": "Функции",
        },
    )
    assert r.status_code == 201, r.text
    assert api.client.post("/api/v1/marks", headers=t1, json=mark_body()).status_code == 201
    two = mark_body(student_id="s02", value=4)
    assert api.client.post("/api/v1/marks", headers=t1, json=two).status_code == 201
    two = mark_body(student_id="s02", value=5, work_kind="written")
    assert api.client.post("/api/v1/marks", headers=t1, json=two).status_code == 201
    gone = absence_body(student_id="s03")
    r = api.client.post("/api/v1/absences", headers=t1, json=gone)
    assert r.status_code == 201, r.text
    assert services.journal.read_models.wait_for(int(r.json()["position"]), 10)


# --- /monitoring ---------------------------------------------------------------------------


def test_deputy_sees_figures_and_a_chart_per_group(
    api: Api, web: Any, clock: FixedClock, imported: Services
) -> None:
    record_some(api, imported)
    clock.advance(days=7)  # the «Н» of 02.09 is now older than three days
    sign_in(web, DEPUTY)
    r = web.get("/monitoring")
    assert r.status_code == 200, r.text
    html = r.text
    assert re.search(r"<h1>\s*Мониторинг\s*</h1>", html)
    main = main_of(html)
    assert "ХТ-21" in main
    # One chart with an accessible name stating the values.
    svg = re.search(r"<svg[^>]*role=\"img\"[^>]*>(.*?)</svg>", main, re.S)
    assert svg, main
    title = re.search(r"<title[^>]*>([^<]*)</title>", svg.group(1))
    assert title and "Обучающиеся без отметок" in title.group(1)
    # 25 students: s01 one mark, s02 two → 23 without marks (92 %), 1 with one mark (4 %).
    assert "Обучающиеся без отметок: 92 % (23 из 25)" in main
    assert "Обучающиеся с одной отметкой: 4 % (1 из 25)" in main
    assert "Уроки с темой: 100 % (уроков 1)" in main
    assert "Уроки с домашним заданием: 0 % (уроков 1)" in main
    assert "Открытые задолженности: 0 (обучающихся 25)" in main
    assert "Родители, ознакомившиеся с дневником" in main
    assert "Преподаватели, которые вели журнал" in main
    # Bars drawn by the server: a filled rect for non-zero shares.
    assert main.count('class="fill"') >= 3
    # The unexplained «Н» for operative reaction (R-ABS-5).
    unexplained = main.split("Пропуски без уважительной причины", 1)[1]
    s03 = imported.personal.names(imported.journal.current_year("sght").org_id, ["s03"])["s03"]
    assert s03 in unexplained
    assert "02.09.2026" in unexplained
    assert "Математика" in unexplained
    # No chart library, no CDN.
    assert "<script" not in main and "https://" not in html


def test_curator_sees_their_group_and_the_period_select_works(
    api: Api, web: Any, imported: Services
) -> None:
    record_some(api, imported)
    sign_in(web, TEACHER_CHEM_CURATOR)
    r = web.get("/monitoring")
    assert r.status_code == 200, r.text
    main = main_of(r.text)
    assert "ХТ-21" in main and "<svg" in main
    assert "Обучающиеся без отметок: 92 % (23 из 25)" in main
    # The second semester: nothing recorded yet.
    r = web.get("/monitoring", params={"period_id": "S2", "group_id": "g1"})
    assert r.status_code == 200, r.text
    main = main_of(r.text)
    assert "Обучающиеся без отметок: 100 % (25 из 25)" in main
    assert "Уроки с темой: нет данных" in main
    assert web.get("/monitoring", params={"period_id": "nope"}).status_code == 404


@pytest.mark.parametrize("username", [TEACHER_MATH, ARCHIVIST])
def test_others_get_a_403_page(web: Any, username: str) -> None:
    sign_in(web, username)
    r = web.get("/monitoring")
    assert r.status_code == 403
    assert re.search(r'role="alert"[^>]*>[^<]*куратору группы', r.text)
    assert "<svg" not in r.text


def test_anonymous_monitoring_and_archive_redirect_to_login(web: Any) -> None:
    for path in ("/monitoring", "/archive"):
        r = web.get(path)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")


# --- /archive ------------------------------------------------------------------------------


def close_year(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    assert api.client.post("/api/v1/marks", headers=t1, json=mark_body()).status_code == 201
    r = api.client.post(
        f"/api/v1/years/{YEAR}/close", headers=api.as_user(DEPUTY), json={"reason": "тест"}
    )
    assert r.status_code == 200, r.text


def verify(web: Any, page: str, data: bytes, name: str = "year.zip") -> Any:
    return web.post(
        "/archive/verify",
        data={"csrf_token": form_csrf(page)},
        files={"file": (name, data, "application/zip")},
    )


def test_archive_lists_closed_years_and_verifies_a_real_export(api: Api, web: Any) -> None:
    sign_in(web, ARCHIVIST)
    r = web.get("/archive")
    assert r.status_code == 200, r.text
    assert re.search(r"<h1>\s*Архив\s*</h1>", r.text)
    assert "Скачать архив" not in r.text  # nothing closed yet
    assert "Файл архива" in r.text and "Проверить" in r.text

    close_year(api)
    page = web.get("/archive")
    assert page.status_code == 200
    link = re.search(r'<a href="([^"]+)"[^>]*>Скачать архив</a>', page.text)
    assert link and link.group(1) == f"/api/v1/archives/{YEAR}/export"
    # The link works with the page session alone (no bearer token).
    zipped = web.get(link.group(1))
    assert zipped.status_code == 200, zipped.text
    assert zipped.headers["content-type"] == "application/zip"

    r = verify(web, page.text, zipped.content)
    assert r.status_code == 200, r.text
    assert re.search(r'role="status"[^>]*>\s*(<strong>)?Архив подлинный', r.text)
    assert "Отпечаток ключа подписи" in r.text
    assert 'role="alert"' not in main_of(r.text)


def test_a_changed_byte_or_a_non_zip_is_the_first_failure_in_an_alert(api: Api, web: Any) -> None:
    close_year(api)
    sign_in(web, DEPUTY)
    page = web.get("/archive")
    data = web.get(f"/api/v1/archives/{YEAR}/export").content
    source = zipfile.ZipFile(io.BytesIO(data))
    (root,) = {n.split("/", 1)[0] for n in source.namelist()}
    forged = io.BytesIO()
    with zipfile.ZipFile(forged, "w") as out:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == f"{root}/data/events.jsonl":
                at = len(content) // 2
                content = content[:at] + bytes([content[at] ^ 0x01]) + content[at + 1 :]
            out.writestr(info, content)
    r = verify(web, page.text, forged.getvalue())
    assert r.status_code == 200
    alert = re.search(r'role="alert"[^>]*>([^<]*)<', r.text)
    assert alert and "Архив не прошёл проверку" in alert.group(1), r.text
    assert "Архив подлинный" not in r.text

    r = verify(web, page.text, b"not a zip at all", name="junk.zip")
    alert = re.search(r'role="alert"[^>]*>([^<]*)<', r.text)
    assert alert and "zip" in alert.group(1)


def test_verification_needs_the_forms_csrf_token(api: Api, web: Any) -> None:
    sign_in(web, DIRECTOR)
    r = web.post(
        "/archive/verify",
        data={"csrf_token": "wrong"},
        files={"file": ("year.zip", b"PK", "application/zip")},
    )
    assert r.status_code == 403
    assert 'role="alert"' in r.text and "Архив подлинный" not in r.text


@pytest.mark.parametrize("username", [TEACHER_MATH, TEACHER_CHEM_CURATOR])
def test_archive_is_403_for_others(web: Any, username: str) -> None:
    sign_in(web, username)
    r = web.get("/archive")
    assert r.status_code == 403
    assert 'role="alert"' in r.text and "Файл архива" not in r.text
