"""Common shape of every aggregate here: each event names its author, role and time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.actors import Actor


class Audited(Aggregate):
    """An aggregate whose every event carries who did it, in which role, and when."""

    class Event(Aggregate.Event):
        actor_id: str
        actor_role: str

    class Created(Event, Aggregate.Created):
        pass

    def _record(self, event_class: type[Any], actor: Actor, at: datetime, **fields: Any) -> None:
        """Record a new event at the injected time `at` (never the wall clock)."""
        self.trigger_event(
            event_class, timestamp=at, actor_id=actor.id, actor_role=actor.role, **fields
        )


def require_reason(reason: str | None) -> str:
    from domain.errors import RuleViolation

    text = (reason or "").strip()
    if not text:
        raise RuleViolation("Укажите причину изменения", field="reason")
    return text
