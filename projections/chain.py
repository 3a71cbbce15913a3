"""The hash chain of every stored event (ADR 11, ADR 13): written in the transaction that
stores the events, chained to the predecessor as stored; also replayable over the log to
backfill or rebuild."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any, Protocol

import orjson
import structlog

from adapters.sql import Cursor, empty_table, insert_many, uuid_text
from domain.integrity import GENESIS, canonical, event_hash_of_canonical


def _has_float(value: Any) -> bool:
    """Whether parsed JSON holds a float (orjson reads an integer beyond 64 bits as one)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is float:
            return True
    return False


def canonical_state(raw: bytes) -> tuple[bytes, Any]:
    """A stored state's canonical JSON (domain/integrity.py `canonical` of it as parsed) and
    the parsed state. orjson parses and writes it (keys sorted), about three times faster,
    when it writes exactly what `canonical` does: JSON without floats (its strings, escapes
    and key order are the same, `tests/projections/test_chain_canonical.py`); anything else
    goes the way of `json` itself, so every hash is what it always was."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:  # NaN, a lone surrogate: json's reading, whatever it is
        value = json.loads(raw)
        return canonical(value), value
    if not _has_float(value):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS), value
    value = json.loads(raw)
    return canonical(value), value


@functools.lru_cache(maxsize=256)
def canonical_topic(topic: str) -> bytes:
    """An event topic as canonical JSON (a string; topics are few, so kept)."""
    return canonical(topic)


# A stream's head: (version, hash, organisation) of its latest event.
Head = tuple[int, str, str]


class KnownHeads(Protocol):
    def get(self, stream: str, /) -> Head | None: ...


class HashChain:
    """Reads the stored events themselves (their JSON as stored, decrypted), not the domain
    objects, so upgrading an event class never changes an old event's hash. Keeps nothing in
    memory between calls: each batch reads its streams' stored heads, except those its caller
    knows as committed (the write path's `CommittedHeads`)."""

    name: str = "hash_chain"
    handles: tuple[type[Any], ...] = ()  # every event
    raw = True

    def __init__(self, unwrap: Any) -> None:
        self.unwrap = unwrap  # stored state bytes -> JSON bytes (decrypt, decompress)

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
        empty_table(cur, "event_hashes")

    def state_of(self, notification: Any) -> Any:
        return json.loads(self.unwrap(notification.state))

    def canonical_of(self, notification: Any) -> tuple[bytes, Any]:
        """The stored state's canonical JSON and the state (`canonical_state`)."""
        return canonical_state(self.unwrap(notification.state))

    @staticmethod
    def _stored_heads(cur: Cursor, wanted: dict[str, int]) -> dict[str, tuple[int, str, str]]:
        """(version, hash, org) of each stream's event just before the batch, as stored."""
        heads: dict[str, tuple[int, str, str]] = {}
        pairs = list(wanted.items())
        if pairs and getattr(cur, "dialect", "sqlite") == "postgresql":
            # One statement (and one plan) whatever the count; each row by its index (a plain
            # join may be planned as a scan of the whole table).
            cur.execute(
                "SELECT h.stream_id, h.version, h.hash, h.org_id "
                "FROM unnest(?::text[], ?::int[]) AS w(s, v) CROSS JOIN LATERAL "
                "(SELECT * FROM event_hashes x WHERE x.stream_id = w.s AND x.version = w.v "
                "LIMIT 1) h",
                ([p[0] for p in pairs], [p[1] for p in pairs]),
            )
            for row in cur.fetchall():
                heads[str(row[0])] = (int(row[1]), str(row[2]), str(row[3]))
            return heads
        for i in range(0, len(pairs), 200):
            chunk = pairs[i : i + 200]
            cur.execute(
                "SELECT stream_id, version, hash, org_id FROM event_hashes WHERE "
                + " OR ".join("(stream_id = ? AND version = ?)" for _ in chunk),
                [x for pair in chunk for x in pair],
            )
            for row in cur.fetchall():
                heads[str(row[0])] = (int(row[1]), str(row[2]), str(row[3]))
        return heads

    def apply_batch(
        self,
        cur: Cursor,
        notifications: list[tuple[Any, int]],
        known: KnownHeads | None = None,
    ) -> dict[str, Head]:
        """Hash rows for the batch, each chained to its predecessor; the streams' new heads.

        `known`: heads known to be committed as they are stored; a stream whose known head
        is the event just before the batch is not read."""
        wanted: dict[str, int] = {}
        for n, _ in notifications:
            stream = uuid_text(n.originator_id)
            if stream not in wanted:
                wanted[stream] = n.originator_version - 1
        heads: dict[str, Head] = {}
        if known:
            for stream, version in wanted.items():
                head = known.get(stream)
                if head is not None and head[0] == version and version > 0:
                    heads[stream] = head
        heads.update(
            self._stored_heads(cur, {s: v for s, v in wanted.items() if v > 0 and s not in heads})
        )
        rows = []
        for n, position in notifications:
            stream = uuid_text(n.originator_id)
            state_json, state = self.canonical_of(n)
            version = n.originator_version
            if version == 1:
                previous, org = GENESIS, str(state.get("org_id", ""))
            elif stream in heads and heads[stream][0] == version - 1:
                _, previous, org = heads[stream]
            else:
                # Only a deleted hash row or an event stored around us gets here; `verify`
                # names that earlier event. Chain on from nothing rather than refuse a write.
                structlog.get_logger("ejournal.chain").warning(
                    "chain.predecessor_missing", stream=stream, version=version
                )
                previous, org = GENESIS, heads.get(stream, (0, "", ""))[2]
            digest = event_hash_of_canonical(  # what event_hash(...) of the parsed state is
                stream=stream.encode(),
                version=b"%d" % version,
                topic=canonical_topic(n.topic),
                state=state_json,
                previous=previous.encode(),
            )
            heads[stream] = (version, digest, org)
            rows.append((position, org, stream, version, digest))
        self._insert(cur, rows)
        return {stream: heads[stream] for stream in wanted}

    @staticmethod
    def _insert(cur: Cursor, rows: list[tuple[int, str, str, int, str]]) -> None:
        insert_many(
            cur,
            "event_hashes",
            ("position", "org_id", "stream_id", "version", "hash"),
            ("bigint", "text", "text", "int", "text"),
            rows,
            "ON CONFLICT (position) DO NOTHING",
        )

    def record_checked(
        self, cur: Cursor, stored: Sequence[Any], positions: Sequence[int], hashes: Sequence[str]
    ) -> None:
        """Store hashes already checked against their chain (an archive's replay), with the
        organisation of each stream as its first event names it or as already stored."""
        streams = [str(n.originator_id) for n in stored]
        orgs: dict[str, str] = {}
        later: dict[str, int] = {}
        for stream, n in zip(streams, stored, strict=True):
            if n.originator_version == 1:
                orgs[stream] = str(self.state_of(n).get("org_id", ""))
            later.setdefault(stream, n.originator_version - 1)
        wanted = {s: v for s, v in later.items() if s not in orgs}
        for stream, (_, _, org) in self._stored_heads(cur, wanted).items():
            orgs[stream] = org
        rows = [
            (position, orgs.get(stream, ""), stream, n.originator_version, digest)
            for stream, n, position, digest in zip(streams, stored, positions, hashes, strict=True)
        ]
        self._insert(cur, rows)

    def apply(self, cur: Cursor, event: Any, position: int) -> None:
        self.apply_batch(cur, [(event, position)])
