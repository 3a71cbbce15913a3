"""The shape every read model has: its tables, how it applies one event, how it resets."""

from __future__ import annotations

from typing import Any, Protocol

from adapters.sql import Cursor


class Projection(Protocol):
    name: str
    # Event classes it reads; the runner asks the log for these topics only.
    handles: tuple[type[Any], ...]

    def ddl(self) -> list[str]: ...

    def apply(self, cur: Cursor, event: Any, position: int) -> None: ...

    def reset(self, cur: Cursor) -> None: ...


def index_statements(ddl: list[str]) -> dict[str, str]:
    """The CREATE INDEX statements of a projection's DDL, by index name: what a rebuild drops
    first and builds again at its end (faster than keeping them up to date row by row);
    ddl() recreates any that a crashed rebuild left missing."""
    return {s.split()[5]: s for s in ddl if s.startswith("CREATE INDEX")}
