"""The administrator's page /admin/roster (UI.md, issue 13): check a roster without writing,
import it, a destructive one needs force, accounts off and on again, admin only, CSRF; on
SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from api.bootstrap import Services
from tests.api.helpers import ADMIN, TEACHER_MATH, form_csrf
from tests.conftest import PASSWORD

PAGE = "/admin/roster"


def sign_in(web: Any, username: str = ADMIN, password: str = PASSWORD) -> str:
    """Sign in through the login page; the admin page's CSRF token."""
    form = web.get("/login")
    r = web.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": form_csrf(form.text)},
    )
    assert r.status_code == 303, r.text
    return form_csrf(web.get(PAGE).text)  # the 403 page has the logout form, with it


def login_status(web: Any, username: str) -> int:
    r = web.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    return int(r.status_code)


def events(services: Services) -> int:
    return int(services.journal.recorder.max_notification_id() or 0)


def with_extra_student(roster: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(roster)
    doc["students"].append({"id": "s99", "full_name": "Новиков Николай Петрович"})
    doc["groups"][0]["students"].append({"id": "s99", "from": "2026-09-01", "to": None})
    return doc


def check(web: Any, csrf: str, doc: dict[str, Any]) -> Any:
    body = json.dumps(doc, ensure_ascii=False).encode()
    return web.post(
        f"{PAGE}/check",
        data={"csrf_token": csrf},
        files={"roster_file": ("roster.json", body, "application/json")},
    )


def upload_token(html: str) -> str:
    found = re.search(r'name="upload" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def status_text(html: str) -> str:
    found = re.findall(r'role="status"[^>]*>(.*?)</p>', html, re.S)
    return " ".join(found)


def alert_text(html: str) -> str:
    found = re.search(r'role="alert"[^>]*>(.*?)</(p|div)>', html, re.S)
    assert found, html
    return found.group(1)


def test_check_shows_the_changes_and_writes_nothing_then_import_records(
    web: Any, imported: Services, roster: dict[str, Any]
) -> None:
    csrf = sign_in(web)
    before = events(imported)
    r = check(web, csrf, with_extra_student(roster))
    assert r.status_code == 200, r.text
    assert events(imported) == before
    assert "Проверка пройдена, ничего не записано" in status_text(r.text)
    assert re.search(r"Обучающиеся: добавлено</th><td class=\"n\">1<", r.text)
    assert re.search(r"Обучающиеся: удалено</th><td class=\"n\">0<", r.text)
    assert "Новиков Николай Петрович" in r.text
    assert ">Загрузить</button>" in r.text
    assert "Загрузить всё равно" not in r.text

    token = upload_token(r.text)
    r = web.post(f"{PAGE}/import", data={"csrf_token": csrf, "upload": token})
    assert r.status_code == 200, r.text
    assert "загружены" in status_text(r.text)
    assert "обучающихся добавлено — 1" in status_text(r.text)
    assert events(imported) > before
    year = imported.journal.current_year("sght")
    assert any(s == "s99" for _, s in year.memberships)

    # The same document again changes nothing; the used token is gone.
    r2 = web.post(f"{PAGE}/import", data={"csrf_token": csrf, "upload": token})
    assert r2.status_code == 409 and "не найден" in alert_text(r2.text)
    r = check(web, csrf, with_extra_student(roster))
    assert "Документ ничего не меняет" in status_text(r.text)


def test_an_invalid_document_names_its_errors(web: Any, roster: dict[str, Any]) -> None:
    csrf = sign_in(web)
    doc = copy.deepcopy(roster)
    doc["groups"][0]["students"][0]["from"] = "не дата"
    r = check(web, csrf, doc)
    assert r.status_code == 422
    assert "не прошёл проверку" in alert_text(r.text)
    assert "$.groups[0].students[0].from" in r.text
    r = web.post(
        f"{PAGE}/check",
        data={"csrf_token": csrf},
        files={"roster_file": ("x.json", b"{not json", "application/json")},
    )
    assert r.status_code == 422 and "не является документом JSON" in alert_text(r.text)


def test_a_destructive_roster_needs_force(
    web: Any, imported: Services, roster: dict[str, Any]
) -> None:
    csrf = sign_in(web)
    doc = copy.deepcopy(roster)
    doc["groups"][0]["students"] = doc["groups"][0]["students"][:-5]  # 5 of 25 leave g1
    before = events(imported)
    r = check(web, csrf, doc)
    assert r.status_code == 200
    assert re.search(r"Обучающиеся: удалено</th><td class=\"n\">5<", r.text)
    assert "удаляется 5 из 25 обучающихся" in r.text
    token = upload_token(r.text)
    assert "Загрузить всё равно" in r.text

    r = web.post(f"{PAGE}/import", data={"csrf_token": csrf, "upload": token})
    assert r.status_code == 422
    assert "больше десятой части" in alert_text(r.text)
    assert "Загрузить всё равно" in r.text
    assert events(imported) == before

    r = web.post(f"{PAGE}/import", data={"csrf_token": csrf, "upload": token, "force": "true"})
    assert r.status_code == 200, r.text
    assert "удалено — 5" in status_text(r.text)
    assert events(imported) > before


def test_deactivate_then_reactivate_an_account(web: Any, imported: Services) -> None:
    csrf = sign_in(web)
    assert login_status(web, "belova") == 200
    r = web.post(f"{PAGE}/accounts/t3/deactivation", data={"csrf_token": csrf, "reason": ""})
    assert r.status_code == 422 and "причина" in alert_text(r.text)

    r = web.post(
        f"{PAGE}/accounts/t3/deactivation", data={"csrf_token": csrf, "reason": "Уволилась"}
    )
    assert r.status_code == 200, r.text
    assert "отключена" in status_text(r.text)
    assert "Уволилась" in r.text
    assert "/admin/roster/accounts/t3/reactivation" in r.text
    assert login_status(web, "belova") == 401

    r = web.post(f"{PAGE}/accounts/t3/deactivation", data={"csrf_token": csrf, "reason": "Ещё раз"})
    assert r.status_code == 422 and "уже отключена" in alert_text(r.text)
    assert 'value="Ещё раз"' in r.text  # what was typed is kept

    r = web.post(
        f"{PAGE}/accounts/t3/reactivation", data={"csrf_token": csrf, "reason": "Вернулась"}
    )
    assert r.status_code == 200, r.text
    assert "включена" in status_text(r.text)
    assert login_status(web, "belova") == 200
    log = [e["event"] for e in imported.security.entries("sght", 100)]
    assert "account_deactivated" in log and "account_reactivated" in log
    r = web.get(PAGE)
    assert "Журнал безопасности" in r.text
    assert "учётная запись отключена" in r.text and "учётная запись включена" in r.text


def test_a_teacher_gets_403(web: Any, roster: dict[str, Any]) -> None:
    csrf = sign_in(web, TEACHER_MATH)
    r = web.get(PAGE)
    assert r.status_code == 403
    assert "только администратор" in alert_text(r.text)
    assert check(web, csrf, roster).status_code == 403
    r = web.post(f"{PAGE}/accounts/t3/deactivation", data={"csrf_token": csrf, "reason": "x"})
    assert r.status_code == 403


def test_anonymous_goes_to_login(web: Any) -> None:
    r = web.get(PAGE)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_without_csrf_nothing_happens(web: Any, imported: Services, roster: dict[str, Any]) -> None:
    csrf = sign_in(web)
    before = events(imported)
    r = check(web, "wrong", with_extra_student(roster))
    assert r.status_code == 403 and "Форма устарела" in alert_text(r.text)
    r = check(web, csrf, with_extra_student(roster))
    token = upload_token(r.text)
    r = web.post(f"{PAGE}/import", data={"upload": token})
    assert r.status_code == 403
    r = web.post(f"{PAGE}/accounts/t3/deactivation", data={"reason": "Уволилась"})
    assert r.status_code == 403
    assert events(imported) == before
    assert login_status(web, "belova") == 200


def test_an_unknown_or_hostile_upload_token_is_refused(
    web: Any, imported: Services, roster: dict[str, Any]
) -> None:
    csrf = sign_in(web)
    r = web.post(f"{PAGE}/import", data={"csrf_token": csrf, "upload": "../../etc/passwd"})
    assert r.status_code == 409
    r = web.post(f"{PAGE}/import", data={"csrf_token": csrf, "upload": "A" * 32})
    assert r.status_code == 409
