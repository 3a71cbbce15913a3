"""Use cases: trusted persons (delegations), deactivating accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.accounts import Account, Accounts
from adapters.service.core import JournalCore
from domain import ids
from domain.actors import Actor, Role
from domain.errors import Forbidden, RecordNotFound, RuleViolation
from domain.reference import Person
from projections.delegations import Delegations


class PeopleUseCases(JournalCore):
    def grant_delegation(
        self, actor: Actor, *, trustee_id: str, student_ids: list[str], expires_at: datetime
    ) -> tuple[str, int]:
        """A parent lets a trusted person read their children's data until `expires_at`."""
        if not actor.has(Role.PARENT):
            raise Forbidden("Доверенность выдаёт родитель (законный представитель)")
        trustee = self.person(actor.org_id, trustee_id)
        if trustee is None or not trustee.active or trustee.kind == "student":
            raise RuleViolation(f"Нет такого доверенного лица «{trustee_id}»", field="trustee_id")
        parent = self.person(actor.org_id, actor.id)
        if parent is None or not set(student_ids) <= set(parent.children):
            # Students and parents are not told whether someone else's child exists.
            raise RecordNotFound("Обучающийся не найден")
        delegation_id = self.new_id()
        acting = Actor(actor.id, Role.PARENT.value, actor.org_id, actor.roles)
        _, position = self.change(
            ids.person_id(actor.org_id, actor.id),
            Person,
            None,
            lambda p: p.grant_delegation(
                delegation_id=delegation_id,
                trustee_id=trustee_id,
                children=student_ids,
                expires_at=expires_at,
                actor=acting,
                at=self.clock.now(),
            ),
        )
        return delegation_id, position

    def revoke_delegation(
        self, actor: Actor, delegation_id: str, *, reason: str | None = None
    ) -> int:
        mine = {d["delegation_id"]: d for d in self.delegations(actor)}
        found = mine.get(delegation_id)
        if found is None or found["parent_id"] != actor.id:
            raise RecordNotFound("Доверенность не найдена")
        acting = Actor(actor.id, Role.PARENT.value, actor.org_id, actor.roles)
        _, position = self.change(
            ids.person_id(actor.org_id, actor.id),
            Person,
            None,
            lambda p: p.revoke_delegation(
                delegation_id=delegation_id, reason=reason, actor=acting, at=self.clock.now()
            ),
        )
        return position

    def delegations(self, actor: Actor) -> list[dict[str, Any]]:
        """Delegations the actor granted or holds."""
        with self.db.read() as cur:
            return Delegations.of(cur, actor.org_id, actor.id)

    def deactivate_account(self, actor: Actor, person_id: str, *, reason: str) -> int:
        """An administrator deactivates an account: its tokens stop working at once."""
        return self._switch_account(actor, person_id, reason=reason, active=False)

    def reactivate_account(self, actor: Actor, person_id: str, *, reason: str) -> int:
        """An administrator switches a deactivated account on again (the roster never does)."""
        return self._switch_account(actor, person_id, reason=reason, active=True)

    def _switch_account(self, actor: Actor, person_id: str, *, reason: str, active: bool) -> int:
        if not actor.has(Role.ADMIN):
            raise Forbidden("Включать и отключать учётные записи может администратор")
        if person_id == actor.id:
            raise RuleViolation("Нельзя менять собственную учётную запись", field="person_id")
        person = self.person(actor.org_id, person_id)
        if person is None:
            raise RecordNotFound("Нет такого человека")
        if person.active == active:
            state = "включена" if active else "отключена"
            raise RuleViolation(f"Учётная запись уже {state}", field="person_id")
        acting = Actor(actor.id, Role.ADMIN.value, actor.org_id, actor.roles)
        now = self.clock.now()

        def switch(p: Person) -> None:
            if active:
                p.reactivate(reason=reason, actor=acting, at=now)
            else:
                p.deactivate(reason=reason, actor=acting, at=now)

        _, position = self.change(ids.person_id(actor.org_id, person_id), Person, None, switch)
        accounts = Accounts(self.db)
        account = accounts.get(actor.org_id, person_id)
        if account is not None:
            with self.db.transaction() as cur:
                Accounts.upsert(
                    cur,
                    Account(
                        account.org_id,
                        account.person_id,
                        account.username,
                        account.password_hash,
                        account.kind,
                        active,
                        account.token_epoch + 1,
                    ),
                )
        return position
