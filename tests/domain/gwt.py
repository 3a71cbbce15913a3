"""Given-when-then for aggregates: given past events, when a command, then new events or error."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from domain.errors import RuleViolation


def replay(events: Sequence[Any]) -> Any:
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class Scenario:
    def __init__(self, events: Sequence[Any]) -> None:
        self.aggregate = replay(events)
        self._command: Callable[[Any], None] | None = None

    def when(self, command: Callable[[Any], None]) -> Scenario:
        self._command = command
        return self

    def then(self, *expected: tuple[type[Any], dict[str, Any]]) -> list[Any]:
        """Each expected event as (class, the fields that matter)."""
        assert self._command is not None
        self._command(self.aggregate)
        new = list(self.aggregate.collect_events())
        assert [type(e) for e in new] == [cls for cls, _ in expected]
        for event, (_, fields) in zip(new, expected, strict=True):
            for name, value in fields.items():
                assert getattr(event, name) == value, name
        return new

    def then_raises(self, error: type[RuleViolation], code: str | None = None) -> RuleViolation:
        assert self._command is not None
        before = len(self.aggregate.pending_events)
        with pytest.raises(error) as info:
            self._command(self.aggregate)
        # A rejected command leaves no event behind.
        assert len(self.aggregate.pending_events) == before
        if code:
            assert info.value.code == code
        return info.value

    def then_nothing(self) -> None:
        assert self._command is not None
        self._command(self.aggregate)
        assert self.aggregate.collect_events() == []


def given(*events: Any) -> Scenario:
    return Scenario(events)
