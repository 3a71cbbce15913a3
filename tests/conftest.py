"""Shared fixtures: the same storage and API tests run on SQLite and on PostgreSQL.

PostgreSQL comes from EJOURNAL_TEST_POSTGRES_URL; each test gets its own schema, dropped after.
Without a reachable server the PostgreSQL cases skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.clock import FixedClock
from adapters.settings import Settings
from api.bootstrap import Services

POSTGRES_URL = os.environ.get(
    "EJOURNAL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_ROSTER = ROOT / "examples" / "roster.json"
# 2026-09-03 10:00 in Perm (UTC+5): a school day in the example roster's first semester.
SCHOOL_MORNING = datetime(2026, 9, 3, 5, 0, tzinfo=UTC)

_pg_error: str | None = None


def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can (asked once)."""
    global _pg_error
    if _pg_error is None:
        try:
            with psycopg.connect(POSTGRES_URL, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _pg_error = ""
        except psycopg.Error as e:
            _pg_error = f"PostgreSQL at {POSTGRES_URL} is not reachable: {e}".strip()
    return _pg_error or None


def require_postgres() -> None:
    reason = postgres_unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs PostgreSQL: {reason}")
        pytest.skip(reason)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Settings for a fresh, empty store of each kind."""
    if request.param == "sqlite":
        yield {"database_url": f"sqlite:///{tmp_path / 'ejournal.db'}"}
        return
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield {"database_url": POSTGRES_URL, "postgres_schema": schema}
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def make_settings(store: dict[str, Any], tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        var_dir=tmp_path / "var",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        **store,
        **extra,
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(SCHOOL_MORNING)


@pytest.fixture
def services(store: dict[str, Any], tmp_path: Path, clock: FixedClock) -> Iterator[Services]:
    built = Services.build(make_settings(store, tmp_path), clock)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def roster() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE_ROSTER.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def imported(services: Services, roster: dict[str, Any]) -> Services:
    """Services with the example roster imported (as `ejournal import` does)."""
    from adapters.roster import parse_roster
    from adapters.roster_import import import_roster
    from domain.actors import system_actor

    import_roster(services.journal, services.passwords, parse_roster(roster), system_actor("sght"))
    return services


PASSWORD = "demo-password-2025"


class Api:
    """A TestClient that logs in as a user by username."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def token(self, username: str, password: str = PASSWORD) -> str:
        r = self.client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def as_user(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}


@pytest.fixture
def api(imported: Services) -> Iterator[Api]:
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(services=imported)) as client:
        yield Api(client)
