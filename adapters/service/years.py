"""Use cases: closing an academic year (R-ARC-7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from adapters.archive import SealedYear, build_manifest, public_pem, sign
from adapters.service.core import JournalCore
from domain import ids
from domain.actors import Actor, Role
from domain.errors import Forbidden, RecordNotFound, RuleViolation
from domain.policy import authorise_year_close
from domain.reference import AcademicYear
from projections.facts import year_streams


class YearOpen(RuleViolation):
    code = "year-open"
    title = "Учебный год ещё не закрыт"


@dataclass(frozen=True)
class YearClosing:
    year_id: str
    closed_at: datetime
    closed_by: str
    event_count: int
    position: int
    manifest: dict[str, Any]
    signature: str


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

    def close_year(self, actor: Actor, year_id: str, reason: str | None = None) -> YearClosing:
        """Close the year: afterwards every write into it answers `year-closed`.

        Before the last day of the year's last period (the organisation's day) a reason is
        required (`year-not-over`); it goes into the event, the audit and the manifest."""
        year = self.year(actor.org_id, year_id)
        role = authorise_year_close(actor, year)
        acting = Actor(actor.id, role, actor.org_id, actor.roles)
        today = self.today(actor.org_id)
        closed, position = self.change(
            ids.academic_year_id(actor.org_id, year_id),
            AcademicYear,
            None,
            lambda y: y.close(actor=acting, at=self.clock.now(), today=today, reason=reason),
        )
        heads = self.stream_heads(actor.org_id, year_id)
        assert closed.closed_at is not None and closed.closed_by is not None
        sealed = self.seal(
            actor.org_id,
            year_id,
            closed.closed_at,
            closed.closed_by,
            heads,
            reason=closed.closed_reason,
        )
        return YearClosing(
            year_id,
            closed.closed_at,
            closed.closed_by,
            sum(heads.values()),
            position,
            sealed.manifest,
            sealed.signature,
        )

    def seal(
        self,
        org_id: str,
        year_id: str,
        closed_at: datetime,
        closed_by: str,
        heads: dict[str, int],
        *,
        reason: str | None = None,
    ) -> SealedYear:
        """Build, sign and keep the closed year's manifest (R-ARC-5)."""
        if not self.signing_key.exists():
            self.signing_key.create()
        key = self.signing_key.load()
        manifest = build_manifest(
            self.db,
            org_id=org_id,
            year_id=year_id,
            closed_at=closed_at,
            closed_by=closed_by,
            heads=heads,
            close_reason=reason,
            public_key=public_pem(key.public_key()),
        )
        sealed = SealedYear(manifest, sign(manifest, key))
        self.archives.store(sealed)
        return sealed

    def archive_for_export(self, actor: Actor, year_id: str) -> SealedYear:
        """The sealed year whose archive the actor may export (archivist, deputy, director)."""
        if not any(actor.has(r) for r in (Role.ARCHIVIST, Role.DEPUTY, Role.DIRECTOR)):
            raise Forbidden("Выгружают архив архивист, заместитель директора и директор")
        return self.archive(actor, year_id)

    def archive(self, actor: Actor, year_id: str) -> SealedYear:
        """The signed manifest of a closed year (archivist, deputy, director, admin)."""
        year = self.year(actor.org_id, year_id)
        if not any(actor.has(r) for r in (Role.ARCHIVIST, Role.DEPUTY, Role.DIRECTOR, Role.ADMIN)):
            raise Forbidden("Архив читают архивист и администрация")
        if year.closed_at is None:
            if not actor.is_administration():
                raise Forbidden("Архивист работает только с закрытыми годами")
            raise YearOpen("Учебный год ещё не закрыт: архива пока нет")
        sealed = self.archives.get(actor.org_id, year.year_id)
        if sealed is None:
            raise RecordNotFound("Архив года не найден")
        return sealed
