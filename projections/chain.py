"""The hash chain of every stored event, written by every write before it answers."""

from __future__ import annotations

import json
from typing import Any

from adapters.sql import Cursor, empty_table, insert_rows
from domain.integrity import GENESIS, event_hash


class HashChain:
    """Reads the stored events themselves (their JSON as stored, decrypted), not the domain
    objects, so upgrading an event class never changes an old event's hash."""

    name: str = "hash_chain"
    handles: tuple[type[Any], ...] = ()  # every event
    raw = True

    def __init__(self, unwrap: Any) -> None:
        self.unwrap = unwrap  # stored state bytes -> JSON bytes (decrypt, decompress)
        self._heads: dict[str, tuple[int, str]] = {}
        self._orgs: dict[str, str] = {}

    def ddl(self) -> list[str]:
        return [
            """CREATE TABLE IF NOT EXISTS event_hashes (
                position BIGINT PRIMARY KEY, org_id TEXT NOT NULL, stream_id TEXT NOT NULL,
                version INTEGER NOT NULL, hash TEXT NOT NULL)""",
            "CREATE INDEX IF NOT EXISTS event_hashes_by_stream ON event_hashes "
            "(stream_id, version)",
        ]

    def tables(self) -> list[str]:
        return ["event_hashes"]

    def reset(self, cur: Cursor) -> None:
        self._heads.clear()
        self._orgs.clear()
        empty_table(cur, "event_hashes")

    def state_of(self, notification: Any) -> Any:
        return json.loads(self.unwrap(notification.state))

    def _head(self, cur: Cursor, stream: str) -> tuple[int, str, str]:
        if stream not in self._heads:
            cur.execute(
                "SELECT version, hash, org_id FROM event_hashes WHERE stream_id = ? "
                "ORDER BY version DESC LIMIT 1",
                (stream,),
            )
            row = cur.fetchone()
            if row is not None:
                self._heads[stream] = (int(row[0]), str(row[1]))
                self._orgs[stream] = str(row[2])
        version, digest = self._heads.get(stream, (0, GENESIS))
        return version, digest, self._orgs.get(stream, "")

    def apply_batch(self, cur: Cursor, notifications: list[tuple[Any, int]]) -> None:
        rows = []
        for n, position in notifications:
            stream = str(n.originator_id)
            state = self.state_of(n)
            _, previous, org = self._head(cur, stream)
            if n.originator_version == 1:
                org = str(state.get("org_id", ""))
                self._orgs[stream] = org
            digest = event_hash(
                stream=stream,
                version=n.originator_version,
                topic=n.topic,
                state=state,
                previous=previous,
            )
            self._heads[stream] = (n.originator_version, digest)
            rows.append([position, org, stream, n.originator_version, digest])
        insert_rows(
            cur, "event_hashes", ["position", "org_id", "stream_id", "version", "hash"], rows
        )

    def apply(self, cur: Cursor, event: Any, position: int) -> None:
        self.apply_batch(cur, [(event, position)])
