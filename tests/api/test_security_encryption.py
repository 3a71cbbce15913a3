"""R-SEC-2: with `cipher_key` set, events are stored encrypted (AES-GCM): the raw state in
the database holds none of the journal's words, while the application reads them back.
Without the key the same words are there in the clear, which shows the check can fail."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.cipher import AESCipher
from fastapi.testclient import TestClient

from adapters.clock import FixedClock
from api.app import create_app
from api.bootstrap import Services
from tests.api.helpers import TEACHER_MATH, mark_body
from tests.conftest import POSTGRES_URL, Api, make_settings

# Plaintext that a roster import and a control-work mark put into events.
PLAINTEXT = (b"math", b"control", b"sght", b"2026-2027", "Математика".encode())


def raw_states(store: dict[str, Any]) -> list[bytes]:
    """Every stored event's `state`, as the database holds it."""
    if "postgres_schema" in store:
        with psycopg.connect(POSTGRES_URL) as conn:
            rows = conn.execute(
                f'SELECT state FROM "{store["postgres_schema"]}".ejournal_events'
            ).fetchall()
    else:
        path = store["database_url"][len("sqlite:///") :]
        with sqlite3.connect(path) as conn:
            rows = conn.execute("SELECT state FROM stored_events").fetchall()
    states = [bytes(row[0]) for row in rows]
    assert states, "no events stored"
    return states


def build(store: dict[str, Any], where: Path, clock: FixedClock, **settings: Any) -> Services:
    return Services.build(make_settings(store, where, **settings), clock)


def import_roster(services: Services, roster: dict[str, Any]) -> None:
    from adapters.roster import parse_roster
    from adapters.roster_import import import_roster as run_import
    from domain.actors import system_actor

    run_import(services.journal, services.passwords, parse_roster(roster), system_actor("sght"))


def record_control_mark(services: Services) -> dict[str, Any]:
    with TestClient(create_app(services=services)) as client:
        api = Api(client)
        t1 = api.as_user(TEACHER_MATH)
        r = client.post("/api/v1/marks", headers=t1, json=mark_body(work_kind="control", value=4))
        assert r.status_code == 201, r.text
        mark: dict[str, Any] = r.json()
        return mark


def read_back(services: Services) -> list[dict[str, Any]]:
    with TestClient(create_app(services=services)) as client:
        api = Api(client)
        r = client.get("/api/v1/students/s01/journal", headers=api.as_user(TEACHER_MATH))
        assert r.status_code == 200, r.text
        marks: list[dict[str, Any]] = r.json()["marks"]
        return marks


@pytest.fixture
def cipher_key() -> str:
    key = AESCipher.create_key(num_bytes=32)
    assert isinstance(key, str) and key
    return key


@pytest.fixture
def encrypted(
    store: dict[str, Any],
    tmp_path: Path,
    clock: FixedClock,
    cipher_key: str,
    roster: dict[str, Any],
) -> Iterator[Services]:
    services = build(store, tmp_path, clock, cipher_key=cipher_key)
    try:
        import_roster(services, roster)
        yield services
    finally:
        services.close()


def test_with_the_cipher_key_the_stored_events_hold_no_plaintext(
    encrypted: Services, store: dict[str, Any]
) -> None:
    mark = record_control_mark(encrypted)
    states = raw_states(store)
    assert len(states) > 50  # the roster and the mark
    for state in states:
        for word in PLAINTEXT:
            assert word not in state, (word, state[:200])
        with pytest.raises(ValueError):  # not JSON (nor UTF-8) at all
            json.loads(state)

    # The application reads the journal back in the clear.
    [got] = read_back(encrypted)
    assert got["mark_id"] == mark["mark_id"]
    assert (got["subject_id"], got["work_kind"], got["value"]) == ("math", "control", 4)


def test_an_encrypted_store_reopened_with_the_same_key_reads_the_same(
    encrypted: Services,
    store: dict[str, Any],
    tmp_path: Path,
    clock: FixedClock,
    cipher_key: str,
) -> None:
    mark = record_control_mark(encrypted)
    before = read_back(encrypted)
    encrypted.close()
    reopened = build(store, tmp_path, clock, cipher_key=cipher_key)
    try:
        assert read_back(reopened) == before
        assert [m["mark_id"] for m in before] == [mark["mark_id"]]
    finally:
        reopened.close()


def test_without_the_cipher_key_the_stored_events_hold_plaintext(
    services: Services, store: dict[str, Any], roster: dict[str, Any]
) -> None:
    assert not services.settings.cipher_key
    import_roster(services, roster)
    record_control_mark(services)
    joined = b"\n".join(raw_states(store))
    for word in PLAINTEXT:
        assert word in joined, word
    [got] = read_back(services)
    assert (got["subject_id"], got["work_kind"]) == ("math", "control")
