"""One read-model follower per store: the process holding a store-wide lock follows the log,
the others stand by and take over when it goes (ADR 13).

Several server processes on one store would otherwise all follow the same log, repeating
the decoding and competing for the same position rows. A read with `min_position` still
catches up by itself in any process, so a standby process never serves stale reports.
SQLite: an exclusive `flock` on `<database>.follower.lock` (released by the kernel when the
process dies); PostgreSQL: a session advisory lock on a dedicated connection.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from typing import Any

import psycopg

from adapters.settings import Settings
from adapters.storage import is_postgres, sqlite_path


def _key(schema: str) -> int:
    digest = hashlib.sha256(f"ejournal follower {schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class FollowerLock:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._fd: int | None = None
        self._conn: Any = None

    def held(self) -> bool:
        """True when this process is (or has just become) the follower."""
        try:
            if is_postgres(self.settings.database_url):
                return self._postgres()
            return self._sqlite()
        except Exception:
            self.release()
            return False

    def _sqlite(self) -> bool:
        if self._fd is not None:
            return True
        path = sqlite_path(self.settings.database_url)
        if path == ":memory:":
            return True
        fd = os.open(f"{path}.follower.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def _postgres(self) -> bool:
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            return True
        self.release()
        conn = psycopg.connect(
            self.settings.database_url,
            autocommit=True,
            connect_timeout=5,
            application_name="ejournal: projection follower",
        )
        row = conn.execute(
            "SELECT pg_try_advisory_lock(%s)", (_key(self.settings.postgres_schema),)
        ).fetchone()
        if row and row[0]:
            self._conn = conn
            return True
        conn.close()
        return False

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
