"""What every use case needs: loading aggregates, the school's day, saving with retries."""

from __future__ import annotations

import contextlib
import copy
import random
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from adapters.archive import Archives, SigningKey
from adapters.clock import Clock, SystemClock
from adapters.projection_runner import ProjectionRunner
from adapters.recorders import (
    REFERENCE_CHANGES,
    IdempotencyClaim,
    Inline,
    InlineWriter,
    PostgresJournalRecorder,
    SQLiteJournalRecorder,
    recorder_topic,
)
from adapters.sql import Database
from adapters.tables import create_tables
from adapters.transcodings import DateAsISO, JournalTranscoder
from domain import ids
from domain.actors import Actor, Role
from domain.base import Audited
from domain.errors import OutsideAcademicYear, RecordNotFound, RuleViolation
from domain.journal import StudentJournal
from domain.lessons import SubjectPage
from domain.reference import AcademicYear, Organisation, Person
from projections.audit import AuditTrail
from projections.chain import HashChain
from projections.delegations import Delegations
from projections.facts import JournalFacts
from projections.locator import RecordLocator

A = TypeVar("A", bound=Audited)

# The current request's Idempotency-Key (set by the API), stored with its first events.
idempotency_claim: ContextVar[IdempotencyClaim | None] = ContextVar(
    "idempotency_claim", default=None
)

MAX_ATTEMPTS = 8
REFERENCE_CACHE_SIZE = 10_000
# How stale another process's change to a roster, year or lesson may look here (seconds).
REFERENCE_CHECK_SECONDS = 0.05


class Conflict(RuleViolation):
    code = "conflict"
    title = "Конфликт одновременных изменений"


@dataclass
class Written:
    """What a write answers: the record as it now stands and the log position."""

    student_id: str
    record: Any
    position: int


class JournalCore(Application[UUID]):
    name = "ejournal"
    # How long a read with `min_position` waits for the read models (API.md: ≤ 2 s).
    read_wait_seconds: float = 2.0
    # No snapshots: aggregate state (dataclasses, tuple keys, sets) is not JSON as it stands,
    # and a student-year stream is short (hundreds of events, replayed in tens of ms on a
    # cache miss). See ADR 0002.

    def __init__(
        self,
        env: dict[str, str],
        *,
        db: Database,
        clock: Clock | None = None,
        zone: ZoneInfo | None = None,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        signing_key: SigningKey | None = None,
    ) -> None:
        module = env.get("PERSISTENCE_MODULE", "")
        if module.endswith(("sqlite", "postgres")):
            env = {"APPLICATION_RECORDER_TOPIC": recorder_topic(module), **env}
        super().__init__(env=env)
        self.signing_key = signing_key or SigningKey(Path("var/keys/archive-signing-key.pem"))
        self.db = db
        self.clock = clock or SystemClock()
        self.zone = zone or ZoneInfo("Asia/Yekaterinburg")
        self.new_id = new_id
        self._stripes = [threading.Lock() for _ in range(64)]
        # id -> (aggregate, the reference generation it was known current at)
        self._references: OrderedDict[UUID, tuple[Any, int]] = OrderedDict()
        self._generation = 0
        self._generation_read_at = -1.0
        self._references_lock = threading.Lock()
        create_tables(db)
        self.archives = Archives(db)
        self.locator = RecordLocator()
        self.chain = HashChain(self.unwrap_state)
        delegations = Delegations()
        # Written in the transaction that stores the events (ADR 13); the runner only
        # backfills a store written before that, and rebuilds on request.
        self.indexes = ProjectionRunner(self, db, [self.locator, delegations, self.chain])
        if isinstance(self.recorder, SQLiteJournalRecorder | PostgresJournalRecorder):
            self.recorder.writer = InlineWriter(
                self.chain, [self.locator, delegations], self.mapper.to_domain_event
            )
        self.indexes.catch_up()
        with db.transaction() as cur:
            cur.execute(
                "INSERT INTO projection_positions (name, position) VALUES (?, 0) "
                "ON CONFLICT (name) DO NOTHING",
                (REFERENCE_CHANGES,),
            )
        # Reports' read models: followed in the background, or by `ejournal projections run`.
        self.read_models = ProjectionRunner(self, db, [JournalFacts(), AuditTrail()])
        self.written: Callable[[], None] = lambda: None

    def unwrap_state(self, state: bytes) -> bytes:
        """A stored event's JSON as the library wrote it: decrypted and decompressed."""
        if self.mapper.cipher:
            state = self.mapper.cipher.decrypt(state)
        if self.mapper.compressor:
            state = self.mapper.compressor.decompress(state)
        return state

    def construct_transcoder(self) -> JSONTranscoder:
        transcoder = JournalTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def _record(self, processing_event: Any) -> Any:
        """Hand the recorder the domain events (for the inline indexes) and the request's
        idempotency key, so both commit with the events."""
        processing_event.saved_kwargs["inline"] = Inline(
            list(processing_event.events), claim=idempotency_claim.get()
        )
        recordings = super()._record(processing_event)
        changed = [i for i, a in processing_event.aggregates.items() if not _is_journal(a)]
        if changed:  # seen at once by this process
            with self._references_lock:
                for aggregate_id in changed:
                    self._references.pop(aggregate_id, None)
            self._generation_read_at = -1.0
        return recordings

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
        """A shared read-only copy: copy-on-write, never changed in place.

        Reference aggregates (organisation, year, people, subject pages) change rarely. Every
        save that changes one moves the store's `reference_changes` mark in the same
        transaction; a cached copy checked at or after that mark is current and costs no
        query. Otherwise the store is asked only for events newer than the cached version."""
        generation = self._reference_generation()
        entry = self._references.get(aggregate_id)
        if entry is not None and entry[1] >= generation:
            cached: Any = entry[0]
            assert isinstance(cached, kind)
            return cached
        if entry is None:
            with self._stripe(aggregate_id):
                aggregate = self._get(aggregate_id, kind)
            if aggregate is None:
                return None
        else:
            news: list[Any] = list(self.events.get(aggregate_id, gt=entry[0].version))
            aggregate = entry[0]
            if news:
                aggregate = copy.deepcopy(aggregate)
                for event in news:
                    aggregate = event.mutate(aggregate)
        with self._references_lock:
            self._references[aggregate_id] = (aggregate, generation)
            if len(self._references) > REFERENCE_CACHE_SIZE:
                self._references.popitem(last=False)
        assert isinstance(aggregate, kind)
        return aggregate

    def _reference_generation(self) -> int:
        """The log position of the last change to any reference aggregate, as stored; read
        at most every REFERENCE_CHECK_SECONDS (changes made by this process count at once)."""
        now = time.monotonic()
        if now - self._generation_read_at > REFERENCE_CHECK_SECONDS:
            with self.db.read() as cur:
                cur.execute(
                    "SELECT position FROM projection_positions WHERE name = ?",
                    (REFERENCE_CHANGES,),
                )
                row = cur.fetchone()
            self._generation = int(row[0]) if row else 0
            self._generation_read_at = now
        return self._generation

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

    def page(self, org_id: str, year_id: str, group_id: str, subject_id: str) -> SubjectPage | None:
        return self._reference(
            ids.subject_page_id(org_id, year_id, group_id, subject_id), SubjectPage
        )

    def years(self, org_id: str) -> list[AcademicYear]:
        org = self.organisation(org_id)
        return [self.year(org_id, y) for y in (org.years if org else [])]

    def year_of_date(self, org_id: str, day: date, field: str = "lesson_date") -> AcademicYear:
        for year in self.years(org_id):
            if year.starts_on <= day <= year.ends_on:
                return year
        raise OutsideAcademicYear(
            f"Дата {day.isoformat()} не входит ни в один учебный год организации", field=field
        )

    def current_year(self, org_id: str) -> AcademicYear:
        """The year containing the school's today, else the latest one."""
        years = self.years(org_id)
        if not years:
            raise RecordNotFound("У организации нет учебных годов")
        today = self.today(org_id)
        for year in years:
            if year.starts_on <= today <= year.ends_on:
                return year
        return max(years, key=lambda y: y.starts_on)

    def year_or_current(self, org_id: str, year_id: str | None) -> AcademicYear:
        return self.year(org_id, year_id) if year_id else self.current_year(org_id)

    def zone_of(self, org_id: str) -> ZoneInfo:
        """The organisation's time zone: the roster's, else the deployment's default."""
        org = self.organisation(org_id)
        return ZoneInfo(org.timezone) if org is not None and org.timezone else self.zone

    def today(self, org_id: str) -> date:
        """The organisation's date now: the school's day, not the server's."""
        return self.clock.now().astimezone(self.zone_of(org_id)).date()

    def children(self, actor: Actor) -> list[str]:
        """Students whose data the actor reads as a parent: their own children, and those a
        parent delegated to them as a trusted person (unexpired, not revoked)."""
        own: list[str] = []
        if actor.has(Role.PARENT):
            parent = self.person(actor.org_id, actor.id)
            own = list(parent.children) if parent else []
        with self.db.read() as cur:
            grants = Delegations.delegated_children(cur, actor.org_id, actor.id, self.clock.now())
        trusted: set[str] = set()
        for parent_id, children in grants:
            # A delegation never reaches further than the parent's own access today.
            parent = self.person(actor.org_id, parent_id)
            if parent is not None and parent.active:
                trusted |= set(children) & set(parent.children)
        return sorted(set(own) | trusted)

    # --- changing -----------------------------------------------------------------------

    def _stripe(self, aggregate_id: UUID) -> threading.Lock:
        return self._stripes[aggregate_id.int % len(self._stripes)]

    def _cached(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """The cached aggregate itself, brought up to date with the store: one cheap query for
        events another process wrote (a conflict would cost a whole replay)."""
        try:
            aggregate: Any = self.repository.get(aggregate_id, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            return None
        assert isinstance(aggregate, kind)
        return aggregate

    def _cached_many(self, aggregate_ids: list[UUID]) -> dict[UUID, StudentJournal]:
        """Several cached journals brought up to date with one query for all of them (the
        caller holds their stripes); those not cached are loaded one by one."""
        cache = self.repository.cache
        found: dict[UUID, Any] = {}
        missing: list[UUID] = []
        for aggregate_id in aggregate_ids:
            try:
                found[aggregate_id] = cache.get(aggregate_id) if cache is not None else None
            except KeyError:
                missing.append(aggregate_id)
        found = {k: v for k, v in found.items() if isinstance(v, StudentJournal)}
        select_after = getattr(self.recorder, "select_after", None)
        if select_after is None:
            missing += list(found)
            found = {}
        else:
            for stored in select_after([(k, v.version) for k, v in found.items()]):
                event: Any = self.mapper.to_domain_event(stored)
                found[stored.originator_id] = event.mutate(found[stored.originator_id])
        for aggregate_id in missing:
            journal = self._cached(aggregate_id, StudentJournal)
            if journal is not None:
                found[aggregate_id] = journal
        return found

    def _evict(self, aggregate_id: UUID) -> None:
        if self.repository.cache is not None:
            with contextlib.suppress(KeyError):
                self.repository.cache.get(aggregate_id, evict=True)

    def change(
        self,
        aggregate_id: UUID,
        kind: type[A],
        create: Callable[[], A] | None,
        command: Callable[[A], None],
    ) -> tuple[A, int]:
        """Load (or create) an aggregate, run the command, save; retry on a concurrent change."""

        def load() -> dict[UUID, Any]:
            aggregate = self._cached(aggregate_id, kind)
            if aggregate is None:
                if create is None:
                    raise RecordNotFound("Запись не найдена")
                aggregate = create()
            return {aggregate_id: aggregate}

        copies, position = self._save_with_retries(
            [aggregate_id], load, lambda found: command(found[aggregate_id])
        )
        return copies[aggregate_id], position

    def change_journals(
        self,
        org_id: str,
        year_id: str,
        student_ids: list[str],
        actor: Actor,
        command: Callable[[dict[str, StudentJournal]], None],
    ) -> tuple[dict[str, StudentJournal], int]:
        """Several students' journals changed by one command and saved in one transaction
        (all or nothing), with the same queueing, eviction and retries as `change`."""
        uuids = {s: ids.journal_id(org_id, year_id, s) for s in sorted(set(student_ids))}

        def load() -> dict[UUID, Any]:
            found: dict[UUID, Any] = self._cached_many(list(uuids.values()))
            for student_id, uuid_ in uuids.items():
                if uuid_ not in found:
                    found[uuid_] = StudentJournal.open(
                        org_id=org_id,
                        year_id=year_id,
                        student_id=student_id,
                        actor=actor,
                        at=self.clock.now(),
                    )
            return found

        copies, position = self._save_with_retries(
            list(uuids.values()),
            load,
            lambda found: command({s: found[u] for s, u in uuids.items()}),
        )
        return {s: copies[u] for s, u in uuids.items()}, position

    def _save_with_retries(
        self,
        aggregate_ids: list[UUID],
        load: Callable[[], dict[UUID, Any]],
        command: Callable[[dict[UUID, Any]], None],
    ) -> tuple[dict[UUID, Any], int]:
        """The write loop every change goes through: hold the aggregates' stripes (in one
        global order, so two writers never wait for each other in a cycle), load, run the
        command, save all in one transaction; on a concurrent change evict and retry.

        Writers in this process work on the cached objects themselves (no deep copy); a change
        that fails to save is evicted so the cache never lies. Other processes are met by the
        optimistic check: the loser re-reads and retries."""
        stripes = sorted({id(self._stripe(u)): self._stripe(u) for u in aggregate_ids}.items())
        for attempt in range(MAX_ATTEMPTS):
            with contextlib.ExitStack() as held:
                for _, stripe in stripes:
                    held.enter_context(stripe)
                found = load()
                before = {u: a.version for u, a in found.items()}
                try:
                    command(found)
                    recordings = self.save(*found.values())
                except IntegrityError:
                    recordings = None
                    for aggregate_id in found:
                        self._evict(aggregate_id)
                except BaseException:
                    # The library empties pending events before it writes, so a failed save
                    # shows only as a version moved on: drop that copy, the next write
                    # starts from what is stored.
                    for aggregate_id, aggregate in found.items():
                        if aggregate.version != before[aggregate_id]:
                            self._evict(aggregate_id)
                    raise
                if recordings is not None:
                    copies = {u: read_copy(a) for u, a in found.items()}
            if recordings is not None:
                self.written()
                if not recordings:  # nothing changed: answer the log position as it is
                    return copies, int(self.recorder.max_notification_id() or 0)
                return copies, int(recordings[-1].notification.id)
            time.sleep(random.uniform(0, 0.005 * 2**attempt))
        raise Conflict("Запись одновременно изменяли другие; повторите попытку")

    def change_journal(
        self,
        org_id: str,
        year_id: str,
        student_id: str,
        actor: Actor,
        command: Callable[[StudentJournal], None],
    ) -> tuple[StudentJournal, int]:
        def create() -> StudentJournal:
            return StudentJournal.open(
                org_id=org_id,
                year_id=year_id,
                student_id=student_id,
                actor=actor,
                at=self.clock.now(),
            )

        return self.change(
            ids.journal_id(org_id, year_id, student_id), StudentJournal, create, command
        )

    def read(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """A consistent copy of an aggregate as it is now, for reading."""
        with self._stripe(aggregate_id):
            aggregate = self._cached(aggregate_id, kind)
            return read_copy(aggregate) if aggregate is not None else None

    def read_journal(self, journal_uuid: UUID) -> StudentJournal | None:
        return self.read(journal_uuid, StudentJournal)

    def locate(self, record_id: str, kind: str, actor: Actor) -> UUID:
        """The stream holding a record, within the actor's organisation, or not found."""
        with self.db.read() as cur:
            stream = RecordLocator.find(cur, record_id, kind)
        if stream is None:
            raise RecordNotFound("Запись не найдена")
        return UUID(stream)

    def located_journal(self, record_id: str, kind: str, actor: Actor) -> StudentJournal:
        journal = self.read_journal(self.locate(record_id, kind, actor))
        if journal is None or journal.org_id != actor.org_id:
            raise RecordNotFound("Запись не найдена")
        return journal


def _is_journal(aggregate: Any) -> bool:
    return isinstance(aggregate, StudentJournal)


def read_copy(aggregate: A) -> A:
    """A copy that later changes to the cached aggregate cannot reach."""
    clone = copy.copy(aggregate)
    if isinstance(aggregate, StudentJournal):
        assert isinstance(clone, StudentJournal)
        # Records are replaced on change, never changed in place (domain/journal.py), so
        # copying the containers is enough.
        clone.marks = dict(aggregate.marks)
        clone.absences = dict(aggregate.absences)
        clone.attestations = dict(aggregate.attestations)
        clone.notices = dict(aggregate.notices)
        clone.acknowledgements = list(aggregate.acknowledgements)
    elif isinstance(aggregate, SubjectPage):
        assert isinstance(clone, SubjectPage)
        clone.lessons = {k: copy.copy(v) for k, v in aggregate.lessons.items()}
    else:
        clone = copy.deepcopy(aggregate)
    return clone
