"""Backups to two places (R-ARC-3, R-ARC-6) and restore.

SQLite: the online backup API (a consistent copy while the server runs). PostgreSQL: pg_dump of
the configured schema in the custom format, restored with pg_restore. The archive signing key
is not in the backup: it lives outside the database and is kept separately.

Every copy is created readable by its owner only (0600) and read back before it counts: a SQLite
copy must pass `PRAGMA integrity_check` and hold the event table; a dump must be listed and read
to its end by pg_restore; each further copy must have the first copy's SHA-256. A copy that fails
is removed.

Restore cannot destroy: it refuses while a server holds the store (`hold_store`, kept through a
PostgreSQL restart), checks the whole backup before touching anything, and then swaps it in at
once — SQLite by `os.replace` of a checked copy, PostgreSQL by dropping and re-creating the
schema inside one transaction, so a failure anywhere leaves the live data as they were."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import psycopg
import structlog

from adapters.settings import Settings
from adapters.storage import is_postgres, sqlite_path

# The event store's table: eventsourcing names it `stored_events` on SQLite and
# `<application name>_events` on PostgreSQL (JournalCore.name == "ejournal").
SQLITE_REQUIRED_TABLES = ("stored_events",)
POSTGRES_REQUIRED_TABLES = ("ejournal_events",)

IN_USE = "База используется работающим сервером; остановите его перед восстановлением"
RESTORING = "База сейчас восстанавливается из резервной копии; повторите позже"
OPEN_ELSEWHERE = "База SQLite открыта другим процессом; остановите его перед восстановлением"

_COMMAND_TIMEOUT = 3600
_SCRIPT_END = b"-- PostgreSQL database dump complete"
_LOCK_TIMEOUT = "30s"
# How often a server's hold of a PostgreSQL store is tried (and taken again after a restart).
KEEP_SECONDS = 2.0


class BackupError(Exception):
    pass


def _stamp(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S")


# --- Who uses the store ----------------------------------------------------------------------


@contextlib.contextmanager
def hold_store(settings: Settings, on_lost: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the store in use for as long as the block runs (a server: its whole lifetime).

    Shared: any number of servers, workers and backups hold it together; `restore` needs it
    alone and refuses while anybody holds it. SQLite: a shared `flock` on `<database>.lock`;
    PostgreSQL: a shared session advisory lock (key from the schema name) on a dedicated
    connection kept open for the block. Raises BackupError when a restore is running.

    PostgreSQL ends the session, and with it the lock, when it restarts: with `on_lost`, the
    hold is kept — its connection is tried every KEEP_SECONDS, made again once the database is
    back and the lock taken again; if a restore has taken the store meanwhile, `on_lost()` is
    called (a server stops: its data are being replaced)."""
    with _store_lock(settings, exclusive=False, on_lost=on_lost):
        yield


@contextlib.contextmanager
def _store_lock(
    settings: Settings, *, exclusive: bool, on_lost: Callable[[], None] | None = None
) -> Iterator[None]:
    busy = IN_USE if exclusive else RESTORING
    url = settings.database_url
    if is_postgres(url):
        key = lock_key(settings.postgres_schema)
        kind = "" if exclusive else "_shared"
        try:
            conn = _locked(url, key, kind)
        except psycopg.Error as e:
            raise BackupError(f"Нет связи с PostgreSQL: {e}") from e
        if conn is None:
            raise BackupError(busy)
        keeper = _Keeper(url, key, kind, conn, on_lost) if on_lost is not None else None
        try:
            if keeper is not None:
                keeper.start()
            yield
        finally:
            if keeper is not None:
                keeper.stop()
                conn = keeper.conn
            # Released before the connection closes: a closed session's backend ends (and
            # lets its locks go) a moment later, and a restore just after must not see it.
            with contextlib.suppress(psycopg.Error):
                conn.execute(f"SELECT pg_advisory_unlock{kind}(%s)", (key,))
            conn.close()  # ends the session and with it the lock, in any case
        return
    path = sqlite_path(url)
    if path == ":memory:":
        yield
        return
    lock = Path(f"{path}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    # Read-only is enough for flock, so a server running as another user can open the file.
    fd = os.open(lock, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(busy) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _locked(url: str, key: int, kind: str) -> psycopg.Connection[Any] | None:
    """A new session holding the store's advisory lock, or None when another holds it so."""
    conn = psycopg.connect(
        _libpq(url), autocommit=True, application_name="ejournal: store lock", connect_timeout=5
    )
    try:
        row = conn.execute(f"SELECT pg_try_advisory_lock{kind}(%s)", (key,)).fetchone()
    except BaseException:
        conn.close()
        raise
    if row and row[0]:
        return conn
    conn.close()
    return None


class _Keeper(threading.Thread):
    """Keeps a held PostgreSQL store lock through a database restart (`hold_store`)."""

    def __init__(
        self, url: str, key: int, kind: str, conn: Any, on_lost: Callable[[], None]
    ) -> None:
        super().__init__(name="store-lock", daemon=True)
        self.url, self.key, self.kind, self.conn, self.on_lost = url, key, kind, conn, on_lost
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=30)

    def run(self) -> None:
        log = structlog.get_logger("ejournal.store")
        while not self._stopping.wait(KEEP_SECONDS):
            try:
                self.conn.execute("SELECT 1")
                continue
            except psycopg.Error:
                self.conn.close()  # the session, and its lock, are gone
            try:
                conn = _locked(self.url, self.key, self.kind)
            except psycopg.Error:
                continue  # the database is not back yet: tried again next round
            if conn is None:  # a restore took the store while the lock was lost
                log.error("store.lock_lost_to_a_restore")
                self.on_lost()
                return
            self.conn = conn
            log.warning("store.lock_taken_again")


def lock_key(schema: str) -> int:
    """The advisory-lock key of a PostgreSQL schema (a signed 64-bit integer)."""
    digest = hashlib.sha256(f"ejournal-store:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# --- Backup -----------------------------------------------------------------------------------


def backup(settings: Settings, destinations: list[Path], now: datetime) -> list[Path]:
    """Write one consistent backup and copy it to every destination; returns the files.

    Every file is 0600 and checked after writing; a file that fails the check is removed and
    BackupError raised (files already written and checked stay)."""
    if len(destinations) < 2:
        raise BackupError("Нужны два места для копий (два разных носителя)")
    url = settings.database_url
    postgres = is_postgres(url)
    name = f"ejournal-{_stamp(now)}.{'dump' if postgres else 'db'}"
    targets = [dest / name for dest in destinations]
    for target in targets:
        if target.exists():
            raise BackupError(f"Копия с таким именем уже есть: {target}")
    for dest in destinations:
        dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with _store_lock(settings, exclusive=False):
        first = targets[0]
        _create_private(first)
        with _removed_unless_checked(first):
            if postgres:
                _run(
                    [
                        "pg_dump",
                        "--format=custom",
                        f"--schema={settings.postgres_schema}",
                        f"--file={first}",
                        _libpq(url),
                    ]
                )
                _sync_file(first)
                _check_dump(first, settings.postgres_schema)
            else:
                _sqlite_snapshot(Path(sqlite_path(url)), first)
                _check_sqlite_file(first)
        written.append(first)
        digest = _sha256(first)
        for copy in targets[1:]:
            _create_private(copy)
            with _removed_unless_checked(copy):
                _copy_private(first, copy)
                if _sha256(copy) != digest:
                    raise BackupError(f"Копия {copy} не совпадает с {first} (SHA-256)")
                if not postgres:
                    _check_sqlite_file(copy)
            written.append(copy)
    return written


@contextlib.contextmanager
def _removed_unless_checked(path: Path) -> Iterator[None]:
    """Remove `path` when the block fails: a copy that was not checked is no copy."""
    try:
        yield
    except BackupError as e:
        path.unlink(missing_ok=True)
        raise BackupError(f"Копия {path} не записана или не прошла проверку и удалена: {e}") from e
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _create_private(path: Path) -> None:
    """Create an empty file readable by its owner only (fails when the file exists)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"Копия с таким именем уже есть: {path}") from None
    except OSError as e:
        raise BackupError(f"Не создать файл копии {path}: {e.strerror}") from e
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
    finally:
        os.close(fd)


def _copy_private(source: Path, target: Path) -> None:
    """Copy into `target`, an empty file made by _create_private (so 0600 before any byte)."""
    with target.open("r+b") as out:
        with source.open("rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
        out.flush()
        os.fsync(out.fileno())
        _drop_cache(out.fileno())
    _sync_dir(target.parent)


def _sqlite_snapshot(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (the online backup API) into `target`, an
    empty file made by _create_private."""
    try:
        src = sqlite3.connect(_sqlite_uri(source, "rw"), uri=True)
    except sqlite3.Error as e:
        raise BackupError(f"Нет базы {source}: {e}") from e
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            # A standalone file: no -wal/-shm beside the copy when it is read.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    except sqlite3.Error as e:
        raise BackupError(f"Копия SQLite не записана: {e}") from e
    finally:
        src.close()
    _sync_file(target)


# --- Checks -----------------------------------------------------------------------------------


def _check_sqlite_file(path: Path) -> None:
    """The file opens read-only as SQLite, passes integrity_check and holds the event table."""
    try:
        # immutable: nothing is written beside the file, no -wal/-shm is made or read.
        conn = sqlite3.connect(_sqlite_uri(path, "ro", immutable=True), uri=True)
        try:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            tables = {
                row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            conn.close()
    except sqlite3.Error as e:
        raise BackupError(f"{path} не читается как база SQLite: {e}") from e
    if problems != ["ok"]:
        raise BackupError(f"{path}: проверка целостности не пройдена: {'; '.join(problems[:3])}")
    missing = [t for t in SQLITE_REQUIRED_TABLES if t not in tables]
    if missing:
        raise BackupError(f"{path}: в копии нет таблиц {', '.join(missing)}")


def _check_dump(path: Path, schema: str) -> set[str]:
    """The dump is listed by pg_restore, holds `schema`'s event table with its data and reads to
    its end (`--list` alone reads only the table of contents, which a cut file still has).
    Returns the listed entries as 'KIND namespace name'."""
    listing = _run(["pg_restore", "--list", str(path)], f"{path} не читается как копия pg_dump")
    entries: set[str] = set()
    for line in listing.splitlines():
        entry = re.match(r"^\d+; \d+ \d+ (.*)$", line)
        if entry:
            entries.add(entry.group(1))
    for table in POSTGRES_REQUIRED_TABLES:
        for kind in ("TABLE", "TABLE DATA"):
            if not any(e.startswith(f"{kind} {schema} {table} ") for e in entries):
                raise BackupError(f"{path}: в копии нет {kind} {schema}.{table}")
    _run(
        ["pg_restore", f"--file={os.devnull}", str(path)],
        f"{path} обрезан или повреждён (pg_restore не прочёл его до конца)",
    )
    return entries


# --- Restore ----------------------------------------------------------------------------------


def restore(settings: Settings, file: Path) -> None:
    """Bring a backup back into the configured store.

    Refuses while a server holds the store. The backup is checked completely first; the live
    data are replaced only by a checked copy and in one step, so any failure leaves them as
    they were."""
    if not file.is_file():
        raise BackupError(f"Нет файла {file}")
    url = settings.database_url
    with _store_lock(settings, exclusive=True):
        if is_postgres(url):
            _restore_postgres(settings, file)
        else:
            _restore_sqlite(Path(sqlite_path(url)), file)


def _restore_sqlite(target: Path, file: Path) -> None:
    _check_sqlite_file(file)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.restore-")
    staged = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, file.open("rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        _check_sqlite_file(staged)  # what goes in place, not only what was given
        if target.exists():
            st = target.stat()
            os.chmod(staged, st.st_mode & 0o7777)
            with contextlib.suppress(PermissionError):
                os.chown(staged, st.st_uid, st.st_gid)
        _quiesce_sqlite(target)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(staged, target)
        _sync_dir(target.parent)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


def _quiesce_sqlite(target: Path) -> None:
    """Fold the live database's WAL (or hot journal) into its file and make sure nobody else has
    it open, so removing -wal/-shm/-journal afterwards loses nothing. A live file too damaged
    to open is about to be replaced anyway."""
    if not target.exists():
        return
    try:
        conn = sqlite3.connect(_sqlite_uri(target, "rw"), uri=True, timeout=2, isolation_level=None)
    except sqlite3.Error:
        return
    try:
        mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        if str(mode).lower() != "delete":
            raise BackupError(OPEN_ELSEWHERE)
        conn.execute("BEGIN EXCLUSIVE")  # nobody reads or writes it right now
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):
            raise BackupError(OPEN_ELSEWHERE) from e
        raise BackupError(f"Живая база {target} не открывается: {e}") from e
    except sqlite3.DatabaseError:
        return  # damaged; replaced next
    finally:
        conn.close()


def _restore_postgres(settings: Settings, file: Path) -> None:
    schema = settings.postgres_schema
    entries = _check_dump(file, schema)
    quoted = _quote_ident(schema)
    # Drop and re-create inside the one transaction psql runs: if anything fails (a bad dump,
    # a lock not granted, a killed process) PostgreSQL rolls it all back and the live schema
    # stays exactly as it was.
    before = f"SET lock_timeout = '{_LOCK_TIMEOUT}'; DROP SCHEMA IF EXISTS {quoted} CASCADE;"
    if not any(e.startswith(f"SCHEMA - {schema} ") for e in entries):
        before += f" CREATE SCHEMA {quoted};"
    checks = " ".join(
        f"IF to_regclass({_quote_literal(f'{quoted}.{_quote_ident(t)}')}) IS NULL THEN "
        f"RAISE EXCEPTION 'restore: no table %', {_quote_literal(t)}; END IF;"
        for t in POSTGRES_REQUIRED_TABLES
    )
    after = f"DO $ejournal$ BEGIN {checks} END $ejournal$;"
    with tempfile.TemporaryDirectory(prefix="ejournal-restore-") as tmp:  # 0700
        script = Path(tmp) / "restore.sql"
        _restore_script(file, script)
        # psql ends a COPY quietly at the end of its input: a cut script could load part of
        # the data and commit. pg_restore ends a whole script with this line.
        if _SCRIPT_END not in _tail(script):
            raise BackupError(f"{file}: SQL из копии получен не целиком; база не изменена")
        _run(
            [
                "psql",
                "--no-psqlrc",
                "--quiet",
                "--set=ON_ERROR_STOP=1",
                "--single-transaction",
                f"--command={before}",
                f"--file={script}",
                f"--command={after}",
                f"--dbname={_libpq(settings.database_url)}",
            ],
            "psql не применил копию (транзакция отменена)",
        )


def _restore_script(dump: Path, script: Path) -> None:
    """The dump as SQL (no owners: the restoring role owns what it creates)."""
    _run(
        ["pg_restore", "--no-owner", f"--file={script}", str(dump)],
        f"{dump} обрезан или повреждён",
    )


# --- Helpers ----------------------------------------------------------------------------------


def _sqlite_uri(path: Path, mode: str, *, immutable: bool = False) -> str:
    uri = f"file:{quote(str(path))}?mode={mode}"
    return f"{uri}&immutable=1" if immutable else uri


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _tail(path: Path, size: int = 4096) -> bytes:
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - size))
        return f.read()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _sync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        _drop_cache(fd)
    finally:
        os.close(fd)
    _sync_dir(path.parent)


def _drop_cache(fd: int) -> None:
    """Best effort: make the check read the medium, not the page cache."""
    with contextlib.suppress(AttributeError, OSError):
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def _sync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _libpq(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(scheme="postgresql").geturl()


def _run(command: list[str], failure: str | None = None) -> str:
    """Run a PostgreSQL tool; its stdout, or BackupError with `failure` and what it said."""
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=_COMMAND_TIMEOUT
        )
    except FileNotFoundError as e:
        raise BackupError(f"Не найдена программа {command[0]} (нужны клиенты PostgreSQL)") from e
    except subprocess.TimeoutExpired as e:
        raise BackupError(f"{failure or command[0]}: не закончилась за {_COMMAND_TIMEOUT} с") from e
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if "error" in line.lower()]
        said = ("\n".join(lines) or done.stderr).strip()[:500]
        raise BackupError(f"{failure or command[0]}: {said}")
    return done.stdout
