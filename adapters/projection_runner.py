"""Runs projections over the event log, exactly once, on SQLite and PostgreSQL alike.

SQLite's recorder cannot push notifications (EVENTSOURCING-NOTES.md), so the runner pulls:
it reads the log after its recorded position in batches and, per batch, writes the rows and
the new position in one transaction. A crash at any point leaves either the whole batch or
none of it; a restart resumes from the stored position.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import structlog
from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from adapters.sql import Cursor, Database
from adapters.tables import create_tables
from projections.base import Projection

REBUILD_CACHE_KIB = 256 * 1024
# Events a rebuild reads and writes at a time (each table's rows in one COPY or executemany):
# on the bench year 250–1,000 are fastest, 5,000 a third slower (more objects alive at once).
REBUILD_BATCH = 500


class _Moved(Exception):
    """Another runner moved a position since it was read: read the log again."""


@dataclass
class _Batch:
    notifications: Sequence[Any]
    decoded: list[tuple[str, Any, int, Any]]
    position: int


@contextlib.contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Python's cycle collector paused for a rebuild: its passes over the many objects a
    rebuild keeps alive cost more than 5 % of the time, and a rebuild makes no cycles of its
    own (reference counting frees its garbage). On again afterwards, as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def _large_cache(cur: Cursor) -> Iterator[None]:
    """SQLite's page cache raised for a rebuild (its inserts land all over large indexes),
    back to the default afterwards; PostgreSQL sizes its own buffers."""
    if getattr(cur, "dialect", "sqlite") == "postgresql":
        yield
        return
    cur.execute("PRAGMA cache_size")
    default = int(cur.fetchone()[0])
    cur.execute(f"PRAGMA cache_size = -{REBUILD_CACHE_KIB}")
    try:
        yield
    finally:
        cur.execute(f"PRAGMA cache_size = {default}")


class ProjectionRunner:
    def __init__(
        self,
        app: Application[Any],
        db: Database,
        projections: Sequence[Projection],
        batch_size: int = 1000,
    ) -> None:
        self.app = app
        self.db = db
        self.projections = {p.name: p for p in projections}
        self.batch_size = batch_size
        self._topics = {p.name: [get_topic(cls) for cls in p.handles] for p in projections}
        self._errors: dict[str, tuple[str, int] | None] = {}
        create_tables(self.db, [s for p in projections for s in p.ddl()])
        with self.db.transaction() as cur:
            for name in self.projections:
                cur.execute(
                    "INSERT INTO projection_positions (name, position) VALUES (?, 0) "
                    "ON CONFLICT (name) DO NOTHING",
                    (name,),
                )

    def _lock_position(self, cur: Cursor, name: str) -> int:
        # SQLite's BEGIN IMMEDIATE already holds the write lock; PostgreSQL locks the row.
        lock = " FOR UPDATE" if self.db.dialect == "postgresql" else ""
        cur.execute(f"SELECT position FROM projection_positions WHERE name = ?{lock}", (name,))
        return int(cur.fetchone()[0])

    def position(self, name: str) -> int:
        return self.positions([name])[name]

    def positions(self, names: Sequence[str]) -> dict[str, int]:
        """Positions (and any error kept since the last failure) of the named projections."""
        marks = ", ".join("?" for _ in names)
        with self.db.read() as cur:
            cur.execute(
                "SELECT name, position, error, error_position FROM projection_positions "
                f"WHERE name IN ({marks})",
                list(names),
            )
            rows = cur.fetchall()
        found = {str(r[0]): int(r[1]) for r in rows}
        self._errors.update({str(r[0]): (r[2], r[3]) if r[2] else None for r in rows})
        return {n: found.get(n, 0) for n in names}

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def run_batch(self, name: str) -> int:
        """Process one batch of new events for one projection; returns how many were read."""
        return self.run_batch_together([name])

    def run_batch_together(self, names: Sequence[str]) -> int:
        """One batch for several projections: the log is read and decoded once and each
        projection gets the events past its own position, its rows and its new position
        committed in the same transaction. Returns how many events were read.

        Lock discipline (ADR 13): the log is read *before* our transaction opens, and the
        transaction then only touches our own tables, so it never waits for the library's
        connections while holding a write lock. Positions read before are checked again
        under the lock; another runner that moved them first makes this one read again.

        A position moves to the log head seen before reading when the batch was not full,
        so positions compare with the head (and with a write's `position`) even when the
        newest events are not a projection's. Ids up to that head are all committed: the
        library inserts under a table lock (PostgreSQL) or a single writer (SQLite)."""
        names = sorted(names)  # one lock order for every runner
        for _ in range(20):
            starts = self.positions(names)
            head = self.head()
            batch = self._read(names, starts, head)
            if batch is None:
                return 0
            try:
                with self.db.transaction(durable=False) as cur:
                    if {n: self._lock_position(cur, n) for n in names} != starts:
                        raise _Moved
                    self._process(cur, names, starts, batch)
            except _Moved:
                continue
            except Exception:
                if len(names) == 1:
                    self._record_failure(names[0], starts[names[0]], batch)
                    raise
                # One projection's failure must not stop the others: each on its own.
                return sum(self._run_alone(n) for n in names)
            self._clear_errors(names)
            return len(batch.notifications)
        return 0

    def _run_alone(self, name: str) -> int:
        try:
            return self.run_batch_together([name])
        except Exception:
            return 0

    def _read(
        self, names: Sequence[str], starts: dict[str, int], head: int, size: int = 0
    ) -> _Batch | None:
        start = min(starts.values())
        if head <= start:
            return None
        size = size or self.batch_size
        topics = [self._topics[n] for n in names]
        notifications = self.app.recorder.select_notifications(
            start=start,
            limit=size,
            stop=head,
            # Empty: every event (some projection reads them all).
            topics=[] if not all(topics) else sorted({t for ts in topics for t in ts}),
            inclusive_of_start=False,
        )
        to_event: Callable[[Any], Any] = self.app.mapper.to_domain_event
        raw = any(getattr(self.projections[n], "raw", False) for n in names)
        cooked = not all(getattr(self.projections[n], "raw", False) for n in names)
        decoded = [
            (n.topic, to_event(n) if cooked else None, n.id, n if raw else None)
            for n in notifications
        ]
        full = len(notifications) == size
        position = notifications[-1].id if full else head
        return _Batch(notifications, decoded, position)

    def _process(
        self, cur: Cursor, names: Sequence[str], starts: dict[str, int], batch: _Batch
    ) -> None:
        for name in names:
            wanted = set(self._topics[name])
            # A raw projection gets the stored notification, the others the domain event.
            is_raw = getattr(self.projections[name], "raw", False)
            events = [
                (stored if is_raw else event, at)
                for topic, event, at, stored in batch.decoded
                if at > starts[name] and (not wanted or topic in wanted)
            ]
            self._apply(self.projections[name], cur, events)
            cur.execute(
                "UPDATE projection_positions SET position = ? WHERE name = ?",
                (max(batch.position, starts[name]), name),
            )

    def _record_failure(self, name: str, start: int, batch: _Batch) -> None:
        """Find the event the projection cannot process (one at a time, each rolled back),
        log it with its id and keep it for `/health/projections`."""
        failing, error = None, "?"
        for topic, event, at, stored in batch.decoded:
            if at <= start or (self._topics[name] and topic not in self._topics[name]):
                continue
            one = _Batch(batch.notifications, [(topic, event, at, stored)], at)
            try:
                with self.db.transaction(durable=False) as cur:
                    self._process(cur, [name], {name: start}, one)
                    raise _Moved  # only a trial: roll it back
            except _Moved:
                continue
            except Exception as e:
                failing, error = stored or event, f"{type(e).__name__}: {e}"
                position = at
                break
        else:
            position = batch.position
        stream = str(getattr(failing, "originator_id", ""))
        version = int(getattr(failing, "originator_version", 0) or 0)
        structlog.get_logger("ejournal.projections").error(
            "projection.event_failed",
            projection=name,
            event_position=position,
            stream_id=stream,
            version=version,
            error=error[:500],
        )
        with contextlib.suppress(Exception), self.db.transaction() as cur:
            cur.execute(
                "UPDATE projection_positions SET error = ?, error_position = ? WHERE name = ?",
                (error[:1000], position, name),
            )

    def _clear_errors(self, names: Sequence[str]) -> None:
        if not any(self._errors.get(n) for n in names):
            return
        with contextlib.suppress(Exception), self.db.transaction() as cur:
            for name in names:
                cur.execute(
                    "UPDATE projection_positions SET error = NULL, error_position = NULL "
                    "WHERE name = ?",
                    (name,),
                )

    @staticmethod
    def _apply(projection: Projection, cur: Cursor, events: list[tuple[Any, int]]) -> None:
        apply_batch = getattr(projection, "apply_batch", None)
        if apply_batch is not None:
            apply_batch(cur, events)
        else:
            for event, position in events:
                projection.apply(cur, event, position)

    def catch_up(
        self, name: str | None = None, progress: Callable[[str, int], None] | None = None
    ) -> int:
        """Run until the projection(s) have seen the whole log as it is now; all of them
        together, in one pass over the log, unless one is named.

        `progress(name, position)` is called after each batch."""
        names = [name] if name else list(self.projections)
        total = 0
        while True:
            n = self.run_batch_together(names)
            total += n
            if progress is not None:
                for each in names:
                    progress(each, self.position(each))
            if n < self.batch_size:
                return total

    def caught_up_to(self, position: int) -> bool:
        return all(self.position(name) >= position for name in self.projections)

    def wait_for(self, position: int, timeout: float) -> bool:
        """Bring the read models to at least `position`, within `timeout` seconds.

        The waiting request does the catching up itself; concurrent runners queue on the
        position rows, so the work is never done twice."""
        deadline = time.monotonic() + timeout
        while not self.caught_up_to(position):
            if time.monotonic() >= deadline:
                return False
            for name in self.projections:
                self.run_batch(name)
        return True

    def status(self) -> list[dict[str, int | str | None]]:
        head = self.head()
        positions = self.positions(list(self.projections))
        answer: list[dict[str, int | str | None]] = []
        for name, p in positions.items():
            error = self._errors.get(name)
            answer.append(
                {
                    "name": name,
                    "position": p,
                    "head": head,
                    "lag": max(0, head - p),
                    "error": error[0] if error else None,
                    "error_position": int(error[1]) if error and error[1] else None,
                }
            )
        return answer

    def _batches(self, names: Sequence[str], head: int, *, ahead: bool) -> Iterator[_Batch]:
        """The log from the start to `head`, read and decoded a batch at a time; `ahead`: the
        next batch in a second thread while the caller writes this one. That pays on
        PostgreSQL, whose driver frees the GIL for each whole wait on the server; SQLite's frees
        it for every row stepped and would hand it back and forth between the threads."""
        starts = dict.fromkeys(names, 0)
        if not ahead:
            while (batch := self._read(names, starts, head, REBUILD_BATCH)) is not None:
                yield batch
                starts = dict.fromkeys(names, batch.position)
            return
        with ThreadPoolExecutor(1, thread_name_prefix="rebuild-read") as reader:
            following = reader.submit(self._read, names, starts, head, REBUILD_BATCH)
            while (batch := following.result()) is not None:
                starts = dict.fromkeys(names, batch.position)
                following = reader.submit(self._read, names, starts, head, REBUILD_BATCH)
                yield batch

    def rebuild(
        self, name: str | None = None, progress: Callable[[str, int], None] | None = None
    ) -> int:
        """Build a projection's tables (or every projection's) again from the first event, in
        one pass over the log and one transaction: readers see the old rows until the new
        ones commit, and a failure leaves the old ones as they were, never an emptier model.

        The log is read through the library's connections while our transaction is open;
        that transaction touches only our tables (ADR 13). On SQLite it holds the write lock
        throughout, so writes wait (and answer 503 after the busy timeout) meanwhile."""
        names = sorted([name] if name else list(self.projections))
        indexes: dict[str, str] = {}
        total = 0
        with no_cyclic_gc(), self.db.transaction() as cur, _large_cache(cur):
            for each in names:
                projection = self.projections[each]
                self._lock_position(cur, each)
                projection.reset(cur)
                indexes.update(getattr(projection, "secondary_indexes", dict)())
            for index in indexes:
                cur.execute(f"DROP INDEX IF EXISTS {index}")
            starts = dict.fromkeys(names, 0)
            head = self.head()
            for batch in self._batches(names, head, ahead=self.db.dialect == "postgresql"):
                self._process(cur, names, starts, batch)
                total += len(batch.notifications)
                starts = dict.fromkeys(names, batch.position)
                if progress is not None:
                    for each in names:
                        progress(each, batch.position)
            for each in names:
                cur.execute(
                    "UPDATE projection_positions SET position = ?, error = NULL, "
                    "error_position = NULL WHERE name = ?",
                    (starts[each], each),
                )
            for statement in indexes.values():
                cur.execute(statement)
        with self.db.transaction() as cur:
            # Fresh statistics, or the planner guesses from a table's old size.
            for each in names:
                for table in getattr(self.projections[each], "tables", list)():
                    cur.execute(f"ANALYZE {table}")
        # Whatever was written while rebuilding.
        return total + self.catch_up(name)


class Follower:
    """Keeps read models following the log in a background thread (inside the server).

    Writes call `wake()`; otherwise it polls every `interval` seconds, which also picks up
    events written by other processes. Rounds are at least `gap` seconds apart, so that under
    load one round takes what many writes stored (a round's cost is mostly per round: its
    queries, its transaction); reads with `min_position` catch up by themselves meanwhile.
    With a `leader` lock, only the process holding it follows (one follower per store); the
    others check again every `interval`."""

    def __init__(
        self,
        runner: ProjectionRunner,
        interval: float = 0.5,
        leader: Any = None,
        gap: float = 0.05,
    ) -> None:
        self.runner = runner
        self.interval = interval
        self.gap = gap
        self.leader = leader
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="projections", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)
        if self.leader is not None:
            self.leader.release()

    def _run(self) -> None:
        log = structlog.get_logger("ejournal.projections")
        while not self._stop.is_set():
            self._wake.clear()
            if self.leader is not None and not self.leader.held():
                self._stop.wait(self.interval)
                continue
            try:
                self.runner.catch_up()
            except Exception:  # keep following; the next round retries from the position
                log.exception("projection round failed")
                self._stop.wait(self.interval * 4)
            if self.gap > 0:
                self._stop.wait(self.gap)
            self._wake.wait(self.interval)
