"""Our own tables beside the event store's: accounts, personal data, read-model machinery."""

from __future__ import annotations

from typing import Any

from adapters.sql import Database

DDL = [
    # Login data. The Person aggregate is the truth about roles; this row is for logging in.
    """CREATE TABLE IF NOT EXISTS accounts (
        org_id TEXT NOT NULL,
        person_id TEXT NOT NULL,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT,
        kind TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        token_epoch INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (org_id, person_id)
    )""",
    # Personal data of minors (152-FZ) lives here, never in events: it can be corrected or erased.
    """CREATE TABLE IF NOT EXISTS personal_data (
        org_id TEXT NOT NULL,
        person_id TEXT NOT NULL,
        full_name TEXT NOT NULL,
        contacts TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (org_id, person_id)
    )""",
    """CREATE TABLE IF NOT EXISTS revoked_tokens (
        jti TEXT PRIMARY KEY,
        expires_at TEXT NOT NULL
    )""",
    # Each projection's last processed log position, committed with its rows.
    """CREATE TABLE IF NOT EXISTS projection_positions (
        name TEXT PRIMARY KEY,
        position BIGINT NOT NULL
    )""",
    # Requests' Idempotency-Key, inserted with the first events the request causes (ADR 13);
    # the answer is added once it is known.
    """CREATE TABLE IF NOT EXISTS idempotency_keys (
        scope TEXT NOT NULL,
        idem_key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        created_at TEXT NOT NULL,
        position BIGINT NOT NULL,
        status INTEGER,
        body TEXT,
        PRIMARY KEY (scope, idem_key)
    )""",
]

# Columns added after a table first shipped: (table, column, type).
COLUMNS = [
    ("projection_positions", "error", "TEXT"),
    ("projection_positions", "error_position", "BIGINT"),
]


def create_tables(db: Database, extra: list[str] | None = None) -> None:
    with db.transaction() as cur:
        for statement in DDL + (extra or []):
            cur.execute(statement)
        if extra is None:
            for table, column, kind in COLUMNS:
                _add_column(cur, db.dialect, table, column, kind)


def _add_column(cur: Any, dialect: str, table: str, column: str, kind: str) -> None:
    if dialect == "postgresql":
        cur.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
        return
    cur.execute(f"PRAGMA table_info({table})")
    if column not in {str(r[1]) for r in cur.fetchall()}:
        cur.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
