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

    def is_administration(self) -> bool:
        """Deputy, director or administrator: reads every journal of the organisation."""
        return self.has(Role.DEPUTY) or self.has(Role.DIRECTOR) or self.has(Role.ADMIN)

    def is_family(self) -> bool:
        """A student, parent or trusted person: no staff role at all."""
        return not self.roles & STAFF_ROLES and self.role not in STAFF_ROLES


def system_actor(org_id: str) -> Actor:
    return Actor(id="system", role=Role.SYSTEM, org_id=org_id, roles=frozenset({Role.SYSTEM}))
