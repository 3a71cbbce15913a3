"""`ejournal verify`: recompute every event's chained hash from the stored events and compare
with the recorded chain; report the first broken event and stream; give each organisation's
Merkle root (RFC 6962) over its events in log order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domain.integrity import ChainWalk, merkle_root


@dataclass
class Broken:
    position: int
    stream_id: str
    version: int
    reason: str


@dataclass
class Verification:
    events: int = 0
    roots: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    broken: Broken | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify_store(
    app: Any, progress: Callable[[int, int], None] | None = None, batch: int = 5000
) -> Verification:
    """Walk the whole log against the recorded hash chain."""
    app.indexes.catch_up(app.chain.name)
    result = Verification()
    walk = ChainWalk(keep_leaves=False)  # the roots are per organisation, kept below
    leaves: dict[str, list[bytes]] = {}
    # The end of what is checked: the last event, or the last recorded hash when events at the
    # end were deleted (hash rows commit with their events, so neither runs ahead otherwise).
    with app.db.read() as cur:
        cur.execute("SELECT MAX(position) FROM event_hashes")
        hashed = cur.fetchone()[0]
    head = max(int(app.recorder.max_notification_id() or 0), int(hashed or 0))
    start = 0
    while True:
        # Up to the head seen at the start: a write committed meanwhile is checked next time
        # (its hash row would otherwise look like an event deleted from the log).
        notes = app.recorder.select_notifications(
            start=start, limit=batch, stop=head, inclusive_of_start=False
        )
        stop = notes[-1].id if len(notes) == batch else head
        recorded = _recorded(app, start, stop)
        deleted = sorted(set(recorded) - {n.id for n in notes})
        if deleted:
            _, stream, version, _ = recorded[deleted[0]]
            result.broken = Broken(deleted[0], stream, version, "событие удалено из журнала")
            return result
        if not notes:
            break
        for n in notes:
            broken = _check(app, n, recorded.get(n.id), walk, leaves)
            if broken is not None:
                result.broken = broken
                return result
            result.events += 1
        start = notes[-1].id
        if progress is not None:
            progress(start, head)
    result.roots = {org: merkle_root(items) for org, items in sorted(leaves.items())}
    result.counts = {org: len(items) for org, items in sorted(leaves.items())}
    return result


def _recorded(app: Any, after: int, upto: int | None) -> dict[int, tuple[str, str, int, str]]:
    """Recorded hashes of the positions after `after` up to `upto` (all, when None)."""
    with app.db.read() as cur:
        cur.execute(
            "SELECT position, org_id, stream_id, version, hash FROM event_hashes "
            "WHERE position > ? AND position <= ? ORDER BY position",
            (after, upto if upto is not None else 2**62),
        )
        return {int(r[0]): (str(r[1]), str(r[2]), int(r[3]), str(r[4])) for r in cur.fetchall()}


def _check(
    app: Any,
    n: Any,
    mine: tuple[str, str, int, str] | None,
    walk: ChainWalk,
    leaves: dict[str, list[bytes]],
) -> Broken | None:
    stream = str(n.originator_id)
    if mine is None:
        return Broken(
            n.id, stream, n.originator_version, "событие без записанного хеша (добавлено в обход)"
        )
    expected = walk.next_version(stream)
    if n.originator_version != expected:
        return Broken(n.id, stream, n.originator_version, f"пропущена версия {expected} потока")
    try:
        state = app.chain.state_of(n)
    except Exception as e:  # undecodable bytes are a change too
        return Broken(
            n.id, stream, n.originator_version, f"событие не читается: {type(e).__name__}"
        )
    _, digest = walk.next(stream=stream, version=n.originator_version, topic=n.topic, state=state)
    if digest != mine[3] or stream != mine[1] or n.originator_version != mine[2]:
        return Broken(
            n.id, stream, n.originator_version, "содержимое события изменено: хеш не совпадает"
        )
    leaves.setdefault(mine[0], []).append(bytes.fromhex(digest))
    return None
