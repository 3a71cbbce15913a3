"""Idempotency-Key on POSTs (API.md 1.1), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.service.core import idempotency_claim
from api.bootstrap import Services
from tests.api.helpers import DEPUTY, TEACHER_MATH, assert_problem, journal, mark_body
from tests.conftest import Api


def marks_of(api: Api, headers: dict[str, str]) -> list[dict[str, Any]]:
    return list(journal(api, headers)["marks"])


def test_a_retry_with_the_key_answers_the_first_answer_and_writes_nothing(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    keyed = {**t1, "Idempotency-Key": "3f1c2a7e-0000-4000-8000-000000000001"}
    first = api.client.post("/api/v1/marks", headers=keyed, json=mark_body(value=4))
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = api.client.post("/api/v1/marks", headers=keyed, json=mark_body(value=4))
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert [m["mark_id"] for m in marks_of(api, t1)] == [first.json()["mark_id"]]


def test_the_same_key_with_another_body_is_refused(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    keyed = {**t1, "Idempotency-Key": "k-reused"}
    assert api.client.post("/api/v1/marks", headers=keyed, json=mark_body()).status_code == 201
    r = api.client.post("/api/v1/marks", headers=keyed, json=mark_body(value=3))
    assert_problem(r, 422, "idempotency-key-reused")
    assert len(marks_of(api, t1)) == 1


def test_keys_belong_to_their_user(api: Api) -> None:
    """Another user's request with the same key is a request of its own."""
    t1, dep = api.as_user(TEACHER_MATH), api.as_user(DEPUTY)
    a = api.client.post(
        "/api/v1/marks", headers={**t1, "Idempotency-Key": "same"}, json=mark_body()
    )
    b = api.client.post(
        "/api/v1/marks", headers={**dep, "Idempotency-Key": "same"}, json=mark_body()
    )
    assert a.status_code == b.status_code == 201
    assert "Idempotent-Replayed" not in b.headers
    assert len(marks_of(api, t1)) == 2


def test_a_failed_request_is_not_remembered(api: Api) -> None:
    t1 = api.as_user(TEACHER_MATH)
    keyed = {**t1, "Idempotency-Key": "k-failed"}
    # A lesson date outside the year: refused, nothing written.
    bad = api.client.post("/api/v1/marks", headers=keyed, json=mark_body(lesson_date="2020-01-01"))
    assert bad.status_code == 422
    again = api.client.post(
        "/api/v1/marks", headers=keyed, json=mark_body(lesson_date="2020-01-01")
    )
    assert again.status_code == 422
    assert "Idempotent-Replayed" not in again.headers
    assert marks_of(api, t1) == []


@pytest.mark.parametrize("key", ["", "x" * 256, "ключ", "a\tb"])
def test_malformed_keys_are_refused(api: Api, key: str) -> None:
    t1 = api.as_user(TEACHER_MATH)
    r = api.client.post(
        "/api/v1/marks",
        headers={**t1, "Idempotency-Key": key.encode("utf-8")},  # type: ignore[dict-item]
        json=mark_body(),
    )
    assert_problem(r, 422, "validation-error")
    assert marks_of(api, t1) == []


def test_a_key_in_flight_is_409(api: Api) -> None:
    """While the first request with a key runs, a second one is told to wait."""
    t1 = api.as_user(TEACHER_MATH)
    middleware = _middleware(api)
    key = "k-flight"
    user = next(iter(_users(api, t1)))
    middleware._in_flight.add((user, key))
    try:
        r = api.client.post(
            "/api/v1/marks", headers={**t1, "Idempotency-Key": key}, json=mark_body()
        )
        assert_problem(r, 409, "idempotency-in-flight")
        assert r.headers["Retry-After"] == "1"
    finally:
        middleware._in_flight.discard((user, key))
    assert marks_of(api, t1) == []


def test_the_key_commits_with_the_events(imported: Services) -> None:
    """The recorder stores the key in the events' transaction: a second save with an
    already stored key is rolled back whole."""
    from datetime import date

    from adapters.recorders import IdempotencyClaim, KeyAlreadyUsed
    from domain.actors import Actor

    app = imported.journal
    teacher = Actor("t1", "teacher", "sght", frozenset({"teacher"}))
    claim = IdempotencyClaim("sght:t1", "k", "f", "2026-09-03T05:00:00+00:00")
    token = idempotency_claim.set(claim)
    try:
        written = app.record_mark(
            teacher,
            student_id="s01",
            subject_id="math",
            lesson_date=date(2026, 9, 2),
            work_kind="oral",
            value=5,
        )
    finally:
        idempotency_claim.reset(token)
    assert claim.stored and claim.positions[-1] == written.position
    head = app.recorder.max_notification_id()
    # Another request (another claim object) with the same stored key: nothing is written.
    token = idempotency_claim.set(IdempotencyClaim("sght:t1", "k", "f", "x"))
    try:
        with pytest.raises(KeyAlreadyUsed):
            app.record_mark(
                teacher,
                student_id="s02",
                subject_id="math",
                lesson_date=date(2026, 9, 2),
                work_kind="oral",
                value=3,
            )
    finally:
        idempotency_claim.reset(token)
    assert app.recorder.max_notification_id() == head
    assert app.read_journal(app.locate(written.record.mark_id, "mark", teacher)) is not None


def _middleware(api: Api) -> Any:
    from api.idempotency import IdempotencyMiddleware

    stack = api.client.app.middleware_stack
    while stack is not None and not isinstance(stack, IdempotencyMiddleware):
        stack = getattr(stack, "app", None)
    assert stack is not None
    return stack


def _users(api: Api, headers: dict[str, str]) -> set[str]:
    user = _middleware(api)._user(headers["Authorization"].encode())
    return {user}
