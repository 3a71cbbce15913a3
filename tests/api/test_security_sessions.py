"""R-SEC-1/3: password change and account deactivation end sessions at once; denied calls
go to the security log, which only an administrator reads."""

from __future__ import annotations

from typing import Any

import httpx

from adapters.clock import FixedClock
from adapters.passwords import MIN_PASSWORD_LENGTH
from api.bootstrap import Services
from tests.api.helpers import (
    ADMIN,
    DEPUTY,
    DIRECTOR,
    PARENT_OF_S01,
    STUDENT_S01,
    TEACHER_MATH,
    assert_problem,
    mark_body,
)
from tests.conftest import PASSWORD, Api

PASSWORD_URL = "/api/v1/auth/password"
LOG_URL = "/api/v1/security-log"
NEW_PASSWORD = "a-new-password-for-2026"


def deactivation_url(person_id: str) -> str:
    return f"/api/v1/accounts/{person_id}/deactivation"


def login(api: Api, username: str, password: str) -> httpx.Response:
    return api.client.post("/api/v1/auth/token", data={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def read_s01(api: Api, headers: dict[str, str]) -> httpx.Response:
    return api.client.get("/api/v1/students/s01/journal", headers=headers)


def change_password(api: Api, headers: dict[str, str], current: str, new: str) -> httpx.Response:
    return api.client.post(
        PASSWORD_URL, headers=headers, json={"current_password": current, "new_password": new}
    )


def security_log(api: Api, admin: dict[str, str]) -> list[dict[str, Any]]:
    r = api.client.get(LOG_URL, headers=admin)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


# --- password change -----------------------------------------------------------------------


def test_a_wrong_current_password_changes_nothing(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    r = change_password(api, t1, "not-the-current-password", NEW_PASSWORD)
    body = assert_problem(r, 422, "validation-error")
    assert body["errors"][0]["field"] == "current_password"
    assert read_s01(api, t1).status_code == 200
    assert login(api, TEACHER_MATH, PASSWORD).status_code == 200
    assert login(api, TEACHER_MATH, NEW_PASSWORD).status_code == 401


def test_a_new_password_shorter_than_twelve_is_refused(api: Api) -> None:
    assert MIN_PASSWORD_LENGTH == 12
    t1 = api.as_user(TEACHER_MATH)
    for new in ("x" * 11, "", "short"):
        body = assert_problem(change_password(api, t1, PASSWORD, new), 422, "validation-error")
        assert any(e["field"].endswith("new_password") for e in body["errors"]), body
    # The same password again is no change either.
    assert_problem(change_password(api, t1, PASSWORD, PASSWORD), 422, "validation-error")
    assert read_s01(api, t1).status_code == 200
    assert login(api, TEACHER_MATH, PASSWORD).status_code == 200


def test_a_password_change_ends_every_session_at_once(api: Api) -> None:
    first = api.as_user(TEACHER_MATH)
    second = api.as_user(TEACHER_MATH)  # another device
    assert read_s01(api, first).status_code == 200

    r = change_password(api, first, PASSWORD, "y" * MIN_PASSWORD_LENGTH)
    assert r.status_code == 204, r.text
    assert r.content == b""

    for old in (first, second):
        assert_problem(read_s01(api, old), 401, "unauthenticated")
        assert_problem(change_password(api, old, "y" * 12, NEW_PASSWORD), 401, "unauthenticated")
    assert_problem(login(api, TEACHER_MATH, PASSWORD), 401, "unauthenticated")
    r = login(api, TEACHER_MATH, "y" * MIN_PASSWORD_LENGTH)
    assert r.status_code == 200, r.text
    assert read_s01(api, bearer(r.json()["access_token"])).status_code == 200


def test_a_student_changes_their_own_password(api: Api) -> None:
    s01 = api.as_user(STUDENT_S01)
    assert change_password(api, s01, PASSWORD, NEW_PASSWORD).status_code == 204
    assert_problem(read_s01(api, s01), 401, "unauthenticated")
    assert read_s01(api, bearer(api.token(STUDENT_S01, NEW_PASSWORD))).status_code == 200
    # Nobody else's password changed.
    assert login(api, PARENT_OF_S01, PASSWORD).status_code == 200


def test_a_password_change_needs_a_session(api: Api) -> None:
    r = api.client.post(
        PASSWORD_URL, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert_problem(r, 401, "unauthenticated")
    assert login(api, TEACHER_MATH, PASSWORD).status_code == 200


# --- deactivation --------------------------------------------------------------------------


def test_an_admin_deactivates_a_teacher_and_their_tokens_stop_at_once(api: Api) -> None:
    admin = api.as_user(ADMIN)
    t1 = api.as_user(TEACHER_MATH)
    assert read_s01(api, t1).status_code == 200

    r = api.client.post(deactivation_url("t1"), headers=admin, json={"reason": "Уволилась"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["person_id"] == "t1" and body["active"] is False
    assert isinstance(body["position"], int)

    assert_problem(read_s01(api, t1), 401, "unauthenticated")
    r = api.client.post("/api/v1/marks", headers=t1, json=mark_body())
    assert_problem(r, 401, "unauthenticated")
    # Logging in fails just as a wrong password does.
    wrong = assert_problem(login(api, TEACHER_MATH, "not-the-password"), 401, "unauthenticated")
    assert assert_problem(login(api, TEACHER_MATH, PASSWORD), 401, "unauthenticated") == wrong
    # Everyone else goes on.
    assert read_s01(api, api.as_user(DEPUTY)).status_code == 200
    # A second deactivation, one's own, and nobody: refused.
    r = api.client.post(deactivation_url("t1"), headers=admin, json={"reason": "ещё раз"})
    assert_problem(r, 422, "validation-error")
    r = api.client.post(deactivation_url("adm1"), headers=admin, json={"reason": "себя"})
    assert_problem(r, 422, "validation-error")
    r = api.client.post(deactivation_url("nobody"), headers=admin, json={"reason": "никого"})
    assert_problem(r, 404, "not-found")


def test_a_deactivation_needs_a_reason(api: Api) -> None:
    admin = api.as_user(ADMIN)
    for body in ({}, {"reason": ""}):
        r = api.client.post(deactivation_url("t1"), headers=admin, json=body)
        assert_problem(r, 422, "validation-error")
    assert login(api, TEACHER_MATH, PASSWORD).status_code == 200


def test_only_an_admin_deactivates_accounts(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    for who in (DEPUTY, DIRECTOR, TEACHER_MATH, "fedorov"):
        r = api.client.post(
            deactivation_url("t1" if who != TEACHER_MATH else "t2"),
            headers=api.as_user(who),
            json={"reason": "попытка"},
        )
        assert_problem(r, 403, "forbidden")
    # Nothing happened: the teachers' sessions and logins go on.
    assert read_s01(api, t1).status_code == 200
    assert login(api, TEACHER_MATH, PASSWORD).status_code == 200
    assert login(api, "fedorov", PASSWORD).status_code == 200


# --- the security log ----------------------------------------------------------------------


def _student_posts_a_mark(api: Api) -> None:
    r = api.client.post("/api/v1/marks", headers=api.as_user(STUDENT_S01), json=mark_body())
    assert_problem(r, 403, "forbidden")


def _check_denied(items: list[dict[str, Any]]) -> None:
    denied = [e for e in items if e["event"] == "denied"]
    assert len(denied) == 1, items
    [entry] = denied
    assert entry["actor_id"] == "s01"
    assert entry["route"] == "/api/v1/marks"
    assert entry["method"] == "POST"
    assert entry["status"] == 403
    assert entry["client"] == "testclient"
    assert entry["at"].startswith("2026-09-03T05:00:00")


def test_a_denied_call_is_written_to_the_security_log(api: Api, imported: Services) -> None:
    _student_posts_a_mark(api)
    _check_denied(imported.security.entries("sght"))


def test_an_admin_reads_denied_calls_in_the_security_log(api: Api) -> None:
    admin = api.as_user(ADMIN)
    _student_posts_a_mark(api)
    _check_denied(security_log(api, admin))
    # The admin's own reads are not denials: still the one entry.
    _check_denied(security_log(api, admin))


def test_the_security_log_pages_backwards(api: Api, clock: FixedClock) -> None:
    admin = api.as_user(ADMIN)
    for _ in range(3):
        _student_posts_a_mark(api)
        clock.advance(seconds=1)
    r = api.client.get(LOG_URL, headers=admin, params={"limit": 2})
    assert r.status_code == 200, r.text
    first = r.json()
    assert len(first["items"]) == 2 and first["next_before"] == first["items"][-1]["at"]
    r = api.client.get(LOG_URL, headers=admin, params={"limit": 2, "before": first["next_before"]})
    assert r.status_code == 200, r.text
    rest = r.json()["items"]
    assert len(rest) == 1
    assert rest[0]["at"] < first["items"][-1]["at"]
    assert_problem(
        api.client.get(LOG_URL, headers=admin, params={"limit": 0}), 422, "validation-error"
    )


def test_only_an_admin_reads_the_security_log(api: Api) -> None:
    _student_posts_a_mark(api)
    for who in (STUDENT_S01, PARENT_OF_S01, TEACHER_MATH, DEPUTY, DIRECTOR):
        assert_problem(api.client.get(LOG_URL, headers=api.as_user(who)), 403, "forbidden")
    assert_problem(api.client.get(LOG_URL), 401, "unauthenticated")
