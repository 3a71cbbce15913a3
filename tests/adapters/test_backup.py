"""Backup to two places → wipe → restore → verify passes with the same journal and gradebook."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from adapters import backup as backup_module
from adapters.backup import BackupError, backup, hold_store, restore
from adapters.clock import FixedClock
from adapters.integrity import verify_store
from adapters.roster import parse_roster
from adapters.roster_import import import_roster
from adapters.settings import Settings
from adapters.storage import sqlite_path
from api.bootstrap import Services
from api.cli import cli
from domain.actors import Actor, system_actor
from domain.ids import journal_id
from projections.gradebook import gradebook
from tests.conftest import POSTGRES_URL, SCHOOL_MORNING, make_settings, require_postgres

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


# --- Copies are private and checked; restore cannot destroy -----------------------------------


def fill(store: dict[str, Any], tmp_path: Path, roster: dict[str, Any]) -> Settings:
    """A store with the example roster and three marks; nothing left open."""
    settings = make_settings(store, tmp_path)
    services = Services.build(settings, FixedClock(SCHOOL_MORNING))
    try:
        import_roster(
            services.journal, services.passwords, parse_roster(roster), system_actor("sght")
        )
        for value in (5, 4, 3):
            record(services, value)
    finally:
        services.close()
    return settings


def record(services: Services, value: int) -> None:
    services.journal.record_mark(
        TEACHER,
        student_id="s01",
        subject_id="math",
        lesson_date=date(2026, 9, 2),
        work_kind="oral",
        value=value,
    )


def add_mark(settings: Settings, value: int = 2) -> None:
    services = Services.build(settings, FixedClock(SCHOOL_MORNING))
    try:
        record(services, value)
    finally:
        services.close()


def events(store: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Every stored event, exactly as the live store holds it."""
    query = "SELECT originator_id, originator_version, topic, state FROM {} ORDER BY 1, 2"
    if "postgres_schema" in store:
        with psycopg.connect(POSTGRES_URL) as conn:
            table = f'"{store["postgres_schema"]}".ejournal_events'
            rows = conn.execute(query.format(table)).fetchall()
        return [(str(o), v, t, bytes(s)) for o, v, t, s in rows]
    with contextlib.closing(sqlite3.connect(sqlite_path(store["database_url"]))) as conn:
        return [tuple(row) for row in conn.execute(query.format("stored_events"))]


def take_backup(settings: Settings, tmp_path: Path) -> list[Path]:
    return backup(
        settings, [tmp_path / "disk-a", tmp_path / "disk-b"], datetime(2026, 9, 3, tzinfo=UTC)
    )


def cut_in_half(file: Path, where: Path) -> Path:
    data = file.read_bytes()
    where.write_bytes(data[: len(data) // 2])
    return where


def cli_env(store: dict[str, Any], tmp_path: Path) -> dict[str, str | None]:
    return {
        "EJOURNAL_DATABASE_URL": store["database_url"],
        "EJOURNAL_POSTGRES_SCHEMA": store.get("postgres_schema"),
        "EJOURNAL_VAR_DIR": str(tmp_path / "var"),
        "COLUMNS": "400",
    }


def test_copies_are_0600_whatever_the_umask(
    store: dict[str, Any], tmp_path: Path, roster: dict[str, Any]
) -> None:
    settings = fill(store, tmp_path, roster)
    old = os.umask(0)
    try:
        files = take_backup(settings, tmp_path)
    finally:
        os.umask(old)
    assert len(files) == 2
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    # Nothing else was left beside the copies (no -wal/-shm/-journal of a checked SQLite copy).
    assert sorted(p.name for p in (tmp_path / "disk-a").iterdir()) == [files[0].name]
    assert sorted(p.name for p in (tmp_path / "disk-b").iterdir()) == [files[1].name]


def test_a_copy_that_fails_its_check_is_removed(
    store: dict[str, Any], tmp_path: Path, roster: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = fill(store, tmp_path, roster)
    real_sync = backup_module._sync_file

    def lossy_medium(path: Path) -> None:
        """The first copy loses its second half on the way to the disk."""
        cut_in_half(path, path)
        real_sync(path)

    monkeypatch.setattr(backup_module, "_sync_file", lossy_medium)
    with pytest.raises(BackupError, match="не прошла проверку и удалена"):
        take_backup(settings, tmp_path)
    assert list((tmp_path / "disk-a").iterdir()) == []
    assert list((tmp_path / "disk-b").iterdir()) == []


def test_a_second_copy_unlike_the_first_is_removed(
    store: dict[str, Any], tmp_path: Path, roster: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = fill(store, tmp_path, roster)
    real_copy = backup_module._copy_private

    def flipping_copy(source: Path, target: Path) -> None:
        real_copy(source, target)
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))

    monkeypatch.setattr(backup_module, "_copy_private", flipping_copy)
    with pytest.raises(BackupError, match="SHA-256"):
        take_backup(settings, tmp_path)
    assert len(list((tmp_path / "disk-a").iterdir())) == 1  # the first, checked copy stays
    assert list((tmp_path / "disk-b").iterdir()) == []


def test_a_truncated_backup_is_refused_and_the_live_data_stay(
    store: dict[str, Any], tmp_path: Path, roster: dict[str, Any]
) -> None:
    settings = fill(store, tmp_path, roster)
    files = take_backup(settings, tmp_path)
    add_mark(settings)  # the live store now differs from the backup
    live = events(store)
    cut = cut_in_half(files[0], tmp_path / f"cut{files[0].suffix}")

    with pytest.raises(BackupError):
        restore(settings, cut)
    assert events(store) == live

    result = CliRunner().invoke(cli, ["restore", str(cut)], env=cli_env(store, tmp_path))
    assert result.exit_code == 1, result.output
    assert "Восстановление не выполнено, база не изменена" in " ".join(result.stderr.split())
    assert events(store) == live
    if "postgres_schema" not in store:
        db = Path(sqlite_path(store["database_url"]))
        assert not [p for p in db.parent.iterdir() if ".restore-" in p.name]

    restore(settings, files[1])  # the whole copy still restores
    assert len(events(store)) == len(live) - 1


def test_restore_refuses_while_the_store_is_held(
    store: dict[str, Any], tmp_path: Path, roster: dict[str, Any]
) -> None:
    settings = fill(store, tmp_path, roster)
    files = take_backup(settings, tmp_path)
    add_mark(settings)
    live = events(store)
    with hold_store(settings), hold_store(settings):  # several servers share it
        with pytest.raises(BackupError, match="используется работающим сервером"):
            restore(settings, files[0])
        result = CliRunner().invoke(cli, ["restore", str(files[0])], env=cli_env(store, tmp_path))
        assert result.exit_code == 1
        assert "остановите его перед восстановлением" in " ".join(result.stderr.split())
        assert events(store) == live
    restore(settings, files[0])
    assert len(events(store)) == len(live) - 1


def test_restore_refuses_while_another_process_holds_the_store(
    store: dict[str, Any], tmp_path: Path, roster: dict[str, Any]
) -> None:
    settings = fill(store, tmp_path, roster)
    files = take_backup(settings, tmp_path)
    live = events(store)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from adapters.backup import hold_store\n"
            "from adapters.settings import Settings\n"
            "with hold_store(Settings()):\n"
            "    print('held', flush=True)\n"
            "    sys.stdin.read()\n",
        ],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **{k: v for k, v in cli_env(store, tmp_path).items() if v}},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(BackupError, match="используется работающим сервером"):
            restore(settings, files[0])
        assert events(store) == live
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    restore(settings, files[0])  # the server stopped: restore proceeds
    assert events(store) == live


def test_a_server_cannot_take_the_store_during_a_restore(
    store: dict[str, Any], tmp_path: Path
) -> None:
    settings = make_settings(store, tmp_path)
    with (
        backup_module._store_lock(settings, exclusive=True),
        pytest.raises(BackupError, match="восстанавливается"),
        hold_store(settings),
    ):
        pass
    with hold_store(settings):
        pass


@pytest.mark.postgres
def test_a_failure_while_applying_a_dump_rolls_everything_back(
    tmp_path: Path, roster: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the checks, psql fails half-way through the dump's SQL (after the event table's
    data were loaded): the schema dropped at the start of the same transaction is back with
    every event. A script cut short is refused before psql runs at all."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    store = {"database_url": POSTGRES_URL, "postgres_schema": schema}
    try:
        settings = fill(store, tmp_path, roster)
        files = take_backup(settings, tmp_path)
        add_mark(settings)
        live = events(store)
        real_script = backup_module._restore_script

        def failing_midway(dump: Path, script: Path) -> None:
            real_script(dump, script)
            sql = script.read_text()
            start = sql.index(f"COPY {schema}.ejournal_events ")
            end = sql.index("\n\\.\n", start) + len("\n\\.\n")
            script.write_text(sql[:end] + "SELECT 1 / 0;\n" + sql[end:])

        def cut_script(dump: Path, script: Path) -> None:
            real_script(dump, script)
            cut_in_half(script, script)

        monkeypatch.setattr(backup_module, "_restore_script", failing_midway)
        with pytest.raises(BackupError, match="транзакция отменена"):
            restore(settings, files[0])
        assert events(store) == live

        monkeypatch.setattr(backup_module, "_restore_script", cut_script)
        with pytest.raises(BackupError, match="не целиком"):
            restore(settings, files[0])
        assert events(store) == live
        with psycopg.connect(POSTGRES_URL) as conn:
            leftovers = conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"{schema}%",)
            ).fetchall()
        assert leftovers == [(schema,)]
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.postgres
def test_a_dump_of_another_schema_is_refused(tmp_path: Path, roster: dict[str, Any]) -> None:
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    other = f"t_{uuid.uuid4().hex[:16]}"
    store = {"database_url": POSTGRES_URL, "postgres_schema": schema}
    try:
        files = take_backup(fill(store, tmp_path, roster), tmp_path)
        elsewhere = make_settings({**store, "postgres_schema": other}, tmp_path)
        with pytest.raises(BackupError, match=f"нет TABLE {other}.ejournal_events"):
            restore(elsewhere, files[0])
        with psycopg.connect(POSTGRES_URL) as conn:
            found = conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (other,)
            ).fetchall()
        assert found == []
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            conn.execute(f'DROP SCHEMA IF EXISTS "{other}" CASCADE')


def test_sqlite_restore_refuses_while_the_file_is_open_elsewhere(
    tmp_path: Path, roster: dict[str, Any]
) -> None:
    """A process that never took hold_store (a sqlite3 shell, say) but is reading the file."""
    store = {"database_url": f"sqlite:///{tmp_path / 'ejournal.db'}"}
    settings = fill(store, tmp_path, roster)
    files = take_backup(settings, tmp_path)
    add_mark(settings)
    live = events(store)
    reader = sqlite3.connect(sqlite_path(store["database_url"]), isolation_level=None)
    try:
        reader.execute("PRAGMA journal_mode=WAL")
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM stored_events").fetchone()
        with pytest.raises(BackupError, match="открыта другим процессом"):
            restore(settings, files[0])
        reader.execute("COMMIT")
    finally:
        reader.close()
    assert events(store) == live
    restore(settings, files[0])
    assert len(events(store)) == len(live) - 1


def test_sqlite_restore_needs_the_event_table(tmp_path: Path, roster: dict[str, Any]) -> None:
    store = {"database_url": f"sqlite:///{tmp_path / 'ejournal.db'}"}
    settings = fill(store, tmp_path, roster)
    live = events(store)
    stranger = tmp_path / "stranger.db"
    with contextlib.closing(sqlite3.connect(stranger)) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
    with pytest.raises(BackupError, match="нет таблиц stored_events"):
        restore(settings, stranger)
    assert events(store) == live
