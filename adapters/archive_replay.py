"""`ejournal archive replay`: load a closed year from its exported archive into a fresh
embedded (SQLite) store, rebuild the read models from the events alone, and compare their
checksums with the signed manifest's. Rules, periods, weights and rounding come from the
year's own events; names, subjects and the organisation's time zone from the archive's
reference data — nothing from today's settings."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.persistence import StoredEvent

from adapters.accounts import PersonalData
from adapters.archive import SigningKey, read_model_checksums
from adapters.archive_check import CheckedArchive, verify_archive
from adapters.journal_app import EJournal
from adapters.report_tables import Table, gradebook_table
from adapters.sql import SQLiteDatabase
from adapters.year_reports import YearReports
from domain.integrity import merkle_root
from domain.reference import AcademicYear

Progress = Callable[[str, int, int], None]
BATCH = 5000


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
        reports = YearReports(self.db, self.year)
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
        checked = verify_archive(path, progress=progress, on_event=loader.add)
        loader.flush()
        manifest, reference = checked.manifest, checked.reference
        org_id, year_id = manifest["organization_id"], manifest["year_id"]
        # The organisation's day, as the archive records it (its stream is not in the year).
        app.zone = ZoneInfo(reference["organisation"]["timezone"])
        _load_names(db, org_id, reference.get("people", {}))
        app.indexes.catch_up()
        head = app.read_models.head()
        app.read_models.rebuild(progress=lambda _name, position: progress("отчёты", position, head))
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

    def add(self, line: dict[str, Any]) -> None:
        state = json.dumps(line["state"], ensure_ascii=False, separators=(",", ":"))
        self.batch.append(
            StoredEvent(UUID(line["stream"]), line["version"], line["topic"], state.encode())
        )
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.batch:
            self.app.recorder.insert_events(self.batch)
            self.batch = []


def _load_names(db: SQLiteDatabase, org_id: str, people: dict[str, str]) -> None:
    with db.transaction() as cur:
        for person_id, full_name in people.items():
            PersonalData.upsert(cur, org_id, person_id, full_name)
