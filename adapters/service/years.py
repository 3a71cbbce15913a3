"""Use cases: closing an academic year (R-ARC-7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from adapters.service.core import JournalCore
from domain import ids
from domain.actors import Actor
from domain.policy import authorise_year_close
from domain.reference import AcademicYear
from projections.facts import year_streams


@dataclass(frozen=True)
class YearClosing:
    year_id: str
    closed_at: datetime
    closed_by: str
    event_count: int
    position: int


class YearUseCases(JournalCore):
    def stream_heads(self, org_id: str, year_id: str) -> dict[str, int]:
        """Each stream of the year and its last version (how many events it holds)."""
        self.read_models.catch_up()
        with self.db.read() as cur:
            streams = year_streams(cur, org_id, year_id)
        heads = {}
        for stream in streams:
            last = self.recorder.select_events(UUID(stream), desc=True, limit=1)
            heads[stream] = last[0].originator_version if last else 0
        return heads

    def close_year(self, actor: Actor, year_id: str) -> YearClosing:
        """Close the year: afterwards every write into it answers `year-closed`."""
        year = self.year(actor.org_id, year_id)
        role = authorise_year_close(actor, year)
        acting = Actor(actor.id, role, actor.org_id, actor.roles)
        closed, position = self.change(
            ids.academic_year_id(actor.org_id, year_id),
            AcademicYear,
            None,
            lambda y: y.close(actor=acting, at=self.clock.now()),
        )
        count = sum(self.stream_heads(actor.org_id, year_id).values())
        assert closed.closed_at is not None and closed.closed_by is not None
        return YearClosing(year_id, closed.closed_at, closed.closed_by, count, position)
