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
