"""Use cases: reading a student's journal, now or as it stood at any moment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from adapters.service.core import JournalCore
from domain import ids
from domain.actors import Actor
from domain.errors import RecordNotFound
from domain.journal import Absence, Attestation, Mark, StudentJournal
from domain.policy import visible_subjects


@dataclass
class JournalView:
    student_id: str
    year_id: str
    marks: list[Mark] = field(default_factory=list)
    absences: list[Absence] = field(default_factory=list)
    attestations: list[Attestation] = field(default_factory=list)


class ReadingUseCases(JournalCore):
    def journal_as_of(self, journal_uuid: UUID, as_of: datetime | None) -> StudentJournal | None:
        """The journal as it stood at `as_of` (record time), or now."""
        if as_of is None:
            return self.read_journal(journal_uuid)
        journal: Any = None
        events: Any = self.events.get(journal_uuid)
        for event in events:
            if event.timestamp > as_of:
                break
            journal = event.mutate(journal)
        return journal

    def journal(
        self, actor: Actor, student_id: str, year_id: str | None, as_of: datetime | None
    ) -> JournalView:
        try:
            year = self.year_or_current(actor.org_id, year_id)
        except RecordNotFound:
            raise RecordNotFound("Журнал не найден") from None
        subjects = visible_subjects(actor, year, student_id, self.children(actor))
        if not year.ever_in_year(student_id):
            raise RecordNotFound("Журнал не найден")
        view = JournalView(student_id, year.year_id)
        journal = self.journal_as_of(ids.journal_id(actor.org_id, year.year_id, student_id), as_of)
        if journal is not None:

            def visible(subject_id: str | None) -> bool:
                return subjects is None or subject_id is None or subject_id in subjects

            view.marks = [m for m in journal.marks.values() if visible(m.subject_id)]
            view.absences = [a for a in journal.absences.values() if visible(a.subject_id)]
            view.attestations = [t for t in journal.attestations.values() if visible(t.subject_id)]
        return view
