"""The service layer: one method per use case. Get aggregates, call a command, save.

Every method takes the acting `Actor`; time comes from the injected clock. Concurrent writers
to one journal meet the library's optimistic concurrency check; the loser re-reads and retries.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import random
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from adapters.clock import Clock, SystemClock
from adapters.projection_runner import ProjectionRunner
from adapters.sql import Database
from adapters.tables import create_tables
from adapters.transcodings import DateAsISO
from domain import ids
from domain.actors import Actor, Role
from domain.base import Audited
from domain.errors import Forbidden, RecordNotFound, RuleViolation
from domain.journal import Absence, Mark, StudentJournal
from domain.policy import authorise_journal_write, visible_subjects
from domain.reference import AcademicYear, Organisation, Person
from projections.locator import RecordLocator

A = TypeVar("A", bound=Audited)

MAX_ATTEMPTS = 8
REFERENCE_CACHE_SIZE = 10_000


class Conflict(RuleViolation):
    code = "conflict"
    title = "Конфликт одновременных изменений"


class OutsideAcademicYear(RuleViolation):
    code = "outside-academic-year"
    title = "Дата вне учебного года"


@dataclass
class Written:
    """What a write answers: the record as it now stands and the log position."""

    student_id: str
    record: Any
    position: int


@dataclass
class JournalView:
    student_id: str
    year_id: str
    marks: list[Mark] = field(default_factory=list)
    absences: list[Absence] = field(default_factory=list)


class EJournal(Application[UUID]):
    name = "ejournal"
    snapshotting_intervals = {StudentJournal: 100, AcademicYear: 200}  # noqa: RUF012

    def __init__(
        self,
        env: dict[str, str],
        *,
        db: Database,
        clock: Clock | None = None,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        super().__init__(env=env)
        self.db = db
        self.clock = clock or SystemClock()
        self.new_id = new_id
        self._stripes = [threading.Lock() for _ in range(64)]
        self._references: OrderedDict[UUID, Any] = OrderedDict()
        self._references_lock = threading.Lock()
        create_tables(db)
        self.locator = RecordLocator()
        self.indexes = ProjectionRunner(self, db, [self.locator])

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # --- loading ------------------------------------------------------------------------

    def _get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """A private copy for changing (the library deep-copies from its cache)."""
        try:
            aggregate: Any = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        assert isinstance(aggregate, kind)
        return aggregate

    def _reference(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """A shared read-only copy of reference data: copy-on-write, never changed in place.

        Each call asks the store only for events newer than the cached version, so a
        re-imported roster is seen at once without deep-copying the year on every request.
        """
        cached = self._references.get(aggregate_id)
        if cached is None:
            aggregate = self._get(aggregate_id, kind)
            if aggregate is None:
                return None
        else:
            news: list[Any] = list(self.events.get(aggregate_id, gt=cached.version))
            if not news:
                assert isinstance(cached, kind)
                return cached
            aggregate = copy.deepcopy(cached)
            for event in news:
                aggregate = event.mutate(aggregate)
        with self._references_lock:
            self._references[aggregate_id] = aggregate
            if len(self._references) > REFERENCE_CACHE_SIZE:
                self._references.popitem(last=False)
        assert isinstance(aggregate, kind)
        return aggregate

    def organisation(self, org_id: str, *, for_update: bool = False) -> Organisation | None:
        load = self._get if for_update else self._reference
        return load(ids.organisation_id(org_id), Organisation)

    def year(self, org_id: str, year_id: str, *, for_update: bool = False) -> AcademicYear:
        load = self._get if for_update else self._reference
        year = load(ids.academic_year_id(org_id, year_id), AcademicYear)
        if year is None:
            raise RecordNotFound(f"Учебный год «{year_id}» не найден", field="year_id")
        return year

    def person(self, org_id: str, person: str, *, for_update: bool = False) -> Person | None:
        load = self._get if for_update else self._reference
        return load(ids.person_id(org_id, person), Person)

    def years(self, org_id: str) -> list[AcademicYear]:
        org = self.organisation(org_id)
        return [self.year(org_id, y) for y in (org.years if org else [])]

    def year_of_date(self, org_id: str, day: date) -> AcademicYear:
        for year in self.years(org_id):
            if year.starts_on <= day <= year.ends_on:
                return year
        raise OutsideAcademicYear(
            f"Дата {day.isoformat()} не входит ни в один учебный год организации",
            field="lesson_date",
        )

    def current_year(self, org_id: str, today: date) -> AcademicYear:
        years = self.years(org_id)
        if not years:
            raise RecordNotFound("У организации нет учебных годов")
        for year in years:
            if year.starts_on <= today <= year.ends_on:
                return year
        return max(years, key=lambda y: y.starts_on)

    # --- writing the journal ------------------------------------------------------------

    def _change_journal(
        self,
        org_id: str,
        year_id: str,
        student_id: str,
        actor: Actor,
        command: Callable[[StudentJournal], None],
    ) -> tuple[StudentJournal, int]:
        """Load (or open) the journal, run the command, save; retry on a concurrent change."""
        journal_uuid = ids.journal_id(org_id, year_id, student_id)
        # Writers in this process queue per journal; other processes are met by the
        # optimistic check, and the loser re-reads and retries after a short random pause.
        stripe = self._stripe(journal_uuid)
        for attempt in range(MAX_ATTEMPTS):
            with stripe:
                # The cached object itself (no deep copy): this lock keeps others off it,
                # and a change that fails to save is evicted so the cache never lies.
                journal = self._cached_journal(journal_uuid)
                if journal is None:
                    journal = StudentJournal.open(
                        org_id=org_id,
                        year_id=year_id,
                        student_id=student_id,
                        actor=actor,
                        at=self.clock.now(),
                    )
                recordings = None
                try:
                    command(journal)
                    recordings = self.save(journal)
                except IntegrityError:
                    self._evict(journal_uuid)
                except BaseException:
                    if journal.pending_events:
                        self._evict(journal_uuid)
                    raise
            if recordings is not None:
                self.indexes.catch_up(self.locator.name)
                return _read_copy(journal), int(recordings[-1].notification.id)
            time.sleep(random.uniform(0, 0.005 * 2**attempt))
        raise Conflict("Журнал одновременно изменяли другие; повторите попытку")

    def _stripe(self, journal_uuid: UUID) -> threading.Lock:
        return self._stripes[journal_uuid.int % len(self._stripes)]

    def _cached_journal(self, journal_uuid: UUID) -> StudentJournal | None:
        try:
            journal: Any = self.repository.get(journal_uuid, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            return None
        assert isinstance(journal, StudentJournal)
        return journal

    def _evict(self, journal_uuid: UUID) -> None:
        if self.repository.cache is not None:
            with contextlib.suppress(KeyError):
                self.repository.cache.get(journal_uuid, evict=True)

    def read_journal(self, journal_uuid: UUID) -> StudentJournal | None:
        """A consistent copy of the journal as it is now, for reading."""
        with self._stripe(journal_uuid):
            journal = self._cached_journal(journal_uuid)
            return _read_copy(journal) if journal is not None else None

    def _located(self, record_id: str, kind: str, actor: Actor) -> StudentJournal:
        with self.db.read() as cur:
            journal_uuid = RecordLocator.find(cur, record_id, kind)
        journal = self.read_journal(UUID(journal_uuid)) if journal_uuid else None
        if journal is None or journal.org_id != actor.org_id:
            raise RecordNotFound("Запись не найдена")
        return journal

    def record_mark(
        self,
        actor: Actor,
        *,
        student_id: str,
        subject_id: str,
        lesson_date: date,
        work_kind: str,
        value: int,
        lesson_no: int | None = None,
        comment: str | None = None,
        reason: str | None = None,
    ) -> Written:
        year = self.year_of_date(actor.org_id, lesson_date)
        role = authorise_journal_write(
            actor, year, student_id, subject_id, lesson_date, is_mark=True
        )
        acting = Actor(actor.id, role, actor.org_id, actor.roles)
        mark_id = self.new_id()

        def command(journal: StudentJournal) -> None:
            journal.record_mark(
                mark_id=mark_id,
                subject_id=subject_id,
                lesson_date=lesson_date,
                work_kind=work_kind,
                value=value,
                rules=year.rules,
                actor=acting,
                at=self.clock.now(),
                lesson_no=lesson_no,
                comment=comment,
                reason=reason,
            )

        journal, position = self._change_journal(
            actor.org_id, year.year_id, student_id, acting, command
        )
        return Written(student_id, journal.marks[mark_id], position)

    def _change_mark(
        self, actor: Actor, mark_id: str, change: Callable[[StudentJournal, Actor, Any], None]
    ) -> Written:
        located = self._located(mark_id, "mark", actor)
        year = self.year(located.org_id, located.year_id)
        mark = located.mark(mark_id)
        role = authorise_journal_write(
            actor, year, located.student_id, mark.subject_id, mark.lesson_date, is_mark=True
        )
        acting = Actor(actor.id, role, actor.org_id, actor.roles)
        journal, position = self._change_journal(
            located.org_id,
            located.year_id,
            located.student_id,
            acting,
            lambda j: change(j, acting, year),
        )
        return Written(journal.student_id, journal.marks[mark_id], position)

    def correct_mark(self, actor: Actor, mark_id: str, *, value: int, reason: str) -> Written:
        return self._change_mark(
            actor,
            mark_id,
            lambda j, a, year: j.correct_mark(
                mark_id=mark_id,
                value=value,
                reason=reason,
                rules=year.rules,
                actor=a,
                at=self.clock.now(),
            ),
        )

    def cancel_mark(self, actor: Actor, mark_id: str, *, reason: str) -> Written:
        return self._change_mark(
            actor,
            mark_id,
            lambda j, a, year: j.cancel_mark(
                mark_id=mark_id, reason=reason, actor=a, at=self.clock.now()
            ),
        )

    def record_absence(
        self,
        actor: Actor,
        *,
        student_id: str,
        subject_id: str,
        lesson_date: date,
        code: str,
        lesson_no: int | None = None,
        reason: str | None = None,
    ) -> Written:
        year = self.year_of_date(actor.org_id, lesson_date)
        role = authorise_journal_write(
            actor, year, student_id, subject_id, lesson_date, is_mark=False
        )
        acting = Actor(actor.id, role, actor.org_id, actor.roles)
        absence_id = self.new_id()

        def command(journal: StudentJournal) -> None:
            journal.record_absence(
                absence_id=absence_id,
                subject_id=subject_id,
                lesson_date=lesson_date,
                code=code,
                actor=acting,
                at=self.clock.now(),
                lesson_no=lesson_no,
                reason=reason,
                source="teacher",
            )

        journal, position = self._change_journal(
            actor.org_id, year.year_id, student_id, acting, command
        )
        return Written(student_id, journal.absences[absence_id], position)

    # --- reading ------------------------------------------------------------------------

    def _children(self, actor: Actor) -> list[str]:
        if not actor.has(Role.PARENT):
            return []
        parent = self.person(actor.org_id, actor.id)
        return list(parent.children) if parent else []

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
        today = self.clock.now().date()
        if year_id:
            try:
                year = self.year(actor.org_id, year_id)
            except RecordNotFound:
                raise RecordNotFound("Журнал не найден") from None
        else:
            year = self.current_year(actor.org_id, today)
        subjects = visible_subjects(actor, year, student_id, self._children(actor))
        if not year.ever_in_year(student_id):
            raise RecordNotFound("Журнал не найден")
        view = JournalView(student_id, year.year_id)
        journal = self.journal_as_of(ids.journal_id(actor.org_id, year.year_id, student_id), as_of)
        if journal is not None:
            view.marks = [
                m for m in journal.marks.values() if subjects is None or m.subject_id in subjects
            ]
            view.absences = [
                a for a in journal.absences.values() if subjects is None or a.subject_id in subjects
            ]
        return view

    def mark_history(self, actor: Actor, mark_id: str) -> Mark:
        journal = self._located(mark_id, "mark", actor)
        year = self.year(journal.org_id, journal.year_id)
        mark = journal.mark(mark_id)
        subjects = visible_subjects(actor, year, journal.student_id, self._children(actor))
        if subjects is not None and mark.subject_id not in subjects:
            raise Forbidden("Нет доступа к этому предмету")
        return mark

    def require_org_member(self, actor: Actor, org_id: str) -> None:
        if actor.org_id != org_id and actor.role != Role.SYSTEM:
            raise Forbidden("Нет доступа к данным другой организации")


def _read_copy(journal: StudentJournal) -> StudentJournal:
    """A copy that later changes to the cached journal cannot reach (marks and absences)."""
    clone = copy.copy(journal)
    clone.marks = {
        k: dataclasses.replace(m, versions=list(m.versions)) for k, m in journal.marks.items()
    }
    clone.absences = {k: copy.copy(a) for k, a in journal.absences.items()}
    return clone
