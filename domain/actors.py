"""Who does things: an actor is a person acting in one role of one organisation."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    DIRECTOR = "director"
    DEPUTY = "deputy"
    TEACHER = "teacher"
    ARCHIVIST = "archivist"
    STUDENT = "student"
    PARENT = "parent"
    # Roles a person acts in without holding them in the roster: recorded on events.
    CURATOR = "curator"
    SUBSTITUTE = "substitute"
    # The importing process itself (first administrator, CLI import).
    SYSTEM = "system"


STAFF_ROLES = frozenset({Role.ADMIN, Role.DIRECTOR, Role.DEPUTY, Role.TEACHER, Role.ARCHIVIST})


@dataclass(frozen=True)
class Actor:
    """The author of a command: person id, the role they act in, their organisation."""

    id: str
    role: str
    org_id: str
    roles: frozenset[str] = frozenset()

    def has(self, role: str) -> bool:
        return role == self.role or role in self.roles


def system_actor(org_id: str) -> Actor:
    return Actor(id="system", role=Role.SYSTEM, org_id=org_id, roles=frozenset({Role.SYSTEM}))
