"""Backup to two places → wipe → restore → verify passes with the same journal and gradebook."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.backup import BackupError, backup, restore
from adapters.clock import FixedClock
from adapters.integrity import verify_store
from adapters.roster import parse_roster
from adapters.roster_import import import_roster
from adapters.storage import sqlite_path
from api.bootstrap import Services
from domain.actors import Actor, system_actor
from domain.ids import journal_id
from projections.gradebook import gradebook
from tests.conftest import POSTGRES_URL, SCHOOL_MORNING, make_settings

TEACHER = Actor("t1", "teacher", "sght", frozenset({"teacher"}))


def picture(services: Services) -> tuple[Any, Any]:
    """What a reader sees: s01's journal marks and the math gradebook's rows."""
    app = services.journal
    app.read_models.catch_up()
    journal = app.read_journal(journal_id("sght", "2026-2027", "s01"))
    marks = sorted((m.mark_id, m.value, m.status) for m in journal.marks.values())
    with services.db.read() as cur:
        book = gradebook(
            cur,
            org_id="sght",
            year_id="2026-2027",
            group_id="g1",
            subject_id="math",
            period_id="S1",
            starts_on=date(2026, 9, 1),
            ends_on=date(2026, 12, 30),
        )
    return marks, [(r.student_id, r.average, len(r.marks)) for r in book.rows]


def test_backup_wipe_restore_verify(store: dict[str, str], tmp_path: Path, roster) -> None:
    settings = make_settings(store, tmp_path)
    services = Services.build(settings, FixedClock(SCHOOL_MORNING))
    import_roster(services.journal, services.passwords, parse_roster(roster), system_actor("sght"))
    for value in (5, 4, 3):
        services.journal.record_mark(
            TEACHER,
            student_id="s01",
            subject_id="math",
            lesson_date=date(2026, 9, 2),
            work_kind="oral",
            value=value,
        )
    before = picture(services)
    files = backup(
        settings, [tmp_path / "disk-a", tmp_path / "disk-b"], datetime(2026, 9, 3, tzinfo=UTC)
    )
    services.close()
    assert [f.parent.name for f in files] == ["disk-a", "disk-b"]
    assert files[0].read_bytes() == files[1].read_bytes() and files[0].stat().st_size > 0

    # Wipe the store.
    if "postgres_schema" in store:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{store["postgres_schema"]}" CASCADE')
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_path(store['database_url'])}{suffix}").unlink(missing_ok=True)

    restore(settings, files[1])
    restored = Services.build(settings)
    try:
        result = verify_store(restored.journal)
        assert result.ok, result.broken
        assert picture(restored) == before
    finally:
        restored.close()


def test_a_backup_needs_two_places(store: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(BackupError):
        backup(make_settings(store, tmp_path), [tmp_path / "only"], datetime.now(UTC))
