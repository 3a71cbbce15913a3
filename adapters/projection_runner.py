"""Runs projections over the event log, exactly once, on SQLite and PostgreSQL alike.

SQLite's recorder cannot push notifications (EVENTSOURCING-NOTES.md), so the runner pulls:
it reads the log after its recorded position in batches and, per batch, writes the rows and
the new position in one transaction. A crash at any point leaves either the whole batch or
none of it; a restart resumes from the stored position.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from adapters.sql import Cursor, Database
from adapters.tables import create_tables
from projections.base import Projection


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
        with self.db.read() as cur:
            cur.execute("SELECT position FROM projection_positions WHERE name = ?", (name,))
            row = cur.fetchone()
        return int(row[0]) if row else 0

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def run_batch(self, name: str) -> int:
        """Process one batch of new events for one projection; returns how many were read."""
        return self.run_batch_together([name])

    def run_batch_together(self, names: Sequence[str]) -> int:
        """One batch for several projections: the log is read and decoded once and each
        projection gets the events past its own position, its rows and its new position
        committed in the same transaction. Returns how many events were read.

        A position moves to the log head seen before reading when the batch was not full,
        so positions compare with the head (and with a write's `position`) even when the
        newest events are not a projection's. Ids up to that head are all committed: the
        library inserts under a table lock (PostgreSQL) or a single writer (SQLite)."""
        names = sorted(names)  # one lock order for every runner
        with self.db.transaction(durable=False) as cur:
            starts = {name: self._lock_position(cur, name) for name in names}
            head = self.head()
            start = min(starts.values())
            if head <= start:
                return 0
            topics = [self._topics[n] for n in names]
            notifications = self.app.recorder.select_notifications(
                start=start,
                limit=self.batch_size,
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
            full = len(notifications) == self.batch_size
            position = notifications[-1].id if full else head
            for name in names:
                wanted = set(self._topics[name])
                # A raw projection gets the stored notification, the others the domain event.
                is_raw = getattr(self.projections[name], "raw", False)
                events = [
                    (stored if is_raw else event, at)
                    for topic, event, at, stored in decoded
                    if at > starts[name] and (not wanted or topic in wanted)
                ]
                self._apply(self.projections[name], cur, events)
                cur.execute(
                    "UPDATE projection_positions SET position = ? WHERE name = ?",
                    (max(position, starts[name]), name),
                )
            return len(notifications)

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

    def status(self) -> list[dict[str, int | str]]:
        head = self.head()
        return [
            {
                "name": name,
                "position": (p := self.position(name)),
                "head": head,
                "lag": max(0, head - p),
            }
            for name in self.projections
        ]

    def rebuild(
        self, name: str | None = None, progress: Callable[[str, int], None] | None = None
    ) -> int:
        """Empty a projection's tables (or every projection's) and build them again from the
        first event, in one pass over the log."""
        names = [name] if name else list(self.projections)
        indexes: dict[str, str] = {}
        with self.db.transaction() as cur:
            for each in sorted(names):
                projection = self.projections[each]
                self._lock_position(cur, each)
                projection.reset(cur)
                indexes.update(getattr(projection, "secondary_indexes", dict)())
                cur.execute("UPDATE projection_positions SET position = 0 WHERE name = ?", (each,))
            for index in indexes:
                cur.execute(f"DROP INDEX IF EXISTS {index}")
        try:
            return self.catch_up(name, progress)
        finally:
            with self.db.transaction() as cur:
                for statement in indexes.values():
                    cur.execute(statement)
                # Fresh statistics, or the planner guesses from empty tables.
                for each in names:
                    for table in getattr(self.projections[each], "tables", list)():
                        cur.execute(f"ANALYZE {table}")


class Follower:
    """Keeps read models following the log in a background thread (inside the server).

    Writes call `wake()`; otherwise it polls every `interval` seconds, which also picks up
    events written by other processes."""

    def __init__(self, runner: ProjectionRunner, interval: float = 0.5) -> None:
        self.runner = runner
        self.interval = interval
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

    def _run(self) -> None:
        log = structlog.get_logger("ejournal.projections")
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.runner.catch_up()
            except Exception:  # keep following; the next round retries from the position
                log.exception("projection round failed")
                self._stop.wait(self.interval * 4)
            self._wake.wait(self.interval)
