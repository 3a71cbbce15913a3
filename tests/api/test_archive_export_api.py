"""The export of a closed year, end to end on both stores: the API's zip is a BagIt bag that
the Library of Congress's validator accepts; `archive verify` passes offline and fails on a
one-byte change; `archive replay` rebuilds the read models with the manifest's checksums;
the PDFs carry the Cyrillic names and marks."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import bagit
import pypdf
import pytest

from adapters.archive_check import ArchiveInvalid, verify_archive
from adapters.archive_export import export_year
from adapters.archive_replay import replay_archive
from tests.api.helpers import (
    ADMIN,
    DEPUTY,
    DIRECTOR,
    STUDENT_S01,
    TEACHER_MATH,
    absence_body,
    mark_body,
)
from tests.conftest import Api

ARCHIVIST = "zaitseva"
YEAR = "2026-2027"
EXPORT = f"/api/v1/archives/{YEAR}/export"


def close_with_content(api: Api) -> dict[str, Any]:
    t1, dep = api.as_user(TEACHER_MATH), api.as_user(DEPUTY)
    first = api.client.post("/api/v1/marks", headers=t1, json=mark_body(value=3))
    assert first.status_code == 201, first.text
    mark_id = first.json()["mark_id"]
    r = api.client.post(
        f"/api/v1/marks/{mark_id}/corrections",
        headers=t1,
        json={"value": 4, "reason": "Ошибка при вводе"},
    )
    assert r.status_code in (200, 201), r.text
    other = mark_body(student_id="s02", value=5)
    assert api.client.post("/api/v1/marks", headers=t1, json=other).status_code == 201
    assert api.client.post("/api/v1/absences", headers=t1, json=absence_body()).status_code == 201
    r = api.client.post(f"/api/v1/years/{YEAR}/close", headers=dep, json={"reason": "тест"})
    assert r.status_code == 200, r.text
    return dict(r.json())


def unzip(data: bytes, into: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(into)
    (root,) = list(into.iterdir())
    return root


def test_export_is_a_valid_bag_that_verifies_and_replays(api: Api, tmp_path: Path) -> None:
    closing = close_with_content(api)
    r = api.client.get(EXPORT, headers=api.as_user(ARCHIVIST))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    data = r.content
    # Any BagIt validator: the Library of Congress's.
    root = unzip(data, tmp_path / "bag")
    bag = bagit.Bag(str(root))
    bag.validate()
    assert bag.info["Academic-Year"] == YEAR
    assert bag.info["Closed-At"] == closing["closed_at"] or bag.info["Closed-At"].startswith(
        closing["closed_at"][:19]
    )
    assert "Source-Organization" in bag.info and bag.info["Software-Version"]
    # The manifest inside is the sealed one; every event of the year is a line.
    manifest = json.loads((root / "data" / "manifest.json").read_text())
    assert manifest == closing["manifest"]
    lines = (root / "data" / "events.jsonl").read_text().splitlines()
    assert len(lines) == manifest["event_count"]
    topics = {json.loads(line)["topic"] for line in lines}
    assert any(t.endswith("MarkCorrected") for t in topics)
    readme = (root / "README.txt").read_text()
    assert "sha256sum -c manifest-sha256.txt" in readme and "openssl pkeyutl" in readme
    # Offline verification of the zip.
    archive = tmp_path / "year.zip"
    archive.write_bytes(data)
    checked = verify_archive(archive)
    assert checked.events == manifest["event_count"]
    # Replay into a fresh embedded store: the read models' checksums equal the manifest's.
    replayed = replay_archive(archive, tmp_path / "replay.db")
    try:
        assert replayed.ok, replayed.checksums
        assert set(replayed.checksums) == set(manifest["read_models"])
        tables = dict(replayed.gradebooks(group_id="g1", subject_id="math"))
        assert tables, "no gradebook replayed"
        shown = json.dumps([t.rows for t in tables.values()], ensure_ascii=False, default=str)
        assert "4" in shown
    finally:
        replayed.close()


def test_pdfs_show_cyrillic_names_and_marks(api: Api, tmp_path: Path) -> None:
    close_with_content(api)
    data = api.client.get(EXPORT, headers=api.as_user(DIRECTOR)).content
    root = unzip(data, tmp_path / "bag")
    names = json.loads((root / "data" / "reference.json").read_text())["people"]
    student = names["s01"]
    assert any("\u0400" <= ch <= "\u04ff" for ch in student)
    journal = pypdf.PdfReader(root / "data" / "groups" / "g1" / "journal.pdf")
    text = " ".join(page.extract_text() for page in journal.pages)
    assert student.split()[0] in text
    assert "Математика" in text and "Посещаемость" in text
    sheet = pypdf.PdfReader(root / "data" / "groups" / "g1" / "summary-sheet.pdf")
    sheet_text = " ".join(page.extract_text() for page in sheet.pages)
    assert "Сводная ведомость итоговых отметок" in sheet_text and "Директор" in sheet_text
    assert student.split()[0] in sheet_text


def test_the_group_journal_prints_homework_and_subjects_in_the_rosters_order(
    api: Api, tmp_path: Path
) -> None:
    """Issue 14: the journal PDF prints each lesson's homework beside its topic; the summary
    sheet lists subjects as the roster does (math, chem, rus, hist), not by id, and
    reference.json keeps that order."""
    lesson = {
        "group_id": "g1",
        "subject_id": "math",
        "lesson_date": "2026-09-02",
        "lesson_no": 1,
        "topic": "Дроби",
        "homework": "Параграф 12, задачи 3–7",
    }
    r = api.client.post("/api/v1/lessons", headers=api.as_user(TEACHER_MATH), json=lesson)
    assert r.status_code == 201, r.text
    close_with_content(api)
    data = api.client.get(EXPORT, headers=api.as_user(ARCHIVIST)).content
    root = unzip(data, tmp_path / "bag")
    journal = pypdf.PdfReader(root / "data" / "groups" / "g1" / "journal.pdf")
    text = " ".join(page.extract_text() for page in journal.pages)
    assert "Домашнее задание" in text
    assert "Параграф 12" in text and "Дроби" in text

    listed = ["math", "chem", "rus", "hist"]
    reference = json.loads((root / "data" / "reference.json").read_text())
    assert reference["subject_order"] == listed
    header = (root / "data" / "groups" / "g1" / "summary-sheet.csv").read_text("utf-8-sig")
    assert header.splitlines()[0].split(";")[1:] == [reference["subjects"][s] for s in listed]


@pytest.mark.parametrize(
    "member", ["data/events.jsonl", "data/groups/g1/journal.pdf", "bag-info.txt"]
)
def test_one_changed_byte_fails_verification(api: Api, tmp_path: Path, member: str) -> None:
    close_with_content(api)
    data = api.client.get(EXPORT, headers=api.as_user(DEPUTY)).content
    source = zipfile.ZipFile(io.BytesIO(data))
    (root,) = {n.split("/", 1)[0] for n in source.namelist()}
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(forged, "w") as out:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == f"{root}/{member}":
                at = len(content) // 2
                content = content[:at] + bytes([content[at] ^ 0x01]) + content[at + 1 :]
            out.writestr(info, content)
    with pytest.raises(ArchiveInvalid) as failure:
        verify_archive(forged)
    assert member.rsplit("/", 1)[-1] in str(failure.value) or "изменён" in str(failure.value)
    # A replay verifies in the same pass as it loads: a refused archive leaves no store.
    store = tmp_path / "replay.db"
    with pytest.raises(ArchiveInvalid):
        replay_archive(forged, store)
    assert not store.exists()


def test_who_may_export(api: Api) -> None:
    r = api.client.get(EXPORT, headers=api.as_user(DEPUTY))
    assert r.status_code == 409 and r.json()["code"] == "year-open"
    close_with_content(api)
    for user in (TEACHER_MATH, STUDENT_S01, ADMIN):
        r = api.client.get(EXPORT, headers=api.as_user(user))
        assert r.status_code in (403, 404), (user, r.status_code)


def test_documents_rendered_in_worker_processes_make_the_same_bag(
    api: Api, imported: Any, tmp_path: Path
) -> None:
    close_with_content(api)
    app = imported.journal
    sealed = app.archives.get("sght", YEAR)
    inline = export_year(app, imported.personal, sealed, tmp_path / "inline.zip", workers=1)
    pooled = export_year(app, imported.personal, sealed, tmp_path / "pooled.zip", workers=2)
    assert pooled.files == inline.files
    bagit.Bag(str(unzip(pooled.path.read_bytes(), tmp_path / "pooled"))).validate()
    verify_archive(pooled.path)
    with zipfile.ZipFile(inline.path) as a, zipfile.ZipFile(pooled.path) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())
        for name in a.namelist():
            if name.endswith((".csv", ".jsonl", ".json")):
                assert a.read(name) == b.read(name), name
    text = " ".join(
        p.extract_text()
        for p in pypdf.PdfReader(
            tmp_path
            / "pooled"
            / "ejournal-sght-2026-2027"
            / "data"
            / "groups"
            / "g1"
            / "journal.pdf"
        ).pages
    )
    assert "Математика" in text
