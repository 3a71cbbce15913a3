"""Security log (denied calls, failed logins) and login backoff per account and per address.

Backoff counts failures per username as typed, known or not, so a locked answer says nothing
about whether an account exists."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adapters.clock import Clock
from adapters.sql import Database

FREE_FAILURES = 5
WINDOW = timedelta(minutes=15)
MAX_LOCK = timedelta(minutes=15)

DDL = [
    """CREATE TABLE IF NOT EXISTS login_failures (
        key TEXT PRIMARY KEY, failures INTEGER NOT NULL, first_at TEXT NOT NULL,  -- last failure
        locked_until TEXT)""",
    """CREATE TABLE IF NOT EXISTS security_log (
        entry_id TEXT PRIMARY KEY, at TEXT NOT NULL, org_id TEXT, actor_id TEXT,
        client TEXT, method TEXT, route TEXT, status INTEGER, event TEXT NOT NULL,
        detail TEXT)""",
    "CREATE INDEX IF NOT EXISTS security_log_by_org ON security_log (org_id, at)",
]


@dataclass(frozen=True)
class Lock:
    seconds: int


class Security:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        with db.transaction() as cur:
            for statement in DDL:
                cur.execute(statement)

    def _now(self) -> datetime:
        return self.clock.now()

    def record(
        self,
        event: str,
        *,
        org_id: str | None = None,
        actor_id: str | None = None,
        client: str | None = None,
        method: str | None = None,
        route: str | None = None,
        status: int | None = None,
        detail: str | None = None,
    ) -> None:
        with self.db.transaction(durable=False) as cur:
            cur.execute(
                "INSERT INTO security_log (entry_id, at, org_id, actor_id, client, method, "
                "route, status, event, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    uuid.uuid4().hex,
                    self._now().isoformat(),
                    org_id,
                    actor_id,
                    client,
                    method,
                    route,
                    status,
                    event,
                    detail,
                ),
            )

    def entries(
        self, org_id: str, limit: int = 100, before: str | None = None
    ) -> list[dict[str, Any]]:
        with self.db.read() as cur:
            cur.execute(
                "SELECT at, actor_id, client, method, route, status, event, detail "
                "FROM security_log WHERE org_id = ? AND at < ? ORDER BY at DESC LIMIT ?",
                (org_id, before or "9999", limit),
            )
            return [
                {
                    "at": r[0],
                    "actor_id": r[1],
                    "client": r[2],
                    "method": r[3],
                    "route": r[4],
                    "status": r[5],
                    "event": r[6],
                    "detail": r[7],
                }
                for r in cur.fetchall()
            ]

    # --- login backoff ---------------------------------------------------------------

    @staticmethod
    def keys(username: str, client: str | None) -> list[str]:
        return [f"user:{username.strip().lower()}"] + ([f"addr:{client}"] if client else [])

    def locked(self, username: str, client: str | None) -> Lock | None:
        now = self._now()
        keys = self.keys(username, client)
        with self.db.read() as cur:
            cur.execute(
                f"SELECT MAX(locked_until) FROM login_failures WHERE key IN "
                f"({', '.join('?' for _ in keys)})",
                keys,
            )
            until = cur.fetchone()[0]
        if until and datetime.fromisoformat(until) > now:
            return Lock(max(1, int((datetime.fromisoformat(until) - now).total_seconds())))
        return None

    def failed(self, username: str, client: str | None) -> None:
        now = self._now()
        with self.db.transaction() as cur:
            for key in self.keys(username, client):
                cur.execute("SELECT failures, first_at FROM login_failures WHERE key = ?", (key,))
                row = cur.fetchone()
                # The window slides from the last failure: waiting out each lock does not
                # reset the count, so the lock grows to its maximum.
                if row is None or datetime.fromisoformat(row[1]) + WINDOW < now:
                    failures = 1
                else:
                    failures = int(row[0]) + 1
                first = now
                locked = None
                if failures >= FREE_FAILURES:
                    lock = min(timedelta(seconds=30 * 2 ** (failures - FREE_FAILURES)), MAX_LOCK)
                    locked = (now + lock).isoformat()
                cur.execute(
                    "INSERT INTO login_failures (key, failures, first_at, locked_until) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                    "failures = excluded.failures, first_at = excluded.first_at, "
                    "locked_until = excluded.locked_until",
                    (key, failures, first.isoformat(), locked),
                )

    def succeeded(self, username: str) -> None:
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM login_failures WHERE key = ?", (self.keys(username, None)[0],))
