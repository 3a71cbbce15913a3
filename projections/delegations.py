"""Delegations to trusted persons, kept current by every write before it answers, so a
revocation takes effect on the very next call."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from adapters.sql import Cursor
from domain.reference import Person
from projections.facts import stamp


class Delegations:
    name: str = "delegations"
    handles: tuple[type[Any], ...] = (
        Person.Registered,
        Person.DelegationGranted,
        Person.DelegationRevoked,
    )

    def ddl(self) -> list[str]:
        return [
            """CREATE TABLE IF NOT EXISTS delegations (
                delegation_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, parent_id TEXT NOT NULL,
                trustee_id TEXT NOT NULL, children TEXT NOT NULL, expires_at TEXT NOT NULL,
                revoked INTEGER NOT NULL DEFAULT 0)""",
            "CREATE INDEX IF NOT EXISTS delegations_by_trustee ON delegations (org_id, trustee_id)",
            """CREATE TABLE IF NOT EXISTS delegation_people (
                stream_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, person_id TEXT NOT NULL)""",
        ]

    def apply(self, cur: Cursor, event: Any, position: int) -> None:
        if isinstance(event, Person.Registered):
            cur.execute(
                "INSERT INTO delegation_people (stream_id, org_id, person_id) VALUES (?, ?, ?) "
                "ON CONFLICT (stream_id) DO NOTHING",
                (str(event.originator_id), event.org_id, event.person),
            )
        elif isinstance(event, Person.DelegationGranted):
            org_id, parent_id = self._owner(cur, event)
            cur.execute(
                "INSERT INTO delegations (delegation_id, org_id, parent_id, trustee_id, "
                "children, expires_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (delegation_id) DO NOTHING",
                (
                    event.delegation_id,
                    org_id,
                    parent_id,
                    event.trustee_id,
                    json.dumps(event.children),
                    stamp(event.expires_at),
                ),
            )
        else:
            cur.execute(
                "UPDATE delegations SET revoked = 1 WHERE delegation_id = ?", (event.delegation_id,)
            )

    @staticmethod
    def _owner(cur: Cursor, event: Any) -> tuple[str, str]:
        cur.execute(
            "SELECT org_id, person_id FROM delegation_people WHERE stream_id = ?",
            (str(event.originator_id),),
        )
        row = cur.fetchone()
        return str(row[0]), str(row[1])

    def reset(self, cur: Cursor) -> None:
        cur.execute("DELETE FROM delegations")
        cur.execute("DELETE FROM delegation_people")

    @staticmethod
    def delegated_children(
        cur: Cursor, org_id: str, trustee_id: str, now: datetime
    ) -> list[tuple[str, list[str]]]:
        """(granting parent, children) of the trustee's unexpired, unrevoked delegations."""
        cur.execute(
            "SELECT parent_id, children FROM delegations WHERE org_id = ? AND trustee_id = ? "
            "AND revoked = 0 AND expires_at > ?",
            (org_id, trustee_id, stamp(now)),
        )
        return [(str(row[0]), list(json.loads(row[1]))) for row in cur.fetchall()]

    @staticmethod
    def of(cur: Cursor, org_id: str, person_id: str) -> list[dict[str, Any]]:
        cur.execute(
            "SELECT delegation_id, parent_id, trustee_id, children, expires_at, revoked "
            "FROM delegations WHERE org_id = ? AND (parent_id = ? OR trustee_id = ?) "
            "ORDER BY expires_at",
            (org_id, person_id, person_id),
        )
        return [
            {
                "delegation_id": r[0],
                "parent_id": r[1],
                "trustee_id": r[2],
                "student_ids": json.loads(r[3]),
                "expires_at": r[4],
                "revoked": bool(r[5]),
            }
            for r in cur.fetchall()
        ]
