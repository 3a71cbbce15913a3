"""Accounts for logging in, and the personal-data store joined in when people read."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.sql import Cursor, Database, array_literal


@dataclass(frozen=True)
class Account:
    org_id: str
    person_id: str
    username: str
    password_hash: str | None
    kind: str
    active: bool
    token_epoch: int


_ACCOUNT_COLUMNS = "org_id, person_id, username, password_hash, kind, active, token_epoch"


class SessionEnded(Exception):
    """A change's session ended (logout, revoked token, new password, account off) before
    the change could be stored: nothing was stored, the caller is told 401."""


@dataclass(eq=False)
class SessionGuard:
    """A bearer session that must still be valid when its request's change is stored.

    The busiest write routes do not look their session up one request at a time: the group
    commit that stores the change checks the sessions of all its changes in one query first
    (ADR 17), and sets `valid`. Left None when the request never reached a group commit."""

    org_id: str
    person_id: str
    jti: str
    epoch: int
    valid: bool | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return self.org_id, self.person_id, self.jti


# The current request's session, when a group commit is to check it (set by the API).
session_guard: ContextVar[SessionGuard | None] = ContextVar("session_guard", default=None)


def _account(row: Any) -> Account | None:
    if row is None:
        return None
    return Account(row[0], row[1], row[2], row[3], row[4], bool(row[5]), int(row[6]))


class Accounts:
    def __init__(self, db: Database) -> None:
        self.db = db

    def by_username(self, username: str) -> Account | None:
        with self.db.read() as cur:
            cur.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE username = ?", (username,))
            return _account(cur.fetchone())

    def get(self, org_id: str, person_id: str) -> Account | None:
        with self.db.read() as cur:
            cur.execute(
                f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE org_id = ? AND person_id = ?",
                (org_id, person_id),
            )
            return _account(cur.fetchone())

    def all_of(self, org_id: str) -> dict[str, Account]:
        with self.db.read() as cur:
            cur.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE org_id = ?", (org_id,))
            return {a.person_id: a for a in map(_account, cur.fetchall()) if a}

    @staticmethod
    def upsert(cur: Cursor, account: Account) -> None:
        cur.execute(
            f"INSERT INTO accounts ({_ACCOUNT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (org_id, person_id) DO UPDATE SET username = excluded.username, "
            "password_hash = excluded.password_hash, kind = excluded.kind, "
            "active = excluded.active, token_epoch = excluded.token_epoch",
            (
                account.org_id,
                account.person_id,
                account.username,
                account.password_hash,
                account.kind,
                int(account.active),
                account.token_epoch,
            ),
        )

    def username_owner(self, username: str) -> tuple[str, str] | None:
        account = self.by_username(username)
        return (account.org_id, account.person_id) if account else None

    # --- token revocation -------------------------------------------------------------

    def revoke(self, jti: str, expires_at: datetime) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) "
                "ON CONFLICT (jti) DO NOTHING",
                (jti, expires_at.isoformat()),
            )

    def session_state(self, org_id: str, person_id: str, jti: str) -> tuple[bool, int, bool]:
        """(active, token_epoch, revoked) in one round trip, checked on every call."""
        with self.db.lookup() as cur:
            cur.execute(
                "SELECT a.active, a.token_epoch, "
                "(SELECT COUNT(*) FROM revoked_tokens r WHERE r.jti = ?) "
                "FROM accounts a WHERE a.org_id = ? AND a.person_id = ?",
                (jti, org_id, person_id),
            )
            row = cur.fetchone()
        if row is None:
            return False, -1, True
        return bool(row[0]), int(row[1]), bool(row[2])

    # The sessions of many guards in one statement (PostgreSQL): psycopg's placeholders, for a
    # cursor of our own or a write unit's (adapters/recorders.py).
    SESSIONS_QUERY = (
        "SELECT w.o, w.p, w.j, a.active, a.token_epoch, "
        "EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = w.j) "
        "FROM unnest(%s::text::text[], %s::text::text[], %s::text::text[]) AS w(o, p, j) "
        "CROSS JOIN "
        "LATERAL (SELECT * FROM accounts x WHERE x.org_id = w.o "
        "AND x.person_id = w.p LIMIT 1) a"
    )

    @staticmethod
    def sessions_params(guards: Sequence[SessionGuard]) -> tuple[str, ...]:
        """The three columns of `SESSIONS_QUERY` as array literals (adapters/sql.py)."""
        keys = list(dict.fromkeys(g.key for g in guards))
        return tuple(array_literal([k[n] for k in keys]) for n in range(3))

    @staticmethod
    def settle_sessions(guards: Sequence[SessionGuard], rows: Sequence[Sequence[Any]]) -> None:
        """Sets `valid` on each guard from the rows of `SESSIONS_QUERY`: its account active
        with the token's epoch and the token not revoked (no row: no such account)."""
        states = {
            (str(r[0]), str(r[1]), str(r[2])): (bool(r[3]), int(r[4]), bool(r[5])) for r in rows
        }
        for guard in guards:
            active, epoch, revoked = states.get(guard.key, (False, -1, True))
            guard.valid = active and not revoked and epoch == guard.epoch

    def check_sessions(self, guards: Sequence[SessionGuard]) -> None:
        """Sets `valid` on each guard (`settle_sessions`). One query on PostgreSQL whatever
        the number of sessions."""
        if self.db.dialect == "postgresql":
            with self.db.lookup() as cur:
                cur.execute(self.SESSIONS_QUERY.replace("%s", "?"), self.sessions_params(guards))
                self.settle_sessions(guards, cur.fetchall())
            return
        rows = [(*key, *self.session_state(*key)) for key in dict.fromkeys(g.key for g in guards)]
        self.settle_sessions(guards, rows)


class PersonalData:
    """Names and contacts keyed by (organisation, person id); events hold only ids."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def upsert(
        cur: Cursor,
        org_id: str,
        person_id: str,
        full_name: str,
        contacts: dict[str, Any] | None = None,
    ) -> None:
        cur.execute(
            "INSERT INTO personal_data (org_id, person_id, full_name, contacts) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (org_id, person_id) DO UPDATE SET "
            "full_name = excluded.full_name, contacts = excluded.contacts",
            (org_id, person_id, full_name, json.dumps(contacts or {}, ensure_ascii=False)),
        )

    def names(self, org_id: str, person_ids: list[str] | None = None) -> dict[str, str]:
        with self.db.read() as cur:
            cur.execute(
                "SELECT person_id, full_name FROM personal_data WHERE org_id = ?", (org_id,)
            )
            rows = cur.fetchall()
        wanted = set(person_ids) if person_ids is not None else None
        return {r[0]: r[1] for r in rows if wanted is None or r[0] in wanted}

    def erase(self, org_id: str, person_id: str) -> None:
        """Erase a person's name and contacts; their events keep only the id."""
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE personal_data SET full_name = ?, contacts = '{}' "
                "WHERE org_id = ? AND person_id = ?",
                ("[данные удалены]", org_id, person_id),
            )
