"""Tamper evidence, pure: canonical JSON, each event's hash chained to its stream's previous
event, and an RFC 6962 Merkle tree over an organisation's events in log order.

Canonical JSON here: UTF-8, object keys sorted by code point, no insignificant whitespace,
no ASCII escaping of non-ASCII text, integers as integers (ADR 11)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS = "0" * 64


def canonical(value: Any) -> bytes:
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def event_hash(*, stream: str, version: int, topic: str, state: Any, previous: str) -> str:
    """The hash of one stored event, chained to the previous event of its stream."""
    record = {
        "stream": stream,
        "version": version,
        "topic": topic,
        "state": state,
        "previous": previous,
    }
    return hashlib.sha256(canonical(record)).hexdigest()


def event_hash_of_canonical(
    *, stream: bytes, version: bytes, topic: bytes, state: bytes, previous: bytes
) -> str:
    """`event_hash` from parts already in canonical JSON (the `state` object and the `topic`
    string as serialised, the stream id, the version's digits and the previous hash as their
    bare text): the same bytes `event_hash` hashes, with no parsing and no re-serialising."""
    return hashlib.sha256(
        b'{"previous":"%s","state":%s,"stream":"%s","topic":%s,"version":%s}'
        % (previous, state, stream, topic, version)
    ).hexdigest()


def merkle_root(leaves: list[bytes]) -> str:
    """RFC 6962 §2.1 Merkle Tree Hash of the leaves (here: the events' hashes, in order).

    Built level by level, pairing neighbours and lifting an odd last node unchanged: the same
    tree as the RFC's split at the largest power of two below n (its left subtrees are full)."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    sha256 = hashlib.sha256
    level = [sha256(b"\x00" + leaf).digest() for leaf in leaves]
    while len(level) > 1:
        paired = [
            sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()


class ChainBroken(Exception):
    """An event that does not continue its stream's hash chain."""


class ChainWalk:
    """Events in log order, each continuing its stream's chain: the hash each one must have,
    the heads of the streams, and the leaves of the Merkle tree."""

    def __init__(self, keep_leaves: bool = True) -> None:
        self.heads: dict[str, tuple[int, str]] = {}
        self.leaves: list[bytes] = []
        self.keep_leaves = keep_leaves

    def next_version(self, stream: str) -> int:
        return self.heads.get(stream, (0, GENESIS))[0] + 1

    def previous(self, stream: str, version: int) -> str:
        """The hash the event `version` of `stream` chains to; ChainBroken when it skips or
        repeats a version."""
        last, previous = self.heads.get(stream, (0, GENESIS))
        if version != last + 1:
            raise ChainBroken(f"поток {stream}: после версии {last} идёт версия {version}")
        return previous

    def accept(self, stream: str, version: int, digest: str) -> None:
        """Record an event whose hash the caller computed for `previous(stream, version)`."""
        self.heads[stream] = (version, digest)
        if self.keep_leaves:
            self.leaves.append(bytes.fromhex(digest))

    def next(self, *, stream: str, version: int, topic: str, state: Any) -> tuple[str, str]:
        """The event's (previous, hash); ChainBroken when it skips or repeats a version."""
        previous = self.previous(stream, version)
        digest = event_hash(
            stream=stream, version=version, topic=topic, state=state, previous=previous
        )
        self.accept(stream, version, digest)
        return previous, digest

    def stream_heads(self) -> dict[str, int]:
        return {s: v for s, (v, _) in sorted(self.heads.items())}

    def root(self) -> str:
        return merkle_root(self.leaves)
