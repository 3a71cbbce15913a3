"""Backups to two places (R-ARC-3, R-ARC-6) and restore.

SQLite: the online backup API (a consistent copy while the server runs). PostgreSQL: pg_dump of
the configured schema in the custom format, restored with pg_restore. The archive signing key
is not in the backup: it lives outside the database and is kept separately."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from adapters.settings import Settings
from adapters.storage import is_postgres, sqlite_path


class BackupError(Exception):
    pass


def _stamp(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S")


def backup(settings: Settings, destinations: list[Path], now: datetime) -> list[Path]:
    """Write one consistent backup and copy it to every destination; returns the files."""
    if len(destinations) < 2:
        raise BackupError("Нужны два места для копий (два разных носителя)")
    for dest in destinations:
        dest.mkdir(parents=True, exist_ok=True)
    url = settings.database_url
    first = destinations[0] / f"ejournal-{_stamp(now)}.{'dump' if is_postgres(url) else 'db'}"
    if is_postgres(url):
        _run(
            [
                "pg_dump",
                "--format=custom",
                f"--schema={settings.postgres_schema}",
                f"--file={first}",
                _libpq(url),
            ]
        )
    else:
        source = sqlite3.connect(sqlite_path(url))
        target = sqlite3.connect(first)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    written = [first]
    for dest in destinations[1:]:
        copy = dest / first.name
        shutil.copy2(first, copy)
        written.append(copy)
    return written


def restore(settings: Settings, file: Path) -> None:
    """Bring a backup back into the configured store (stop the server first)."""
    if not file.exists():
        raise BackupError(f"Нет файла {file}")
    url = settings.database_url
    if is_postgres(url):
        _run(
            [
                "psql",
                "--quiet",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                f'DROP SCHEMA IF EXISTS "{settings.postgres_schema}" CASCADE',
                _libpq(url),
            ]
        )
        _run(["pg_restore", "--no-owner", f"--dbname={_libpq(url)}", str(file)])
    else:
        target = Path(sqlite_path(url))
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        source = sqlite3.connect(file)
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
            source.close()


def _libpq(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(scheme="postgresql").geturl()


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=3600)
    if done.returncode != 0:
        raise BackupError(f"{command[0]}: {done.stderr.strip()[:500]}")
