"""`ejournal archive replay`: load a closed year from its exported archive into a fresh
embedded (SQLite) store, rebuild the read models from the events alone, and compare their
checksums with the signed manifest's. Rules, periods, weights and rounding come from the
year's own events; names, subjects and the organisation's time zone from the archive's
reference data — nothing from today's settings."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.persistence import StoredEvent

from adapters.accounts import PersonalData
from adapters.archive import SigningKey, read_model_checksums
from adapters.archive_check import ArchivedEvent, CheckedArchive, verify_archive
from adapters.journal_app import EJournal
from adapters.projection_runner import ProjectionRunner, no_cyclic_gc
from adapters.recorders import Inline
from adapters.report_tables import Table, gradebook_table
from adapters.sql import SQLiteDatabase
from adapters.year_reports import YearReports
from domain.integrity import merkle_root
from domain.reference import AcademicYear

Progress = Callable[[str, int, int], None]
BATCH = 25000  # events a transaction of the load; a failed replay leaves no store anyway


class ReplayError(Exception):
    pass


def _quiet(_stage: str, _done: int, _total: int) -> None:
    return None


@dataclass
class Replayed:
    app: EJournal
    db: SQLiteDatabase
    checked: CheckedArchive
    year: AcademicYear
    # read model -> (checksum in the manifest, checksum of the replayed store)
    checksums: dict[str, tuple[str, str]] = field(default_factory=dict)
    merkle_root: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.merkle_root == self.checked.manifest["merkle_root"] and all(
            a == b for a, b in self.checksums.values()
        )

    @property
    def names(self) -> dict[str, str]:
        return dict(self.checked.reference.get("people", {}))

    def close(self) -> None:
        self.app.close()
        self.db.close()

    def gradebooks(
        self,
        as_of: datetime | None = None,
        group_id: str | None = None,
        subject_id: str | None = None,
    ) -> Iterator[tuple[str, Table]]:
        """(caption, table) for each group, subject and period, as they stood at `as_of`."""
        reports = YearReports(self.db, self.year, self.checked.reference.get("subject_order", []))
        subjects: dict[str, str] = self.checked.reference.get("subjects", {})
        for group, info in sorted(self.year.groups.items()):
            if group_id is not None and group != group_id:
                continue
            for subject in reports.group_subjects(group):
                if subject_id is not None and subject != subject_id:
                    continue
                for period in reports.periods(subject):
                    book = reports.gradebook(group, subject, period, as_of)
                    caption = f"{info.name} — {subjects.get(subject, subject)} — {period.name}"
                    yield caption, gradebook_table(book, self.names)


# 30.11.2026, 30.11.2026 12:00, 30.11.2026 12:00:05, each optionally followed by an offset
# (+05:00, +0500, +05, Z, UTC, UTC+5).
_RUSSIAN = re.compile(
    r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
    r"\s*(?P<tz>Z|UTC|UTC[+-]\d{1,2}(?::?\d{2})?|[+-]\d{2}(?::?\d{2})?)?"
)
_OFFSET = re.compile(r"(?:UTC)?(?P<sign>[+-])(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?")
AS_OF_FORMS = (
    "30.11.2026 12:00, 30.11.2026, 2026-11-30T12:00, 2026-11-30 12:00 "
    "или со сдвигом от UTC: 2026-11-30T07:00Z, 30.11.2026 12:00 +05:00"
)


def parse_as_of(text: str) -> datetime:
    """A moment as people write it: ISO 8601 or the Russian 30.11.2026 12:00, with or
    without an offset from UTC. Without one the result is naive: it is the organisation's
    time, resolved by `resolve_as_of` once the archive's zone is known."""
    value = text.strip()
    found = _RUSSIAN.fullmatch(value)
    try:
        if found is None:
            iso = value[:-3].strip() + "+00:00" if value.upper().endswith("UTC") else value
            return datetime.fromisoformat(iso)
        moment = datetime(
            int(found["y"]),
            int(found["m"]),
            int(found["d"]),
            int(found["H"] or 0),
            int(found["M"] or 0),
            int(found["S"] or 0),
        )
        return moment.replace(tzinfo=_offset(found["tz"])) if found["tz"] else moment
    except ValueError:
        raise ReplayError(f"Не понимаю момент «{text}»: пишите, например, {AS_OF_FORMS}") from None


def _offset(text: str) -> tzinfo:
    if text in ("Z", "UTC"):
        return UTC
    found = _OFFSET.fullmatch(text)
    if found is None:
        raise ValueError(text)
    shift = timedelta(hours=int(found["h"]), minutes=int(found["m"] or 0))
    if shift >= timedelta(hours=24):
        raise ValueError(text)
    return timezone(-shift if found["sign"] == "-" else shift)


def resolve_as_of(moment: datetime, zone: ZoneInfo) -> datetime:
    """The moment itself when it names its offset; else the organisation's time in `zone`
    (the zone of the archive's reference data, as the school's day is kept)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def describe_as_of(moment: datetime, zone: ZoneInfo) -> str:
    """«30.11.2026 12:00:00 по времени организации (Asia/Yekaterinburg, UTC+05:00); UTC:
    30.11.2026 07:00:00» — the moment the journal is shown at, in words."""
    local = moment.astimezone(zone)
    shift = local.strftime("%z")
    utc = moment.astimezone(UTC)
    return (
        f"{local:%d.%m.%Y %H:%M:%S} по времени организации ({zone.key}, "
        f"UTC{shift[:3]}:{shift[3:]}); UTC: {utc:%d.%m.%Y %H:%M:%S}"
    )


def replay_archive(path: Path, store: Path, progress: Progress = _quiet) -> Replayed:
    """Rebuild the year in a new SQLite file `store`, loading each event in the same pass
    that verifies the archive; a failed replay leaves no store behind."""
    started = time.perf_counter()
    if store.exists():
        raise ReplayError(f"Хранилище {store} уже есть: для воспроизведения нужен новый файл")
    store.parent.mkdir(parents=True, exist_ok=True)
    db = SQLiteDatabase(str(store))
    app = EJournal(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(store)},
        db=db,
        signing_key=SigningKey(store.with_suffix(".no-key.pem")),
    )
    try:
        loader = _Loader(app)
        with no_cyclic_gc():  # the load keeps many objects alive and makes no cycles
            checked = verify_archive(path, progress=progress, on_event=loader.add)
        loader.flush()
        manifest, reference = checked.manifest, checked.reference
        org_id, year_id = manifest["organization_id"], manifest["year_id"]
        # The organisation's day, as the archive records it (its stream is not in the year).
        app.zone = ZoneInfo(reference["organisation"]["timezone"])
        _load_names(db, org_id, reference.get("people", {}))
        # One pass over the log (each event decoded once) builds the read models and the
        # indexes the load left out (record locator, delegations).
        writer = getattr(app.recorder, "writer", None)
        together = ProjectionRunner(
            app, db, [*app.read_models.projections.values(), *(writer.indexes if writer else [])]
        )
        head = together.head()
        together.rebuild(progress=lambda _name, position: progress("отчёты", position, head))
        app.indexes.catch_up()
        with db.read() as cur:
            cur.execute("SELECT hash FROM event_hashes ORDER BY position")
            root = merkle_root([bytes.fromhex(r[0]) for r in cur.fetchall()])
        actual = read_model_checksums(db, org_id, year_id)
        year = app.year(org_id, year_id)
    except BaseException:
        app.close()
        db.close()
        for leftover in (store, *(store.with_name(store.name + s) for s in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
        raise
    expected: dict[str, str] = manifest["read_models"]
    return Replayed(
        app,
        db,
        checked,
        year,
        checksums={k: (v, actual.get(k, "")) for k, v in expected.items()},
        merkle_root=root,
        seconds=time.perf_counter() - started,
    )


class _Loader:
    """Stores verified event lines as the library stores events, in batches."""

    def __init__(self, app: EJournal) -> None:
        self.app = app
        self.batch: list[StoredEvent] = []
        self.hashes: list[str] = []

    def add(self, event: ArchivedEvent) -> None:
        self.batch.append(StoredEvent(UUID(event.stream), event.version, event.topic, event.state))
        self.hashes.append(event.hash)
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Insert the batch with its hashes, checked against the signed chain, as they are;
        the other inline indexes are built with the read models, in one pass."""
        if self.batch:
            skip = Inline([None] * len(self.batch), hashes=self.hashes)
            self.app.recorder.insert_events(self.batch, inline=skip)
            self.batch, self.hashes = [], []


def _load_names(db: SQLiteDatabase, org_id: str, people: dict[str, str]) -> None:
    with db.transaction() as cur:
        for person_id, full_name in people.items():
            PersonalData.upsert(cur, org_id, person_id, full_name)
