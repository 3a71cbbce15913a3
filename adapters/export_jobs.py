"""Exports of closed years as background jobs (issue 14): a large college's archive takes
minutes to build, longer than a proxy waits for an answer.

A job runs `export_year` in a thread of the process that started it and writes the zip to a
cache under `<var_dir>/exports/`. A closed year never changes, so the cached zip stays valid;
its name carries the seal (Merkle root and closing moment of the signed manifest), so a file
made for another seal is never served. The zip appears atomically (`export_year` writes a
`.partial` file and renames it).

One job per organisation and year at a time, across the server's worker processes too: the
job holds an exclusive `flock` on `<key>.lock` (released by the kernel if the process dies)
and its state (status, stage, progress, error) is a small JSON file under `exports/jobs/`
that any worker reads, so a status request may land on any of them."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from adapters.archive import SealedYear
from domain.errors import RuleViolation

log = logging.getLogger("ejournal.export_jobs")

RUNNING, DONE, FAILED = "running", "done", "failed"
STAGE_QUEUED = "подготовка"
STAGE_DONE = "готово"
SAVE_EVERY = 0.5  # seconds between state-file writes while a stage progresses
KEEP_JOB_FILES = 7 * 24 * 3600.0


def slug(value: str) -> str:
    """As `archive_export.slug` (not imported: that module loads the PDF machinery)."""
    return re.sub(r"[^\w.-]", "_", value) or "_"


def seal_of(sealed: SealedYear) -> str:
    """A short fingerprint of the year's seal: its Merkle root and closing moment."""
    m = sealed.manifest
    return hashlib.sha256(f"{m['merkle_root']}|{m['closed_at']}".encode()).hexdigest()[:16]


def cache_key(sealed: SealedYear) -> str:
    m = sealed.manifest
    return f"{slug(m['organization_id'])}-{slug(m['year_id'])}-{seal_of(sealed)}"


@dataclass
class ExportJob:
    job_id: str
    org_id: str
    year_id: str
    key: str
    status: str = RUNNING
    stage: str = STAGE_QUEUED
    done: int = 0
    total: int = 0
    error: str | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    # Only for a job of this process: set when it has finished (done or failed).
    finished: threading.Event = field(default_factory=threading.Event, repr=False)
    failure: BaseException | None = field(default=None, repr=False)
    local: bool = True

    def state(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "org_id": self.org_id,
            "year_id": self.year_id,
            "key": self.key,
            "status": self.status,
            "stage": self.stage,
            "done": self.done,
            "total": self.total,
            "error": self.error,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ExportJob:
        return cls(
            job_id=state["job_id"],
            org_id=state["org_id"],
            year_id=state["year_id"],
            key=state["key"],
            status=state["status"],
            stage=state["stage"],
            done=int(state["done"]),
            total=int(state["total"]),
            error=state.get("error"),
            started_at=float(state["started_at"]),
            finished_at=state.get("finished_at"),
            local=False,
        )


class ExportJobs:
    """The export jobs and cached archives of one `exports` folder."""

    # How long GET .../export waits for a job it started or joined before answering 202: a
    # small school's export finishes within it and the client gets the zip at once.
    wait_seconds: float = 20.0

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.jobs_dir = folder / "jobs"
        self._lock = threading.Lock()
        self._jobs: dict[str, ExportJob] = {}
        self._running: dict[str, ExportJob] = {}  # cache key -> job of this process

    # --- the cache ------------------------------------------------------------------------

    def path_for(self, sealed: SealedYear) -> Path:
        return self.folder / f"ejournal-{cache_key(sealed)}.zip"

    def cached(self, sealed: SealedYear) -> Path | None:
        """The finished archive of exactly this seal, if one was made."""
        path = self.path_for(sealed)
        return path if path.is_file() else None

    # --- jobs -----------------------------------------------------------------------------

    def start(self, app: Any, personal: Any, sealed: SealedYear) -> ExportJob:
        """Start the year's export, or join the one running (here or in another worker).
        With the archive already made, a finished job pointing at it."""
        m = sealed.manifest
        key = cache_key(sealed)
        with self._lock:
            running = self._running.get(key)
            if running is not None:
                return running
            if self.cached(sealed) is not None:
                return self._finished_job(m["organization_id"], m["year_id"], key)
            self.folder.mkdir(parents=True, exist_ok=True)
            self.jobs_dir.mkdir(parents=True, exist_ok=True)
            lock = open(self.folder / f"{key}.lock", "a+")  # noqa: SIM115 - held by the job
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                return self._joined_elsewhere(m["organization_id"], m["year_id"], key)
            try:
                if self.cached(sealed) is not None:  # another worker finished meanwhile
                    lock.close()
                    return self._finished_job(m["organization_id"], m["year_id"], key)
                job = ExportJob(uuid.uuid4().hex, m["organization_id"], m["year_id"], key)
                self._save(job)
                _write_atomically(self.folder / f"{key}.job", job.job_id.encode())
                self._jobs[job.job_id] = job
                self._running[key] = job
                thread = threading.Thread(
                    target=self._run,
                    args=(job, app, personal, sealed, lock),
                    name=f"export-{key}",
                    daemon=True,
                )
                thread.start()
            except BaseException:
                self._running.pop(key, None)
                lock.close()
                raise
        self._prune()
        return job

    def get(self, job_id: str) -> ExportJob | None:
        """The job by id: this process's, or one another worker runs or ran."""
        if not re.fullmatch(r"[0-9a-f]{32}", job_id):
            return None
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None else self._load(job_id)

    def wait(self, job: ExportJob, timeout: float) -> ExportJob:
        """Wait up to `timeout` seconds for the job to finish; its latest state."""
        if job.local:
            job.finished.wait(timeout)
            return job
        deadline = time.monotonic() + timeout
        while True:
            latest = self._load(job.job_id) or job
            if latest.status != RUNNING or time.monotonic() >= deadline:
                return latest
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    # --- inside -----------------------------------------------------------------------------

    def _run(
        self, job: ExportJob, app: Any, personal: Any, sealed: SealedYear, lock: IO[str]
    ) -> None:
        last_saved = [0.0]

        def progress(stage: str, done: int, total: int) -> None:
            changed = stage != job.stage
            job.stage, job.done, job.total = stage, done, total
            now = time.monotonic()
            if changed or now - last_saved[0] >= SAVE_EVERY:
                last_saved[0] = now
                self._save(job)

        try:
            from adapters.archive_export import export_year  # heavy (PDF/A): on demand

            export_year(app, personal, sealed, self.path_for(sealed), progress)
            job.stage, job.status = STAGE_DONE, DONE
            job.done = job.total = max(job.total, job.done)
        except BaseException as e:
            job.status, job.failure = FAILED, e
            if isinstance(e, RuleViolation):
                job.error = e.detail
            else:
                log.exception("export of %s/%s failed", job.org_id, job.year_id)
                job.error = f"Архив не создан: внутренняя ошибка ({type(e).__name__})"
        finally:
            job.finished_at = time.time()
            with contextlib.suppress(OSError):
                self._save(job)
            with self._lock:
                self._running.pop(job.key, None)
            lock.close()  # releases the flock
            job.finished.set()

    def _finished_job(self, org_id: str, year_id: str, key: str) -> ExportJob:
        job = ExportJob(uuid.uuid4().hex, org_id, year_id, key, DONE, STAGE_DONE)
        job.finished_at = job.started_at
        job.finished.set()
        self._jobs[job.job_id] = job
        with contextlib.suppress(OSError):
            self.jobs_dir.mkdir(parents=True, exist_ok=True)
            self._save(job)
        return job

    def _joined_elsewhere(self, org_id: str, year_id: str, key: str) -> ExportJob:
        """The job another worker process holds the lock for."""
        deadline = time.monotonic() + 2.0
        while True:
            job = None
            with contextlib.suppress(OSError):
                job = self._load((self.folder / f"{key}.job").read_text().strip())
            if job is not None and (job.status == RUNNING or time.monotonic() >= deadline):
                return job
            if time.monotonic() >= deadline:  # the lock holder has not written its job yet
                return ExportJob(uuid.uuid4().hex, org_id, year_id, key, local=False)
            time.sleep(0.05)

    def _save(self, job: ExportJob) -> None:
        data = json.dumps(job.state(), ensure_ascii=False).encode()
        _write_atomically(self.jobs_dir / f"{job.job_id}.json", data)

    def _load(self, job_id: str) -> ExportJob | None:
        try:
            state = json.loads((self.jobs_dir / f"{job_id}.json").read_text(encoding="utf-8"))
            return ExportJob.from_state(state)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _prune(self) -> None:
        """Forget state files of jobs older than a week."""
        cutoff = time.time() - KEEP_JOB_FILES
        with contextlib.suppress(OSError):
            for path in self.jobs_dir.glob("*.json"):
                with contextlib.suppress(OSError):
                    if path.stat().st_mtime < cutoff:
                        path.unlink()


def _write_atomically(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temp.write_bytes(data)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


_registries: dict[Path, ExportJobs] = {}
_registries_lock = threading.Lock()


def registry_for(var_dir: Path) -> ExportJobs:
    """The one registry of `<var_dir>/exports` in this process."""
    folder = (var_dir / "exports").resolve()
    with _registries_lock:
        registry = _registries.get(folder)
        if registry is None:
            registry = _registries[folder] = ExportJobs(folder)
        return registry
