"""What every use case needs: loading aggregates, the school's day, saving with retries."""

from __future__ import annotations

import contextlib
import contextvars
import copy
import functools
import random
import sqlite3
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
import structlog
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, PersistenceError
from greenlet import getcurrent, greenlet

from adapters.accounts import Accounts, SessionEnded, SessionGuard, session_guard
from adapters.archive import Archives, SigningKey
from adapters.clock import Clock, SystemClock
from adapters.projection_runner import ProjectionRunner
from adapters.random_ids import random_uuid
from adapters.recorders import (
    REFERENCE_CHANGES,
    IdempotencyClaim,
    Inline,
    InlineWriter,
    KeyAlreadyUsed,
    PostgresJournalRecorder,
    SQLiteJournalRecorder,
    recorder_topic,
)
from adapters.sql import Database
from adapters.storage import STORE_BUSY
from adapters.store_waits import budget_from, started_at
from adapters.tables import create_tables
from adapters.transcodings import DateAsISO, JournalTranscoder
from domain import ids
from domain.actors import Actor, Role
from domain.base import Audited
from domain.errors import OutsideAcademicYear, RecordNotFound, RuleViolation
from domain.ids import journal_of_record, journal_record_id
from domain.journal import StudentJournal
from domain.lessons import SubjectPage
from domain.reference import AcademicYear, Organisation, Person
from projections.audit import AuditTrail
from projections.chain import HashChain
from projections.delegations import Delegations
from projections.facts import JournalFacts
from projections.locator import RecordLocator

A = TypeVar("A", bound=Audited)
R = TypeVar("R")
# Failures of the store: they end a group commit's transaction, so every change in it fails.
STORE_ERRORS = (PersistenceError, psycopg.Error, sqlite3.Error)

# The current request's Idempotency-Key (set by the API), stored with its first events.
idempotency_claim: ContextVar[IdempotencyClaim | None] = ContextVar(
    "idempotency_claim", default=None
)

MAX_ATTEMPTS = 8
# Inside a group commit: its aggregates as brought up to date for it (None: not stored).
_group_view: ContextVar[dict[UUID, Any] | None] = ContextVar("group_view", default=None)
# Changes of one process committed together at most (group commit, ADR 17).
MAX_GROUP = 64
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
        new_id: Callable[[], str] = lambda: str(random_uuid()),
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
        self._stripes = [FairLock() for _ in range(1024)]
        # Group commit (ADR 17): changes waiting for the next transaction, and the lock its
        # leader holds while it runs them.
        self._waiting: list[_Change] = []
        self._waiting_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self.committer = Committer(self)
        self._accounts = Accounts(db)
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

    def close(self) -> None:
        self.committer.stop()
        super().close()

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

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """The library's `save`, collecting with `_Collected`."""
        processing_event = _Collected()
        processing_event.collect_events(*objs, **kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # deprecated in the library, still called there
        return recordings

    def _record(self, processing_event: Any) -> Any:
        """Hand the recorder the domain events (for the inline indexes) and the request's
        idempotency key, so both commit with the events."""
        events = list(processing_event.events)
        claims = processing_event.saved_kwargs.pop("claims", None)
        if claims is None:
            claim = idempotency_claim.get()
            claims = [(claim, list(range(len(events))))] if claim is not None and events else []
        processing_event.saved_kwargs["inline"] = Inline(events, claims=claims)
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
            aggregate: Any = self.repository.get(aggregate_id, projector_func=mutate_all)
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
            with self.db.lookup() as cur:
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

    def _stripe(self, aggregate_id: UUID) -> FairLock:
        return self._stripes[aggregate_id.int % len(self._stripes)]

    def _cached(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """The cached aggregate itself, brought up to date with the store: one cheap query for
        events another process wrote (a conflict would cost a whole replay)."""
        aggregate = self._cached_many([aggregate_id]).get(aggregate_id)
        if aggregate is None:
            return None
        assert isinstance(aggregate, kind)
        return aggregate

    def _cached_many(self, aggregate_ids: list[UUID]) -> dict[UUID, Any]:
        """Cached aggregates brought up to date with one query for all of them (the caller
        holds their stripes; inside a write unit the query runs in its transaction); those
        not cached are replayed one by one. Ids with no stored events are left out."""
        view = _group_view.get()
        if view is not None and all(u in view for u in aggregate_ids):
            return {u: view[u] for u in aggregate_ids if view[u] is not None}
        cache = self.repository.cache
        select_after = getattr(self.recorder, "select_after", None)
        found: dict[UUID, Any] = {}
        missing: list[UUID] = []
        for aggregate_id in aggregate_ids:
            try:
                if cache is None or select_after is None:
                    raise KeyError(aggregate_id)
                found[aggregate_id] = cache.get(aggregate_id)
            except KeyError:
                missing.append(aggregate_id)
        if found:
            assert select_after is not None
            for stored in select_after([(k, v.version) for k, v in found.items()]):
                event: Any = self.mapper.to_domain_event(stored)
                found[stored.originator_id] = event.mutate(found[stored.originator_id])
        for aggregate_id in missing:
            try:
                found[aggregate_id] = self.repository.get(
                    aggregate_id, deepcopy_from_cache=False, projector_func=mutate_all
                )
            except AggregateNotFoundError:
                continue
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
        copies, position = self._save_with_retries(
            [aggregate_id],
            self._loader(aggregate_id, kind, create),
            lambda found: command(found[aggregate_id]),
        )
        return copies[aggregate_id], position

    def _loader(
        self, aggregate_id: UUID, kind: type[A], create: Callable[[], A] | None
    ) -> Callable[[], dict[UUID, Any]]:
        def load() -> dict[UUID, Any]:
            aggregate = self._cached(aggregate_id, kind)
            if aggregate is None:
                if create is None:
                    raise RecordNotFound("Запись не найдена")
                aggregate = create()
            return {aggregate_id: aggregate}

        return load

    def change_journals(
        self,
        org_id: str,
        year_id: str,
        student_ids: list[str],
        actor: Actor,
        command: Callable[[dict[str, StudentJournal]], None],
        pick: Callable[[dict[str, StudentJournal]], Any] | None = None,
    ) -> tuple[Any, int]:
        """Several students' journals changed by one command and saved in one transaction
        (all or nothing), with the same queueing and retries as `change`. Answers with a
        copy of each journal, or with `pick(journals)` taken right after the command."""
        uuids = {s: ids.journal_id(org_id, year_id, s) for s in sorted(set(student_ids))}

        def load() -> dict[UUID, Any]:
            found: dict[UUID, Any] = self._cached_many(list(uuids.values()))
            for student_id, uuid_ in uuids.items():
                if uuid_ not in found:
                    found[uuid_] = self._opener(org_id, year_id, student_id, actor)()
            return found

        def by_student(found: dict[UUID, Any]) -> dict[str, Any]:
            return {s: found[u] for s, u in uuids.items()}

        answer, position = self._save_with_retries(
            list(uuids.values()),
            load,
            lambda found: command(by_student(found)),
            (lambda found: pick(by_student(found))) if pick is not None else None,
        )
        return (answer if pick is not None else by_student(answer)), position

    def _save_with_retries(
        self,
        aggregate_ids: list[UUID],
        load: Callable[[], dict[UUID, Any]],
        command: Callable[[dict[UUID, Any]], None],
        pick: Callable[[dict[UUID, Any]], Any] | None = None,
    ) -> tuple[Any, int]:
        """The write path every change goes through (ADR 13, ADR 17).

        The change waits for the next group commit, which runs every waiting change in one
        write unit (the streams' locks, their news, each command in arrival order, one save)
        and hands each its answer: on the committer thread, a call parks until its group has
        run (`Committer`); from a thread of its own, whichever waiting thread takes the
        commit lock runs the group (`_lead_or_wait`).
        Changes of one group may write the same aggregates: each sees those before it.
        Writers work on the cached objects themselves (no deep copy); a change that fails
        leaves them as it found them, so the cache never lies (`_Working`). The answer is
        a copy of each aggregate the change touched, or `pick(aggregates)` taken right after
        its command (immutable records: no copy needed)."""
        change = _Change(
            aggregate_ids, load, command, idempotency_claim.get(), session_guard.get(), pick
        )
        hub = self.committer.hub
        if hub is not None and getcurrent().parent is hub:  # a call the committer runs
            hub.switch(change)  # parked; back when its group has run the change
        else:
            self._lead_or_wait(change)
        if change.error is not None:
            raise change.error
        self.written()
        return change.copies, change.position

    def _lead_or_wait(self, change: _Change) -> None:
        """A change from a thread of its own: queued; whichever waiting thread takes the
        commit lock runs the group."""
        with self._waiting_lock:
            self._waiting.append(change)
        while not change.done:
            with self._commit_lock:
                if change.done:
                    break
                with self._waiting_lock:
                    group = self._waiting[:MAX_GROUP]
                    del self._waiting[:MAX_GROUP]
                try:
                    self._commit_group(group)
                except BaseException as error:
                    for other in group:
                        if not other.done:
                            other.fail(error if other is change else _own(error))

    def _commit_group(self, group: list[_Change]) -> None:
        """Run the changes of a group and save them in one transaction; a change whose load
        or command fails is undone and answered alone, the others go on. A concurrent change
        (a writer outside the locks) or a reused idempotency key rolls back the save, which
        is run again without what failed. The group holds its aggregates' stripes (in one
        global order): readers here wait for it, never see a change half made."""
        # Its waits for the store count from the earliest call's start: a store that is down
        # fails the group within the budget of the call that has waited longest.
        starts = [c.started for c in group if c.started is not None]
        with budget_from(min(starts) if starts else None):
            self._run_group(group)

    def _run_group(self, group: list[_Change]) -> None:
        # On PostgreSQL the group's sessions are read by its unit, with its news (one round
        # trip fewer); elsewhere by a lookup first.
        guards = self._unchecked(group)
        asking = bool(guards) and getattr(self.recorder, "asks", False)
        if guards and not asking:
            self._accounts.check_sessions(guards)
            self._end_sessions(group)
        for attempt in range(MAX_ATTEMPTS):
            live = [c for c in group if not c.done]
            if not live:
                return
            streams = sorted({u for c in live for u in c.aggregate_ids})
            stripes = sorted({id(self._stripe(u)): self._stripe(u) for u in streams}.items())
            with contextlib.ExitStack() as held:
                for _, stripe in stripes:
                    held.enter_context(stripe)
                work: _Working | None = None
                try:
                    with self._unit(streams, guards if asking else None) as bound:
                        # The group's aggregates brought up to date at once (one query),
                        # then each change loads from the group's working set.
                        fresh = self._cached_many(streams)
                        if asking:
                            self._accounts.settle_sessions(guards, bound.asked())
                            self._end_sessions(group)
                            asking = False
                            live = [c for c in live if not c.done]
                        work = _Working(self, fresh, streams)
                        ready = [c for c in live if work.run(c)]
                        aggregates, claims = work.to_save(ready)
                        recordings = self.save(*aggregates, claims=claims) if aggregates else []
                except IntegrityError:
                    if work is not None:
                        work.undo()
                    time.sleep(random.uniform(0, 0.005 * 2**attempt))
                    continue
                except KeyAlreadyUsed as used:
                    if work is not None:
                        work.undo()
                    for change in live:
                        if change.claim is used.claim:
                            change.fail(used)
                    continue
                except BaseException:
                    if work is not None:
                        work.undo()
                    raise
                ids = [int(r.notification.id) for r in recordings]
                head: int | None = None
                for change in ready:
                    if change.indices:
                        position = ids[max(change.indices)]
                    else:  # nothing changed: the log position as it is
                        if head is None:
                            head = int(self.recorder.max_notification_id() or 0)
                        position = head
                    change.answer(
                        work.copies(change) if change.pick is None else change.picked, position
                    )
                return
        for change in group:
            if not change.done:
                change.fail(Conflict("Запись одновременно изменяли другие; повторите попытку"))

    def _unit(self, streams: list[UUID], guards: list[SessionGuard] | None) -> Any:
        """The recorder's write unit for the streams (none on a store without one); `guards`:
        sessions it reads with its first round trip."""
        unit = getattr(self.recorder, "unit", None)
        if unit is None:
            return contextlib.nullcontext()
        if guards is None:
            return unit(streams)
        return unit(streams, (Accounts.SESSIONS_QUERY, Accounts.sessions_params(guards)))

    @staticmethod
    def _unchecked(group: list[_Change]) -> list[SessionGuard]:
        """The sessions of the group's changes not yet checked: all of them are read in one
        query (not one per request), and a change whose session has ended fails with nothing
        stored (`_end_sessions`)."""
        return [c.session for c in group if c.session is not None and c.session.valid is None]

    @staticmethod
    def _end_sessions(group: list[_Change]) -> None:
        for change in group:
            if change.session is not None and not change.session.valid and not change.done:
                change.fail(SessionEnded())

    def change_journal(
        self,
        org_id: str,
        year_id: str,
        student_id: str,
        actor: Actor,
        command: Callable[[StudentJournal], None],
    ) -> tuple[StudentJournal, int]:
        return self.change(
            ids.journal_id(org_id, year_id, student_id),
            StudentJournal,
            self._opener(org_id, year_id, student_id, actor),
            command,
        )

    def record_in_journal(
        self,
        org_id: str,
        year_id: str,
        student_id: str,
        actor: Actor,
        command: Callable[[StudentJournal], None],
        pick: Callable[[StudentJournal], R],
    ) -> tuple[R, int]:
        """`change_journal` answering with `pick(journal)` taken right after the command
        (an immutable record) instead of a copy of the whole journal."""
        journal_uuid = ids.journal_id(org_id, year_id, student_id)
        picked, position = self._save_with_retries(
            [journal_uuid],
            self._loader(
                journal_uuid, StudentJournal, self._opener(org_id, year_id, student_id, actor)
            ),
            lambda found: command(found[journal_uuid]),
            lambda found: pick(found[journal_uuid]),
        )
        return picked, position

    def _opener(
        self, org_id: str, year_id: str, student_id: str, actor: Actor
    ) -> Callable[[], StudentJournal]:
        """A student's journal opened on its first write."""
        return lambda: StudentJournal.open(
            org_id=org_id, year_id=year_id, student_id=student_id, actor=actor, at=self.clock.now()
        )

    def read(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """A consistent copy of an aggregate as it is now, for reading."""
        with self._stripe(aggregate_id):
            aggregate = self._cached(aggregate_id, kind)
            return read_copy(aggregate) if aggregate is not None else None

    def read_journal(self, journal_uuid: UUID) -> StudentJournal | None:
        return self.read(journal_uuid, StudentJournal)

    def new_record_id(self, kind: str, org_id: str, year_id: str, student_id: str) -> str:
        """A new mark's or absence's id, naming the student's journal (domain/ids.py)."""
        return journal_record_id(kind, ids.journal_id(org_id, year_id, student_id), random_uuid())

    def locate(self, record_id: str, kind: str, actor: Actor) -> UUID:
        """The stream holding a record, within the actor's organisation, or not found. An id
        that names its journal is not looked up (whether it holds the record is for the
        caller to see: `located_journal`)."""
        named = journal_of_record(record_id, kind)
        if named is not None:
            return named
        with self.db.read() as cur:
            stream = RecordLocator.find(cur, record_id, kind)
        if stream is None:
            raise RecordNotFound("Запись не найдена")
        return UUID(stream)

    def located_journal(self, record_id: str, kind: str, actor: Actor) -> StudentJournal:
        journal = self.read_journal(self.locate(record_id, kind, actor))
        if journal is None or journal.org_id != actor.org_id:
            raise RecordNotFound("Запись не найдена")
        # An id that names a journal without the record (made up, or not yet stored) is not
        # found before anything else is told (a closed year, say) — as an unknown id is.
        if journal_of_record(record_id, kind) is not None and not _holds(journal, record_id, kind):
            raise RecordNotFound("Запись не найдена")
        return journal


class FairLock:
    """A lock taken in the order it was asked for: a release hands it to the longest waiter.
    (`threading.Lock` promises no order: when requests held their journals' stripes while
    waiting for their save, a burst on one group left some waiting 4 s while later ones went
    first. Group leaders and readers take them now.)"""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by the holder handing the lock over

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # still held: by the next in line
            else:
                self._held = False

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


def _own(error: BaseException) -> BaseException:
    """A copy of a group's failure for another waiting request to raise in its thread."""
    try:
        clone = copy.copy(error)
    except Exception:
        return error
    return clone if isinstance(clone, BaseException) else error


_Done = Callable[[Any, BaseException | None], None]


@dataclass(frozen=True)
class LoopAnswer:
    """`done` for a call awaited on an event loop: `settle(result, error)` runs on that loop.
    The committer hands a group's answers to their loop together, one wake-up per loop
    instead of one per call."""

    loop: Any  # asyncio.AbstractEventLoop
    settle: _Done

    def __call__(self, result: Any, error: BaseException | None) -> None:
        self.loop.call_soon_threadsafe(self.settle, result, error)


def _settle_all(answers: list[tuple[_Done, Any, BaseException | None]]) -> None:
    for settle, result, error in answers:
        settle(result, error)


class Committer:
    """The thread that runs the busiest writes (`POST /marks`, `/entries`) whole, one per
    process (ADR 17, "One committer thread"). Each submitted call runs in a greenlet of its
    own on this thread until it asks to save (`_save_with_retries`), which parks it with its
    change; the changes parked meanwhile are run by one group commit, then each call resumes
    with its answer and ends (or parks again). `done(result, error)` is called on this thread.

    Before, each request waited in a thread of its own and whichever took the commit lock ran
    the group: every request cost two thread hand-overs and a wake-up, and up to sixteen
    threads fought over the interpreter lock with the event loop. Here the event loop awaits
    a future and only two threads run Python (measured: `/marks` +30–45% on PostgreSQL).

    A call runs to its save without a pause, so its own code must not wait for another call
    (no lock held across a save). What it reads from the store on the way (a reference not
    yet cached) is read on this thread: the calls behind it wait, as they would behind a
    group. Other writers (other routes, the command line) keep their own threads and the
    commit lock, which this thread takes for each of its groups too."""

    def __init__(self, core: JournalCore) -> None:
        self.core = core
        self.hub: Any = None  # this thread's main greenlet, once started
        self._inbox: deque[tuple[Callable[[], Any], contextvars.Context, _Done]] = deque()
        self._wake = threading.Event()
        self._start = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._answers: list[tuple[LoopAnswer, Any, BaseException | None]] = []

    def submit(self, work: Callable[[], Any], context: contextvars.Context, done: _Done) -> None:
        """Run `work()` in `context` on the committer thread, then `done(result, error)`."""
        self._inbox.append((work, context, done))
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="committer", daemon=True)
                    self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        """Stop after what was submitted has been answered."""
        self._stopping = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)

    def _run(self) -> None:
        self.hub = getcurrent()
        parked: list[tuple[Any, _Change, _Done]] = []
        while True:
            self._wake.wait()
            self._wake.clear()
            while self._inbox or parked:
                while self._inbox:
                    work, context, done = self._inbox.popleft()
                    task = greenlet(functools.partial(context.run, work))
                    self._step(task, done, parked)
                batch, parked[:] = parked[:MAX_GROUP], parked[MAX_GROUP:]
                self._send_answers()  # calls that ended before saving: not kept for the group
                if batch:
                    self._commit(batch, parked)
                    self._send_answers()
            if self._stopping:
                return

    def _commit(
        self, batch: list[tuple[Any, _Change, _Done]], parked: list[tuple[Any, _Change, _Done]]
    ) -> None:
        group = [change for _, change, _ in batch]
        failure: BaseException | None = None
        with self.core._commit_lock:
            try:
                self.core._commit_group(group)
            except BaseException as error:  # a store failure: every change of the group
                failure = error
                for change in group:
                    if not change.done:
                        change.fail(_own(error))
        for task, change, done in batch:
            if not change.done:  # (not expected: a group answers each of its changes)
                change.fail(Conflict("Запись не сохранена; повторите попытку"))
            self._step(task, done, parked)
        if isinstance(failure, STORE_BUSY):
            self._fail_waiting(failure, parked)

    def _fail_waiting(
        self, failure: BaseException, parked: list[tuple[Any, _Change, _Done]]
    ) -> None:
        """The store has just failed a group (busy, restarting, unreachable): the calls that
        waited meanwhile fail with it at once (`503 store-busy`, nothing stored), instead of
        each group of them waiting out the store's busy time again — a request's answer
        takes at most about one busy time, not one per group ahead of it. Calls submitted
        after this are tried as usual."""
        waiting, parked[:] = parked[:], []
        for _ in range(len(self._inbox)):  # submitted before the failure was known
            work, context, done = self._inbox.popleft()
            self._step(greenlet(functools.partial(context.run, work)), done, waiting)
        for task, change, done in waiting:
            change.fail(_own(failure))
            self._step(task, done, parked)  # a call that saves again parks for the next group

    def _send_answers(self) -> None:
        """The answers of the calls that ended, one hand-over per event loop."""
        answers, self._answers = self._answers, []
        by_loop: dict[Any, list[tuple[_Done, Any, BaseException | None]]] = {}
        for done, result, error in answers:
            by_loop.setdefault(done.loop, []).append((done.settle, result, error))
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle_all, settled)
            except Exception as e:  # e.g. its event loop is closed: the others go on
                structlog.get_logger("ejournal.write").error(
                    "committer.answer_failed", error=type(e).__name__
                )

    def _step(self, task: Any, done: _Done, parked: list[tuple[Any, _Change, _Done]]) -> None:
        """Run a call on to its next save (parked with its change) or to its end (answered)."""
        result: Any = None
        error: BaseException | None = None
        try:
            out = task.switch()
        except BaseException as raised:
            error = raised
        else:
            if not task.dead:
                if isinstance(out, _Change):
                    parked.append((task, out, done))
                    return
                error = RuntimeError(f"a committer call switched with {type(out).__name__}")
                # Ends it; the error it dies of is raised here, in its parent: kept, not raised.
                with contextlib.suppress(BaseException):
                    task.throw(error)
            result = out
        if isinstance(done, LoopAnswer):
            self._answers.append((done, result, error))  # sent with the others (`_send_answers`)
            return
        try:
            done(result, error)
        except Exception as e:  # e.g. its event loop is closed: the others go on
            structlog.get_logger("ejournal.write").error(
                "committer.answer_failed", error=type(e).__name__
            )


@dataclass(eq=False)
class _Change:
    """One request's change waiting for, and then run by, a group commit."""

    aggregate_ids: list[UUID]
    load: Callable[[], dict[UUID, Any]]
    command: Callable[[dict[UUID, Any]], None]
    claim: IdempotencyClaim | None
    session: SessionGuard | None = None
    # What the request answers with, taken from the aggregates right after its command
    # (immutable records); without it, the answer is a copy of each aggregate it touched.
    pick: Callable[[dict[UUID, Any]], Any] | None = None
    picked: Any = None
    # When its call's budget for waiting on the store began (`adapters.store_waits`).
    started: float | None = field(default_factory=started_at)
    done: bool = False
    error: BaseException | None = None
    copies: Any = None  # the copies of what it touched, or what `pick` took
    position: int = 0
    # While its group runs: the aggregates it loaded, the events it caused, and their
    # places among the events the group saves.
    touched: list[UUID] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)

    def fail(self, error: BaseException) -> None:
        self.error, self.done = error, True

    def answer(self, copies: Any, position: int) -> None:
        self.copies, self.position, self.done = copies, position, True


class _Working:
    """A group's aggregates while its changes run, in arrival order: the live object of each
    id (None: neither stored nor created yet) and which of them are stored (cached, changed
    in place). A change copies nothing ahead: an aggregate it had not changed when it failed
    is as it was; one it had changed is rebuilt (the stored events, then those of earlier
    changes of the group). A group that fails has its aggregates evicted, read as stored
    when next loaded."""

    def __init__(self, core: JournalCore, fresh: dict[UUID, Any], streams: list[UUID]) -> None:
        self.core = core
        self.live: dict[UUID, Any] = {u: fresh.get(u) for u in streams}
        self.stored = {u for u, a in self.live.items() if a is not None}
        self.order: list[UUID] = []  # ids in the order changes first touched them

    def run(self, change: _Change) -> bool:
        """Load and run one change; on failure its aggregates go back to how the change
        found them (earlier changes of the group keep theirs) and it is answered alone."""
        change.touched, change.events, change.indices = [], [], []
        # How the change finds each aggregate: its version and how many events are pending.
        before = {
            u: (a.version, len(a.pending_events))
            for u in change.aggregate_ids
            if (a := self.live[u]) is not None
        }
        # No copies ahead: an aggregate the change has changed when it fails is rebuilt (one
        # journal's commands check before they change anything, so that is rare; a lesson's
        # entries refused midway rebuild the journals they reached, read from the store).
        view = _group_view.set(self.live)
        try:
            found = change.load()
            change.command(found)
            if change.pick is not None:
                change.picked = change.pick(found)
        except Exception as error:
            for u, (version, pending) in before.items():
                aggregate = self.live[u]
                if aggregate.version != version or len(aggregate.pending_events) != pending:
                    earlier = aggregate.pending_events[:pending]
                    self._put(u, self._rebuilt(u, earlier))
            if isinstance(error, STORE_ERRORS):  # the transaction is lost: the whole group
                raise
            change.fail(error)
            return False
        finally:
            _group_view.reset(view)
        for u, aggregate in found.items():
            self.live[u] = aggregate
            if u not in self.order:
                self.order.append(u)
            change.touched.append(u)
            change.events += aggregate.pending_events[before.get(u, (0, 0))[1] :]
        return True

    def _rebuilt(self, u: UUID, earlier: list[Any]) -> Any:
        """An aggregate a failed change had begun to change: as stored (read from the store,
        not the cache: no one else writes it while the group holds its lock), then the
        events of the group's earlier changes, still pending."""
        aggregate: Any = mutate_all(None, self.core.events.get(u)) if u in self.stored else None
        for event in earlier:
            aggregate = event.mutate(aggregate)
        aggregate._pending_events = list(earlier)
        return aggregate

    def to_save(
        self, ready: list[_Change]
    ) -> tuple[list[Any], list[tuple[IdempotencyClaim, list[int]]]]:
        """The aggregates with events to save, and each request's key with the places of
        its events among them (the order the library collects them in)."""
        aggregates = [a for a in (self.live[u] for u in self.order) if a and a.pending_events]
        place: dict[int, int] = {}
        for aggregate in aggregates:
            for event in aggregate.pending_events:
                place[id(event)] = len(place)
        claims = []
        for change in ready:
            change.indices = sorted(place[id(e)] for e in change.events)
            if change.claim is not None and change.indices:
                claims.append((change.claim, change.indices))
        return aggregates, claims

    def copies(self, change: _Change) -> dict[UUID, Any]:
        return {u: read_copy(self.live[u]) for u in change.touched}

    def undo(self) -> None:
        """After a failed save: what the group changed or created is dropped from the cache,
        and read as stored when next loaded."""
        for u in self.order:
            self.core._evict(u)

    def _put(self, u: UUID, aggregate: Any) -> None:
        self.live[u] = aggregate
        cache = self.core.repository.cache
        if u in self.stored and cache is not None:
            cache.put(u, aggregate)


class _Collected(ProcessingEvent[UUID]):
    """The library's processing event, without its two `isinstance` checks per object
    against runtime Protocols (each walks the protocol's attributes: a few percent of a
    write's CPU). Our objects are aggregates; anything else goes the library's way."""

    def collect_events(self, *objs: Any, **kwargs: Any) -> None:
        for obj in objs:
            if isinstance(obj, Aggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            elif obj is not None:
                super().collect_events(obj)
        self.saved_kwargs.update(kwargs)


def _holds(journal: StudentJournal, record_id: str, kind: str) -> bool:
    """Whether the journal holds a record of that kind (ids that name their journal)."""
    return record_id in (journal.marks if kind == "mark" else journal.absences)


def mutate_all(aggregate: Any, events: Any) -> Any:
    """The library's `project_aggregate` without its per-event `isinstance` check against a
    runtime Protocol, which took half of a journal's replay (events are ours, all mutable)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


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
