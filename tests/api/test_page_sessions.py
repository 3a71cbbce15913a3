"""Page sessions (UI.md, ADR 15): sign-in, CSRF, sliding expiry, and one session state shared
with tokens, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

from adapters.clock import FixedClock
from tests.api.helpers import ADMIN, TEACHER_MATH, form_csrf, mark_body
from tests.conftest import PASSWORD

COOKIE = "ejournal_session"


def page_csrf(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, html
    return found.group(1)


def sign_in(web: Any, username: str = TEACHER_MATH, password: str = PASSWORD, **extra: str) -> Any:
    form = web.get("/login")
    return web.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": form_csrf(form.text)}
        | extra,
    )


def test_anonymous_pages_redirect_to_login_with_next(web: Any) -> None:
    r = web.get("/journal/g1/math?period_id=S1")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fjournal%2Fg1%2Fmath%3Fperiod_id%3DS1"


def test_wrong_password_is_an_alert_and_keeps_the_login(web: Any) -> None:
    r = sign_in(web, password="wrong-password-here")
    assert r.status_code == 401
    assert re.search(r'role="alert"[^>]*>Неверный логин или пароль', r.text)
    assert 'value="sokolova"' in r.text
    assert COOKIE not in r.headers.get("set-cookie", "")


def test_a_throttled_login_says_so(web: Any) -> None:
    for _ in range(5):
        assert sign_in(web, username="nobody-here", password="x" * 12).status_code == 401
    r = sign_in(web, username="nobody-here", password="x" * 12)
    assert r.status_code == 429
    assert "Слишком много попыток" in r.text


def test_success_goes_home_or_to_a_same_site_next_only(web: Any) -> None:
    r = sign_in(web)
    assert r.status_code == 303 and r.headers["location"] == "/journal"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(COOKIE))
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    web.cookies.clear()
    assert sign_in(web, next="/journal/g1/math").headers["location"] == "/journal/g1/math"
    for hostile in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        web.cookies.clear()
        assert sign_in(web, next=hostile).headers["location"] == "/journal"
    web.cookies.clear()
    assert sign_in(web, username=ADMIN).headers["location"] == "/school"


def test_login_without_its_form_token_is_refused(web: Any) -> None:
    r = web.post("/login", data={"username": TEACHER_MATH, "password": PASSWORD})
    assert r.status_code == 403
    assert COOKIE not in r.headers.get("set-cookie", "")


def test_page_writes_need_the_csrf_token(web: Any) -> None:
    sign_in(web)
    csrf = page_csrf(web.get("/journal").text)
    refused = web.post("/api/v1/marks", json=mark_body())
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    forged = web.post("/api/v1/marks", json=mark_body(), headers={"X-CSRF-Token": "0" * 40})
    assert forged.status_code == 403
    ok = web.post("/api/v1/marks", json=mark_body(), headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text
    assert web.get("/api/v1/students/s01/journal").json()["marks"][0]["value"] == 5
    # A logout without the token changes nothing.
    assert web.post("/logout", data={}).status_code == 403
    assert web.get("/journal").status_code == 200


def test_logout_ends_the_page_session_for_pages_and_api_calls(web: Any) -> None:
    sign_in(web)
    csrf = page_csrf(web.get("/journal").text)
    cookie = web.cookies.get(COOKIE)
    r = web.post("/logout", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    web.cookies.set(COOKIE, cookie)  # a copy kept by an attacker or another tab
    assert web.get("/journal").status_code == 303
    assert web.get("/api/v1/students/s01/journal").status_code == 401


def test_a_password_change_by_token_ends_the_page_session(web: Any) -> None:
    sign_in(web)
    assert web.get("/journal").status_code == 200
    cookie = web.cookies.get(COOKIE)
    token = web.post(
        "/api/v1/auth/token", data={"username": TEACHER_MATH, "password": PASSWORD}
    ).json()["access_token"]
    web.cookies.clear()
    changed = web.post(
        "/api/v1/auth/password",
        headers={"Authorization": f"Bearer {token}"},
        json={"current_password": PASSWORD, "new_password": "another-password-2026"},
    )
    assert changed.status_code == 204, changed.text
    web.cookies.set(COOKIE, cookie)
    assert web.get("/journal").status_code == 303


def test_the_session_slides_while_used_and_ends_when_idle_or_too_old(
    web: Any, clock: FixedClock
) -> None:
    sign_in(web)
    # 20 of 30 idle minutes later: the answer renews the cookie.
    clock.advance(minutes=20)
    r = web.get("/journal")
    assert r.status_code == 200
    assert any(c.startswith(COOKIE) for c in r.headers.get_list("set-cookie"))
    # Used every 20 minutes, it lives on, but not past 12 hours from sign-in.
    for _ in range(34):
        clock.advance(minutes=20)
        assert web.get("/journal").status_code == 200
    clock.advance(minutes=20)
    assert web.get("/journal").status_code == 303
    # And 31 idle minutes end a fresh one.
    web.cookies.clear()
    sign_in(web)
    clock.advance(minutes=31)
    assert web.get("/journal").status_code == 303


def test_another_teachers_group_is_not_reachable_by_address(web: Any) -> None:
    sign_in(web, username="lebedeva")
    r = web.get("/journal/g1/math")
    assert r.status_code in (403, 404)
    assert 'role="alert"' in r.text


def test_a_device_that_signed_in_before_passes_a_username_under_attack(web: Any) -> None:
    """The device cookie set by a page sign-in is presented by the next page sign-in (its path
    covers /login), so an attacker's failures elsewhere do not lock the teacher out of her own
    browser."""
    from fastapi.testclient import TestClient

    assert sign_in(web).status_code == 303
    web.cookies.delete(COOKIE)  # signed out; the browser keeps its device cookie as set
    with TestClient(web.app, follow_redirects=False) as attacker:
        for _ in range(6):  # someone else guesses her password: the username is throttled
            sign_in(attacker, password="guessing-" + "x" * 8)
        assert sign_in(attacker).status_code == 429  # a new device waits
    r = sign_in(web)
    assert r.status_code == 303 and r.headers["location"] == "/journal"
