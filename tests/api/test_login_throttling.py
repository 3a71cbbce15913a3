"""Issue 11: login throttling that does not lock out a school, device cookies, client address.

- failures of other usernames at one (NAT) address never block a right password below the
  per-address limit (`login_address_failures`, 200 per 15 min; lowered in some tests);
- a username under attack is throttled for new devices (429), while a device that signed in as
  that user before presents its `ejournal_device` cookie and still signs in (200);
- X-Forwarded-For is believed only from EJOURNAL_TRUSTED_PROXIES (right-most untrusted hop).
TestClient's peer is "testclient"; other clients set theirs with `client=(host, port)`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from adapters.clock import FixedClock
from adapters.security import DeviceCookies
from api.bootstrap import Services
from api.client_address import client_address, parse_networks
from tests.api.helpers import ADMIN, DEPUTY, TEACHER_MATH, assert_problem
from tests.conftest import PASSWORD, Api

TOKEN = "/api/v1/auth/token"
WRONG = "wrong-password-0000"
SCHOOL = "198.51.100.7"  # the school's one NAT address
COOKIE = "ejournal_device"


def login(
    client: TestClient, username: str, password: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return client.post(
        TOKEN, data={"username": username, "password": password}, headers=headers or {}
    )


def device(api: Api, host: str = SCHOOL) -> TestClient:
    """A browser of its own (its own cookie jar) at `host`; the app is shared."""
    return TestClient(api.client.app, client=(host, 50000))


def ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert body["access_token"]
    return body


def locked(r: httpx.Response) -> int:
    assert_problem(r, 429, "too-many-attempts")
    assert "access_token" not in r.text
    return int(r.headers["retry-after"])


def wrong(client: TestClient, username: str, n: int = 5) -> None:
    for _ in range(n):
        assert_problem(login(client, username, WRONG), 401, "unauthenticated")


def events(services: Services, event: str) -> list[dict[str, Any]]:
    return [e for e in services.security.entries("sght") if e["event"] == event]


# --- the school behind one address ----------------------------------------------------------


def test_many_students_typos_at_one_address_do_not_lock_out_teachers(api: Api) -> None:
    students = device(api)
    for n in range(12):  # more than the old five, far below the school-sized limit
        assert_problem(login(students, f"student{n}", WRONG), 401, "unauthenticated")
    wrong(students, "st.aleksandrov", 4)
    # A teacher and the deputy on new devices at the same address sign in.
    ok(login(device(api), TEACHER_MATH, PASSWORD))
    ok(login(device(api), DEPUTY, PASSWORD))


def test_the_address_limit_slows_spraying_for_new_devices_only(
    api: Api, imported: Services
) -> None:
    imported.settings.login_address_failures = 10
    teacher = device(api)
    ok(login(teacher, TEACHER_MATH, PASSWORD))  # the teacher's browser, signed in before
    sprayer = device(api)
    for n in range(10):
        assert_problem(login(sprayer, f"guess{n}", WRONG), 401, "unauthenticated")
    # Spraying goes on: the address is throttled for devices without a cookie...
    assert locked(login(sprayer, f"guess{99}", WRONG)) == 30
    assert locked(login(device(api), ADMIN, PASSWORD)) == 30
    # ...but not elsewhere, and not for the teacher's browser.
    ok(login(device(api, "203.0.113.50"), ADMIN, PASSWORD))
    ok(login(teacher, TEACHER_MATH, PASSWORD))
    lock = events(imported, "login_locked")
    assert lock == [] or all(e["detail"].startswith("address locked") for e in lock)
    used = events(imported, "login_device_cookie")
    assert [e["actor_id"] for e in used] == ["t1"]
    assert "address lock" in used[0]["detail"]
    assert used[0]["client"] == SCHOOL


# --- a username under attack: device cookies --------------------------------------------


def test_the_token_answer_sets_an_http_only_device_cookie(api: Api) -> None:
    r = login(device(api), TEACHER_MATH, PASSWORD)
    ok(r)
    cookies = [c for c in r.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}=")]
    assert len(cookies) == 1, r.headers
    attributes = {a.strip().split("=")[0].lower(): a for a in cookies[0].split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"].strip().lower() == "samesite=strict"
    assert attributes["path"].strip() == "Path=/"
    assert attributes["max-age"].strip() == f"Max-Age={180 * 24 * 3600}"
    assert "secure" not in attributes  # plain http here; https: see the proxy test below
    # A failed login sets none.
    r = login(device(api), TEACHER_MATH, WRONG)
    assert not [c for c in r.headers.get_list("set-cookie") if c.startswith(COOKIE)]


def test_a_username_under_attack_is_refused_without_the_cookie_and_served_with_it(
    api: Api, imported: Services, clock: FixedClock
) -> None:
    teacher = device(api)
    ok(login(teacher, TEACHER_MATH, PASSWORD))
    attacker = device(api)
    wrong(attacker, TEACHER_MATH)
    # Without the cookie — the attacker, or the teacher on a new device — 429, even the right
    # password.
    assert locked(login(attacker, TEACHER_MATH, PASSWORD)) == 30
    assert locked(login(device(api), TEACHER_MATH, PASSWORD)) == 30
    assert locked(login(device(api, "203.0.113.50"), TEACHER_MATH, PASSWORD)) == 30
    # The teacher's own browser, which signed in before, signs in.
    ok(login(teacher, TEACHER_MATH, PASSWORD))
    ok(login(teacher, TEACHER_MATH, PASSWORD))  # again: the cookie was renewed
    # Its success does not reset the attack's count: new devices are still refused.
    assert locked(login(device(api), TEACHER_MATH, PASSWORD)) == 30

    locks = events(imported, "login_locked")
    assert [(e["actor_id"], e["detail"]) for e in locks] == [("t1", "username locked for 30 s")]
    assert locks[0]["client"] == SCHOOL
    used = events(imported, "login_device_cookie")
    assert len(used) == 2 and all(e["actor_id"] == "t1" for e in used)
    assert "username lock" in used[0]["detail"]

    clock.advance(seconds=30)
    ok(login(device(api), TEACHER_MATH, PASSWORD))


def test_a_cookie_for_another_username_or_a_forged_one_does_not_help(api: Api) -> None:
    browser = device(api)
    ok(login(browser, ADMIN, PASSWORD))  # the cookie names kovalev
    wrong(device(api), TEACHER_MATH)
    assert locked(login(browser, TEACHER_MATH, PASSWORD)) == 30
    forged = TestClient(api.client.app, client=(SCHOOL, 1))
    forged.cookies.set(COOKIE, "v1.c29rb2xvdmE.00ff.9999999999.not-a-real-mac")
    assert locked(login(forged, TEACHER_MATH, PASSWORD)) == 30


def test_failures_with_a_device_cookie_lock_that_device_only(api: Api, imported: Services) -> None:
    teacher = device(api)
    ok(login(teacher, TEACHER_MATH, PASSWORD))
    wrong(teacher, TEACHER_MATH)
    assert locked(login(teacher, TEACHER_MATH, PASSWORD)) == 30
    # The cookie's failures are its own: the username is not locked for other devices.
    ok(login(device(api), TEACHER_MATH, PASSWORD))
    failed = events(imported, "login_failed")
    assert len(failed) == 5 and all(e["detail"] == "device cookie" for e in failed)
    assert [e["detail"] for e in events(imported, "login_locked")] == ["device locked for 30 s"]


def test_device_cookies_are_signed_name_the_username_and_expire(clock: FixedClock) -> None:
    cookies = DeviceCookies("a-secret", days=180)
    now = clock.now()
    value = cookies.issue(" Sokolova", now)
    assert cookies.device(value, "sokolova", now)
    assert cookies.device(value, "SOKOLOVA ", now) == cookies.device(value, "sokolova", now)
    assert cookies.device(value, "kovalev", now) is None
    assert cookies.device(value, "sokolova", now + timedelta(days=180)) is None
    assert DeviceCookies("another-secret", days=180).device(value, "sokolova", now) is None
    head, mac = value.rsplit(".", 1)
    assert cookies.device(f"{head}.{mac[::-1]}", "sokolova", now) is None
    for junk in (None, "", "x", "v1.....", "v1.!!.a.b.c", "a" * 5000):
        assert cookies.device(junk, "sokolova", now) is None
    # Two logins, two different devices.
    assert cookies.device(cookies.issue("sokolova", now), "sokolova", now) != cookies.device(
        value, "sokolova", now
    )


# --- client address ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("peer", "header", "trusted", "expected"),
    [
        ("127.0.0.1", "6.6.6.6", "", "127.0.0.1"),  # nothing trusted: the header is ignored
        ("10.9.9.9", "6.6.6.6", "127.0.0.1", "10.9.9.9"),  # the peer is not the proxy
        ("127.0.0.1", "203.0.113.9", "127.0.0.1", "203.0.113.9"),
        ("127.0.0.1", "6.6.6.6, 203.0.113.9", "127.0.0.1", "203.0.113.9"),  # spoofed left
        ("127.0.0.1", "6.6.6.6, 203.0.113.9, 10.0.0.2", "127.0.0.1,10.0.0.0/8", "203.0.113.9"),
        ("127.0.0.1", "10.0.0.3, 10.0.0.2", "127.0.0.1, 10.0.0.0/8", "10.0.0.3"),
        ("127.0.0.1", None, "127.0.0.1", "127.0.0.1"),
        ("127.0.0.1", " , ", "127.0.0.1", "127.0.0.1"),
        ("::1", "2001:db8::5", "::1", "2001:db8::5"),
        ("testclient", "6.6.6.6", "127.0.0.1", "testclient"),
    ],
)
def test_client_address(peer: str, header: str | None, trusted: str, expected: str) -> None:
    assert client_address(peer, header, parse_networks(trusted)) == expected


def test_a_bad_trusted_proxy_is_an_error() -> None:
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        parse_networks("127.0.0.1, localhost")


def test_x_forwarded_for_is_ignored_without_trusted_proxies(api: Api, imported: Services) -> None:
    imported.settings.login_address_failures = 6
    local = TestClient(api.client.app, client=("127.0.0.1", 40000))
    # Rotating the header does not dodge the address's count...
    for n in range(6):
        r = login(local, f"guess{n}", WRONG, {"X-Forwarded-For": f"10.0.0.{n}"})
        assert_problem(r, 401, "unauthenticated")
    assert locked(login(local, ADMIN, PASSWORD, {"X-Forwarded-For": "10.0.0.99"})) == 30
    # ...and the security log records the real peer, not the lie.
    wrong(api.client, TEACHER_MATH, 1)
    r = login(api.client, TEACHER_MATH, WRONG, {"X-Forwarded-For": "6.6.6.6"})
    assert_problem(r, 401, "unauthenticated")
    clients = [e["client"] for e in events(imported, "login_failed")]
    assert clients == ["testclient", "testclient"]


def test_x_forwarded_for_is_honoured_from_a_trusted_proxy(imported: Services) -> None:
    from api.app import create_app

    imported.settings.trusted_proxies = "127.0.0.1"
    app = create_app(services=imported)
    proxy = TestClient(app, client=("127.0.0.1", 40000))
    stranger = TestClient(app, client=("10.9.9.9", 40000))
    spoofed = {"X-Forwarded-For": "6.6.6.6, 203.0.113.9", "X-Forwarded-Proto": "https"}
    assert_problem(login(proxy, TEACHER_MATH, WRONG, spoofed), 401, "unauthenticated")
    assert_problem(login(stranger, TEACHER_MATH, WRONG, spoofed), 401, "unauthenticated")
    clients = sorted(e["client"] for e in events(imported, "login_failed"))
    assert clients == ["10.9.9.9", "203.0.113.9"]
    # The proxy said https: the device cookie is Secure.
    r = login(proxy, TEACHER_MATH, PASSWORD, spoofed)
    ok(r)
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(COOKIE))
    assert "secure" in cookie.lower()
    r = login(stranger, TEACHER_MATH, PASSWORD, spoofed)
    ok(r)
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(COOKIE))
    assert "secure" not in cookie.lower()


def test_uvicorn_never_rewrites_the_client_itself(
    imported: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn trusts X-Forwarded-For from 127.0.0.1 by default; `ejournal serve` turns it off,
    in its own process (`--workers 1`) and in each worker of several (api/worker.py)."""
    import uvicorn

    import api.app
    from api.cli import _serve
    from api.worker import config

    seen: dict[str, Any] = {}

    class Server:  # the one-process path: uvicorn.Server(uvicorn.Config(app, ...))
        def __init__(self, config: uvicorn.Config) -> None:
            seen["proxy_headers"] = config.proxy_headers
            self.started = False

        async def startup(self, sockets: Any = None) -> None:
            self.started = True

        def run(self) -> None:
            seen["ran"] = True

    monkeypatch.setattr(api.app, "create_app", lambda settings: "app")
    monkeypatch.setattr(uvicorn, "Server", Server)
    _serve(imported.settings, "127.0.0.1", 0)
    assert seen["ran"] and seen["proxy_headers"] is False
    assert config("127.0.0.1", 0).proxy_headers is False
