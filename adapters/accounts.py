"""Accounts for logging in, and the personal-data store joined in when people read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.sql import Cursor, Database


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
