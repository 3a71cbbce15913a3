"""Security log (denied calls, failed logins, locks) and login backoff.

Backoff (OWASP Authentication Cheat Sheet, "device cookies") keeps three counts:
- per username as typed, known or not (so a locked answer says nothing about whether an
  account exists): 5 free failures, then 30 s doubling up to 15 min — for new devices only;
- per client address, all usernames: a high limit (`login_address_failures`, 200 per
  15 min) that slows password spraying without locking out a school behind one NAT address —
  also for new devices only;
- per device cookie: a browser or client that signed in as the username before presents a
  signed `ejournal_device` cookie; it is throttled only by its own failures (5 free)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adapters.clock import Clock
from adapters.sql import Database

FREE_FAILURES = 5
ADDRESS_FAILURES = 200  # default of Settings.login_address_failures
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


REASONS = {"user": "username", "addr": "address", "device": "device"}


@dataclass(frozen=True)
class Lock:
    seconds: int
    reason: str = "username"  # "username", "address" or "device"


def normal(username: str) -> str:
    return username.strip().lower()


@dataclass(frozen=True)
class Attempt:
    """One login attempt: the username as typed, the client address and, when the request
    presents a valid device cookie for this username, that cookie's id."""

    username: str
    client: str | None
    device: str | None = None
    address_failures: int = ADDRESS_FAILURES

    def limits(self) -> dict[str, int]:
        """The counts this attempt is checked against and charged to → free failures each."""
        if self.device is not None:
            return {f"device:{self.device}": FREE_FAILURES}
        limits = {f"user:{normal(self.username)}": FREE_FAILURES}
        if self.client:
            limits[f"addr:{self.client}"] = self.address_failures
        return limits

    def untrusted(self) -> Attempt:
        """The same attempt as from a new device (to tell what a device cookie let through)."""
        return Attempt(self.username, self.client, None, self.address_failures)


class DeviceCookies:
    """Signed device cookies `v1.<username b64>.<id>.<expiry>.<mac>` (HMAC-SHA256).

    The key is derived from the token signing secret, so a device cookie is never a valid
    access token nor the reverse. The cookie proves only that this device signed in as the
    username before; the password is still required."""

    NAME = "ejournal_device"

    def __init__(self, secret: str, days: int) -> None:
        self.key = hmac.new(secret.encode(), b"ejournal device cookie v1", hashlib.sha256).digest()
        self.lifetime = timedelta(days=days)

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self.key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self, username: str, now: datetime) -> str:
        name = base64.urlsafe_b64encode(normal(username).encode()).decode().rstrip("=")
        expires = int((now + self.lifetime).timestamp())
        payload = f"v1.{name}.{secrets.token_hex(16)}.{expires}"
        return f"{payload}.{self._mac(payload)}"

    def device(self, cookie: str | None, username: str, now: datetime) -> str | None:
        """The cookie's id when it is genuine, unexpired and names `username`; else None."""
        if not cookie or len(cookie) > 1000:
            return None
        parts = cookie.split(".")
        if len(parts) != 5 or parts[0] != "v1":
            return None
        payload = ".".join(parts[:4])
        if not hmac.compare_digest(self._mac(payload), parts[4]):
            return None
        _, name, device, expires = parts[:4]
        try:
            named = base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode()
            expiry = int(expires)
        except ValueError:
            return None
        if not hmac.compare_digest(named.encode(), normal(username).encode()):
            return None
        if expiry <= now.timestamp():
            return None
        return device


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

    def locked(self, attempt: Attempt) -> Lock | None:
        """The longest active lock among the attempt's counts, or None."""
        now = self._now()
        keys = list(attempt.limits())
        with self.db.read() as cur:
            cur.execute(
                f"SELECT key, locked_until FROM login_failures WHERE key IN "
                f"({', '.join('?' for _ in keys)}) AND locked_until IS NOT NULL",
                keys,
            )
            rows = cur.fetchall()
        longest: Lock | None = None
        for key, until in rows:
            seconds = (datetime.fromisoformat(until) - now).total_seconds()
            if seconds > 0 and (longest is None or seconds > longest.seconds):
                longest = Lock(max(1, int(seconds)), REASONS[key.split(":", 1)[0]])
        return longest

    def failed(self, attempt: Attempt) -> list[Lock]:
        """Count a failure on each of the attempt's counts; the locks it started."""
        now = self._now()
        started = []
        with self.db.transaction() as cur:
            for key, free in attempt.limits().items():
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
                if failures >= free:
                    # Capped exponent: a long attack must not overflow the arithmetic.
                    lock = min(timedelta(seconds=30 * 2 ** min(failures - free, 10)), MAX_LOCK)
                    locked = (now + lock).isoformat()
                    started.append(Lock(int(lock.total_seconds()), REASONS[key.split(":")[0]]))
                cur.execute(
                    "INSERT INTO login_failures (key, failures, first_at, locked_until) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                    "failures = excluded.failures, first_at = excluded.first_at, "
                    "locked_until = excluded.locked_until",
                    (key, failures, first.isoformat(), locked),
                )
        return started

    def succeeded(self, attempt: Attempt) -> None:
        """A right password resets the username's count (or the device's), never the
        address's: one teacher's login does not undo a spraying attack's count."""
        key = next(iter(attempt.limits()))
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM login_failures WHERE key = ?", (key,))
