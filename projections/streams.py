"""Streams: every aggregate's organisation, year and head version (year close, archives)."""

from __future__ import annotations

from typing import Any

from adapters.sql import Cursor


class Streams:
    name: str = "streams"
    handles: tuple[type[Any], ...] = ()  # every event

    def ddl(self) -> list[str]:
        return [
            """CREATE TABLE IF NOT EXISTS streams (
                stream_id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                org_id TEXT NOT NULL,
                year_id TEXT,
                version BIGINT NOT NULL,
                position BIGINT NOT NULL
            )""",
            "CREATE INDEX IF NOT EXISTS streams_by_year ON streams (org_id, year_id)",
        ]

    def apply(self, cur: Cursor, event: Any, position: int) -> None:
        stream = str(event.originator_id)
        if event.originator_version == 1:  # the stream's first event names its owners
            kind = type(event).__qualname__.split(".")[0]
            cur.execute(
                "INSERT INTO streams (stream_id, kind, org_id, year_id, version, position) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    stream,
                    kind,
                    event.org_id,
                    getattr(event, "year_id", None),
                    event.originator_version,
                    position,
                ),
            )
        else:
            cur.execute(
                "UPDATE streams SET version = ?, position = ? WHERE stream_id = ?",
                (event.originator_version, position, stream),
            )

    def reset(self, cur: Cursor) -> None:
        cur.execute("DELETE FROM streams")

    @staticmethod
    def year_event_count(cur: Cursor, org_id: str, year_id: str) -> int:
        cur.execute(
            "SELECT COALESCE(SUM(version), 0) FROM streams WHERE org_id = ? AND year_id = ?",
            (org_id, year_id),
        )
        return int(cur.fetchone()[0])
