"""One setting chooses the store: EJOURNAL_DATABASE_URL (sqlite:///… or postgresql://…)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
from eventsourcing import persistence as es_persistence

from adapters.settings import Settings
from adapters.sql import Database, PostgresDatabase, SQLiteDatabase

# The store could not take the call in time (locked, restarting, unreachable): nothing was
# recorded, since a write commits or rolls back whole; the client may retry (with its key).
# The API answers these `503 store-busy`.
STORE_BUSY: tuple[type[Exception], ...] = (
    es_persistence.OperationalError,
    es_persistence.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
)


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def sqlite_path(url: str) -> str:
    if not url.startswith("sqlite:///"):
        raise ValueError(f"unsupported database URL: {url.split(':', 1)[0]}://…")
    return url[len("sqlite:///") :]


def eventsourcing_env(settings: Settings) -> dict[str, str]:
    """The library's own persistence settings for the chosen store."""
    url = settings.database_url
    env: dict[str, str] = {
        "AGGREGATE_CACHE_MAXSIZE": str(settings.aggregate_cache_size),
    }
    if settings.cipher_key:
        env["CIPHER_TOPIC"] = "eventsourcing.cipher:AESCipher"
        env["CIPHER_KEY"] = settings.cipher_key
    if is_postgres(url):
        parts = urlsplit(url)
        env.update(
            PERSISTENCE_MODULE="eventsourcing.postgres",
            POSTGRES_DBNAME=(parts.path or "/postgres").lstrip("/") or "postgres",
            POSTGRES_HOST=parts.hostname or "127.0.0.1",
            POSTGRES_PORT=str(parts.port or 5432),
            POSTGRES_USER=unquote(parts.username or "postgres"),
            POSTGRES_PASSWORD=unquote(parts.password or ""),
            POSTGRES_SCHEMA=settings.postgres_schema,
            POSTGRES_POOL_SIZE=str(settings.postgres_pool_size),
            POSTGRES_MAX_OVERFLOW="10",
            POSTGRES_LOCK_TIMEOUT=str(settings.store_busy_seconds),
            POSTGRES_CONNECT_TIMEOUT=str(settings.store_busy_seconds),
            POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT="30",
        )
    else:
        path = sqlite_path(url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        env.update(
            PERSISTENCE_MODULE="eventsourcing.sqlite",
            SQLITE_DBNAME=path,
            SQLITE_LOCK_TIMEOUT=str(settings.store_busy_seconds),
        )
    return env


def open_database(settings: Settings) -> Database:
    url = settings.database_url
    if is_postgres(url):
        db = PostgresDatabase(
            url,
            settings.postgres_schema,
            settings.postgres_pool_size,
            busy_seconds=settings.store_busy_seconds,
        )
        if settings.postgres_schema != "public":
            with db.transaction() as cur:
                cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{settings.postgres_schema}"')
        return db
    return SQLiteDatabase(sqlite_path(url), timeout=settings.store_busy_seconds)
