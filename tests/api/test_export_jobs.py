"""Issue 14: the export of a closed year as a background job. GET …/export answers the zip at
once when the year's archive is made, else 202 with a job (progress, status_url,
download_url, Retry-After); POST …/export-jobs starts or joins the one job of the year;
GET …/export-jobs/{job_id} tells its state; a failure is told in Russian; the cached zip is
the one `export_year` makes and is keyed by the year's seal."""

from __future__ import annotations

import io
import re
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import adapters.archive_export as archive_export
from adapters.archive import SealedYear
from adapters.archive_export import ArchiveBroken, export_year
from adapters.export_jobs import ExportJobs, registry_for
from api.bootstrap import Services
from tests.api.helpers import ADMIN, DEPUTY, DIRECTOR, STUDENT_S01, TEACHER_MATH
from tests.api.test_archive_export_api import ARCHIVIST, EXPORT, YEAR, close_with_content
from tests.conftest import Api

JOBS = f"/api/v1/archives/{YEAR}/export-jobs"


@dataclass
class Gate:
    """Holds every export at its start until opened: a job stays `running` meanwhile."""

    entered: threading.Event
    opened: threading.Event
    calls: list[int]

    def open(self) -> None:
        self.opened.set()


@pytest.fixture
def jobs(imported: Services, monkeypatch: pytest.MonkeyPatch) -> ExportJobs:
    """The app's registry, answering 202 at once (no waiting inside the request)."""
    registry = registry_for(imported.settings.var_dir)
    monkeypatch.setattr(registry, "wait_seconds", 0.0)
    return registry


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    held = Gate(threading.Event(), threading.Event(), [])
    real = archive_export.export_year

    def held_export(*args: Any, **kwargs: Any) -> Any:
        held.calls.append(1)
        held.entered.set()
        assert held.opened.wait(60), "the test never opened the gate"
        return real(*args, **kwargs)

    monkeypatch.setattr(archive_export, "export_year", held_export)
    try:
        yield held
    finally:
        held.open()


def finished(api: Api, jobs: ExportJobs, headers: dict[str, str], status_url: str) -> Any:
    """Poll the job's status until it is no longer running, waiting on the job's event
    between polls (no sleeps); at most a minute."""
    deadline = time.monotonic() + 60
    while True:
        r = api.client.get(status_url, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        if body["status"] != "running":
            assert "Retry-After" not in r.headers
            return body
        assert r.headers["Retry-After"].isdigit()
        assert time.monotonic() < deadline, body
        job = jobs.get(body["job_id"])
        assert job is not None
        job.finished.wait(0.5)


def sealed_year(services: Services) -> SealedYear:
    sealed = services.journal.archives.get("sght", YEAR)
    assert sealed is not None
    return sealed


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


# The bag's own listings of hashes and their signatures follow the files they list.
LISTINGS = ("manifest-sha256.txt", "tagmanifest-sha256.txt", ".sig")


def xlsx_content(data: bytes) -> dict[str, bytes]:
    """An XLSX file's parts, its creation/modification stamps (the wall clock's) blanked."""
    parts = members(data)
    if "docProps/core.xml" in parts:
        parts["docProps/core.xml"] = re.sub(
            rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\1", parts["docProps/core.xml"]
        )
    return parts


def assert_same_archive(served: bytes, made: bytes) -> None:
    """The served zip is what export_year makes: byte for byte when the export is
    reproducible; else the same members with the same content, XLSX files (zips themselves,
    whose inner time stamps may be the wall clock's) compared member by member."""
    if served == made:
        return
    a, b = members(served), members(made)
    assert sorted(a) == sorted(b)
    differ = [
        name
        for name in a
        if not name.endswith(LISTINGS)
        and (
            xlsx_content(a[name]) != xlsx_content(b[name])
            if name.endswith(".xlsx")
            else a[name] != b[name]
        )
    ]
    assert not differ, differ


def test_first_get_starts_a_job_then_the_zip_is_served(
    api: Api, imported: Services, jobs: ExportJobs, gate: Gate, tmp_path: Path
) -> None:
    close_with_content(api)
    archivist = api.as_user(ARCHIVIST)
    r = api.client.get(EXPORT, headers=archivist)
    assert r.status_code == 202, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert int(r.headers["Retry-After"]) > 0
    job = r.json()
    assert job["status"] == "running" and job["year_id"] == YEAR
    assert set(job["progress"]) == {"stage", "done", "total"}
    assert job["status_url"] == f"{JOBS}/{job['job_id']}"
    assert r.headers["Location"] == job["status_url"]
    assert job["download_url"] == EXPORT

    # While it runs: a second GET and a POST join the same job (one export of the year).
    assert gate.entered.wait(30)
    again = api.client.get(EXPORT, headers=api.as_user(DIRECTOR))
    assert again.status_code == 202 and again.json()["job_id"] == job["job_id"]
    joined = api.client.post(JOBS, headers=api.as_user(DEPUTY))
    assert joined.status_code == 202 and joined.json()["job_id"] == job["job_id"]
    running = api.client.get(job["status_url"], headers=archivist)
    assert running.status_code == 200 and running.json()["status"] == "running"

    gate.open()
    done = finished(api, jobs, archivist, job["status_url"])
    assert done["status"] == "done", done
    assert done["error"] is None and done["download_url"] == EXPORT
    assert done["progress"]["stage"] == "готово"
    assert len(gate.calls) == 1, "the year was exported more than once"

    r = api.client.get(done["download_url"], headers=archivist)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert 'filename="ejournal-sght-2026-2027.zip"' in r.headers["content-disposition"]
    # What export_year itself makes of the sealed year.
    expected = export_year(
        imported.journal, imported.personal, sealed_year(imported), tmp_path / "y.zip"
    )
    assert_same_archive(r.content, expected.path.read_bytes())
    # Served from the cache from now on: no new job.
    assert api.client.get(EXPORT, headers=api.as_user(DEPUTY)).status_code == 200
    assert len(gate.calls) == 1
    # Starting once more: a finished job pointing at the archive.
    r = api.client.post(JOBS, headers=archivist)
    assert r.status_code == 200 and r.json()["status"] == "done", r.text
    # No temporary files left next to the cache.
    left = sorted(p.name for p in jobs.folder.iterdir() if p.is_file())
    assert not [n for n in left if n.endswith((".partial", ".tmp"))], left


def test_progress_is_reported_while_the_job_runs(
    api: Api, jobs: ExportJobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    close_with_content(api)
    real = archive_export.export_year
    reached, resume = threading.Event(), threading.Event()

    def paused(*args: Any, **kwargs: Any) -> Any:
        """Pauses the export at its first report of the events stage."""
        progress = kwargs.pop("progress", None) or args[4]

        def report(stage: str, done: int, total: int) -> None:
            progress(stage, done, total)
            if stage == "события" and not reached.is_set():
                reached.set()
                assert resume.wait(60)

        kwargs["progress"] = report
        return real(*args[:4], **kwargs)

    monkeypatch.setattr(archive_export, "export_year", paused)
    deputy = api.as_user(DEPUTY)
    try:
        r = api.client.post(JOBS, headers=deputy)
        assert r.status_code == 202, r.text
        assert r.json()["progress"]["stage"] == "подготовка"
        assert reached.wait(60)
        mid = api.client.get(r.json()["status_url"], headers=deputy).json()
        assert mid["status"] == "running", mid
        assert mid["progress"]["stage"] == "события" and mid["progress"]["total"] > 0, mid
    finally:
        resume.set()
    body = finished(api, jobs, deputy, r.json()["status_url"])
    assert body["status"] == "done", body


def test_a_failed_export_is_told_in_russian_and_can_be_retried(
    api: Api, jobs: ExportJobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    close_with_content(api)
    real = archive_export.export_year

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ArchiveBroken("Корень Меркла событий не совпадает с подписанным манифестом")

    monkeypatch.setattr(archive_export, "export_year", broken)
    deputy = api.as_user(DEPUTY)
    r = api.client.post(JOBS, headers=deputy)
    assert r.status_code in (200, 202), r.text
    body = finished(api, jobs, deputy, r.json()["status_url"])
    assert body["status"] == "failed"
    assert body["error"] == "Корень Меркла событий не совпадает с подписанным манифестом"
    # GET …/export, when the job fails while it waits, answers the problem as before.
    monkeypatch.setattr(jobs, "wait_seconds", 30.0)
    r = api.client.get(EXPORT, headers=deputy)
    assert r.status_code == 409 and r.json()["code"] == "integrity-broken", r.text
    # A failed job is not the year's last word: the next start is a new job.
    monkeypatch.setattr(archive_export, "export_year", real)
    r = api.client.post(JOBS, headers=deputy)
    assert r.status_code in (200, 202) and r.json()["job_id"] != body["job_id"]
    assert finished(api, jobs, deputy, r.json()["status_url"])["status"] == "done"
    assert api.client.get(EXPORT, headers=deputy).status_code == 200


def test_who_may_start_and_follow_export_jobs(api: Api, jobs: ExportJobs, gate: Gate) -> None:
    deputy = api.as_user(DEPUTY)
    # Open year: nothing to export.
    r = api.client.post(JOBS, headers=deputy)
    assert r.status_code == 409 and r.json()["code"] == "year-open"
    close_with_content(api)
    started = api.client.post(JOBS, headers=deputy)
    assert started.status_code == 202, started.text
    status_url = started.json()["status_url"]
    for user in (TEACHER_MATH, STUDENT_S01, ADMIN):
        who = api.as_user(user)
        assert api.client.post(JOBS, headers=who).status_code in (403, 404), user
        assert api.client.get(status_url, headers=who).status_code in (403, 404), user
        assert api.client.get(EXPORT, headers=who).status_code in (403, 404), user
    assert api.client.get(status_url).status_code == 401
    # An unknown job (or one of another year) is not found.
    r = api.client.get(f"{JOBS}/{'0' * 32}", headers=deputy)
    assert r.status_code == 404 and r.json()["code"] == "not-found"
    assert api.client.get(f"{JOBS}/../../x", headers=deputy).status_code == 404
    gate.open()
    assert finished(api, jobs, deputy, status_url)["status"] == "done"


def test_the_cache_is_keyed_by_the_seal(api: Api, imported: Services, jobs: ExportJobs) -> None:
    close_with_content(api)
    sealed = sealed_year(imported)
    path = jobs.path_for(sealed)
    assert path.parent == jobs.folder and path.parent.name == "exports"
    other = SealedYear({**sealed.manifest, "merkle_root": "0" * 64}, sealed.signature)
    reclosed = SealedYear({**sealed.manifest, "closed_at": "2027-07-01T00:00:00+00:00"}, "")
    assert len({path, jobs.path_for(other), jobs.path_for(reclosed)}) == 3
    # A zip lying under another seal's name is never served for this year.
    jobs.folder.mkdir(parents=True, exist_ok=True)
    jobs.path_for(other).write_bytes(b"not this year's archive")
    assert jobs.cached(sealed) is None
    r = api.client.post(JOBS, headers=api.as_user(DEPUTY))
    assert r.status_code == 202 and r.json()["status"] == "running"
    assert finished(api, jobs, api.as_user(DEPUTY), r.json()["status_url"])["status"] == "done"
    assert jobs.cached(sealed) == path and zipfile.is_zipfile(path)
