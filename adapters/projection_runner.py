"""Runs projections over the event log, exactly once, on SQLite and PostgreSQL alike.

SQLite's recorder cannot push notifications (EVENTSOURCING-NOTES.md), so the runner pulls:
it reads the log after its recorded position in batches and, per batch, writes the rows and
the new position in one transaction. A crash at any point leaves either the whole batch or
none of it; a restart resumes from the stored position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

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
        """Process one batch of new events for one projection; returns how many."""
        projection = self.projections[name]
        with self.db.transaction(durable=False) as cur:
            start = self._lock_position(cur, name)
            notifications = self.app.recorder.select_notifications(
                start=start,
                limit=self.batch_size,
                topics=self._topics[name],  # empty: every event
                inclusive_of_start=False,
            )
            if not notifications:
                return 0
            to_event: Callable[[Any], Any] = self.app.mapper.to_domain_event
            for notification in notifications:
                projection.apply(cur, to_event(notification), notification.id)
            cur.execute(
                "UPDATE projection_positions SET position = ? WHERE name = ?",
                (notifications[-1].id, name),
            )
            return len(notifications)

    def catch_up(self, name: str | None = None) -> int:
        """Run until the projection(s) have seen the whole log as it is now."""
        total = 0
        for each in [name] if name else list(self.projections):
            while True:
                n = self.run_batch(each)
                total += n
                if n < self.batch_size:
                    break
        return total

    def rebuild(self, name: str) -> int:
        with self.db.transaction() as cur:
            self._lock_position(cur, name)
            self.projections[name].reset(cur)
            cur.execute("UPDATE projection_positions SET position = 0 WHERE name = ?", (name,))
        return self.catch_up(name)
