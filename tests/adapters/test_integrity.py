"""Tamper evidence on both stores: a changed or deleted stored event fails `verify`, named."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from adapters.integrity import verify_store
from api.bootstrap import Services
from domain.actors import Actor
from domain.integrity import merkle_root

TEACHER = Actor("t1", "teacher", "sght", frozenset({"teacher"}))
ROOT = Path(__file__).resolve().parents[2]


def write_some(services: Services) -> list[int]:
    app = services.journal
    positions = []
    for student in ("s01", "s02"):
        w = app.record_mark(
            TEACHER,
            student_id=student,
            subject_id="math",
            lesson_date=date(2026, 9, 2),
            work_kind="oral",
            value=4,
        )
        positions.append(w.position)
    return positions


def raw(services: Services, sql: str, params: tuple[object, ...]) -> None:
    """Change the event store behind the application's back."""
    with services.db.transaction() as cur:
        cur.execute(sql, params)


def events_table(services: Services) -> tuple[str, str]:
    if services.db.dialect == "postgresql":
        return "ejournal_events", "notification_id"
    return "stored_events", "rowid"


def test_an_untouched_store_verifies_with_a_root_per_organisation(imported: Services) -> None:
    write_some(imported)
    result = verify_store(imported.journal)
    assert result.ok and result.events == imported.journal.recorder.max_notification_id()
    with imported.db.read() as cur:
        cur.execute("SELECT hash FROM event_hashes ORDER BY position")
        leaves = [bytes.fromhex(r[0]) for r in cur.fetchall()]
    assert result.roots == {"sght": merkle_root(leaves)}


def test_one_changed_byte_in_a_stored_event_is_named(imported: Services) -> None:
    position = write_some(imported)[0]
    table, key = events_table(imported)
    with imported.db.read() as cur:
        cur.execute(f"SELECT state, originator_id FROM {table} WHERE {key} = ?", (position,))
        state, stream = cur.fetchone()
    forged = bytes(state).replace(b'"value":4', b'"value":5')
    assert forged != bytes(state)
    raw(imported, f"UPDATE {table} SET state = ? WHERE {key} = ?", (forged, position))
    result = verify_store(imported.journal)
    assert not result.ok and result.broken is not None
    assert result.broken.position == position
    assert result.broken.stream_id.replace("-", "") == str(stream).replace("-", "")
    assert "изменено" in result.broken.reason


def test_a_deleted_event_is_named(imported: Services) -> None:
    position = write_some(imported)[-1]
    table, key = events_table(imported)
    raw(imported, f"DELETE FROM {table} WHERE {key} = ?", (position,))
    result = verify_store(imported.journal)
    assert result.broken is not None and result.broken.position == position
    assert "удалено" in result.broken.reason


def test_the_verify_command_exits_non_zero_naming_the_event(
    imported: Services, store, tmp_path
) -> None:
    position = write_some(imported)[0]
    env = dict(
        os.environ,
        EJOURNAL_DATABASE_URL=store["database_url"],
        EJOURNAL_VAR_DIR=str(tmp_path / "var"),
        EJOURNAL_SECRET_KEY="verify-test-secret-key-long-enough-for-hs256",
    )
    if "postgres_schema" in store:
        env["EJOURNAL_POSTGRES_SCHEMA"] = store["postgres_schema"]
    ok = subprocess.run(
        [sys.executable, "-m", "api.cli", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "нарушений нет" in ok.stderr
    table, key = events_table(imported)
    raw(imported, f"UPDATE {table} SET state = ? WHERE {key} = ?", (b'{"forged":1}', position))
    bad = subprocess.run(
        [sys.executable, "-m", "api.cli", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 1
    assert f"№{position}" in bad.stderr
