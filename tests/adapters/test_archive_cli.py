"""The closed year's archive through the command line, on both stores: `archive export`,
`archive verify` and `archive replay` round trip (with a gradebook as it stood before a
correction); verification fails on a changed byte, on a dropped event whose bag hashes were
recomputed, and on a pinned key that is not the signer's; the README's sha256sum/openssl steps
work on a real export; an export refuses a store changed after sealing; an event stored in an
old schema version replays to the manifest's checksums."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import bagit
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from typer.testing import CliRunner, Result

from adapters.archive_check import ArchiveInvalid, verify_archive
from adapters.archive_export import ArchiveBroken, export_year
from adapters.archive_replay import replay_archive
from adapters.clock import FixedClock
from api.bootstrap import Services
from api.cli import cli
from domain.ids import journal_id
from domain.journal import StudentJournal
from tests.api.helpers import DEPUTY, TEACHER_MATH, absence_body, record_mark
from tests.conftest import Api

YEAR = "2026-2027"
ORG = "sght"
S01 = "Александров Артём Игоревич"  # s01 in examples/roster.json
BAG_ROOT = f"ejournal-{ORG}-{YEAR}"
ZONE = ZoneInfo("Asia/Yekaterinburg")  # the organisation's zone (Settings.timezone)


# --- arranging a closed year --------------------------------------------------------------


@dataclass(frozen=True)
class ClosedYear:
    mark_at: datetime  # s01's math mark recorded as 3
    corrected_at: datetime  # ... corrected to 4
    mark_position: int  # the stored event of the mark (its position in the log)
    manifest: dict[str, Any]


def close_with_correction(api: Api, clock: FixedClock) -> ClosedYear:
    """s01 gets a 3 in math, corrected to 4 ten minutes later; s02 a 5; s03 an absence;
    then the deputy closes the year."""
    t1 = api.as_user(TEACHER_MATH)
    mark_at = clock.advance(minutes=10)  # later than the roster import
    mark = record_mark(api, t1, value=3)
    corrected_at = clock.advance(minutes=10)
    r = api.client.post(
        f"/api/v1/marks/{mark['mark_id']}/corrections",
        headers=t1,
        json={"value": 4, "reason": "Ошибка при вводе"},
    )
    assert r.status_code in (200, 201), r.text
    clock.advance(minutes=5)
    record_mark(api, t1, student_id="s02", value=5)
    r = api.client.post("/api/v1/absences", headers=t1, json=absence_body(student_id="s03"))
    assert r.status_code == 201, r.text
    clock.advance(minutes=5)
    r = api.client.post(
        f"/api/v1/years/{YEAR}/close", headers=api.as_user(DEPUTY), json={"reason": "тест"}
    )
    assert r.status_code == 200, r.text
    return ClosedYear(mark_at, corrected_at, int(mark["position"]), dict(r.json()["manifest"]))


def export_here(services: Services, dest: Path) -> Path:
    sealed = services.journal.archives.get(ORG, YEAR)
    assert sealed is not None
    export_year(services.journal, services.personal, sealed, dest)
    return dest


# --- the command line -----------------------------------------------------------------------


def cli_env(store: dict[str, Any], tmp_path: Path) -> dict[str, str | None]:
    """EJOURNAL_* for the CLI: the test's store and the key the year was sealed with."""
    return {
        "EJOURNAL_DATABASE_URL": store["database_url"],
        "EJOURNAL_POSTGRES_SCHEMA": store.get("postgres_schema"),
        "EJOURNAL_VAR_DIR": str(tmp_path / "var"),
        "EJOURNAL_SIGNING_KEY_PATH": None,
        "EJOURNAL_CIPHER_KEY": None,
        "EJOURNAL_SECRET_KEY": "cli-test-secret-key-that-is-long-enough-for-hs256",
        "EJOURNAL_ARGON2_TIME_COST": "1",
        "EJOURNAL_ARGON2_MEMORY_KIB": "1024",
        "COLUMNS": "400",  # the replayed gradebook is printed as a table: no wrapping
    }


def run(args: list[str], env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(cli, args, env=env or {"COLUMNS": "400"})


def said(result: Result) -> str:
    """The command's messages (stderr), whitespace-normalised: the console wraps at 80."""
    return " ".join(result.stderr.split())


def table_row(output: str, name: str) -> dict[str, str]:
    """The printed gradebook row of `name`, keyed by the table's column headers."""
    lines = output.splitlines()
    headers: list[str] = []
    for line in lines:
        cells = [c.strip() for c in re.split("[│┃]", line)]
        if "ФИО" in cells:
            headers = cells
        elif name in cells:
            assert headers, output
            return dict(zip(headers, cells, strict=True))
    raise AssertionError(f"no row for {name} in:\n{output}")


# --- forging archives ------------------------------------------------------------------------


def rewrite(source: Path, dest: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    """Copy the zip, letting `change` edit its members (by path inside the bag root)."""
    with zipfile.ZipFile(source) as archive:
        infos = archive.infolist()
        members = {i.filename.split("/", 1)[1]: archive.read(i) for i in infos}
    change(members)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        for info in infos:
            out.writestr(info, members[info.filename.split("/", 1)[1]])
    return dest


def flip_byte(data: bytes) -> bytes:
    at = len(data) // 2
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def rehash(members: dict[str, bytes], listing: str, changed: str) -> None:
    """Put the SHA-256 of `changed` into the manifest file `listing`."""
    digest = hashlib.sha256(members[changed]).hexdigest()
    lines = members[listing].decode().splitlines(keepends=True)
    found = [i for i, line in enumerate(lines) if line.rstrip("\n").endswith(f"  {changed}")]
    assert len(found) == 1, (listing, changed)
    lines[found[0]] = f"{digest}  {changed}\n"
    members[listing] = "".join(lines).encode()


def drop_event_and_rehash(members: dict[str, bytes]) -> None:
    """Remove the correction's line from events.jsonl and make every bag hash (and the
    Payload-Oxum) consistent again: only the signatures can tell."""
    lines = members["data/events.jsonl"].splitlines(keepends=True)
    (victim,) = [i for i, line in enumerate(lines) if b"MarkCorrected" in line]
    del lines[victim]
    members["data/events.jsonl"] = b"".join(lines)
    payload = {k: v for k, v in members.items() if k.startswith("data/")}
    oxum = f"{sum(len(v) for v in payload.values())}.{len(payload)}"
    members["bag-info.txt"] = re.sub(
        rb"Payload-Oxum: \S+", f"Payload-Oxum: {oxum}".encode(), members["bag-info.txt"]
    )
    rehash(members, "manifest-sha256.txt", "data/events.jsonl")
    rehash(members, "tagmanifest-sha256.txt", "manifest-sha256.txt")
    rehash(members, "tagmanifest-sha256.txt", "bag-info.txt")


def unzip(archive: Path, into: Path) -> Path:
    with zipfile.ZipFile(archive) as z:
        z.extractall(into)
    root = into / BAG_ROOT
    assert root.is_dir(), list(into.iterdir())
    return root


# --- 1. round trip ------------------------------------------------------------------------


def test_cli_export_verify_replay_and_as_of(
    api: Api, clock: FixedClock, store: dict[str, Any], tmp_path: Path
) -> None:
    closed = close_with_correction(api, clock)
    env = cli_env(store, tmp_path)
    out = tmp_path / "out.zip"

    exported = run(["archive", "export", YEAR, str(out)], env)
    assert exported.exit_code == 0, exported.output
    assert out.is_file() and zipfile.is_zipfile(out)
    assert not out.with_name("out.zip.partial").exists()
    events = closed.manifest["event_count"]
    assert re.search(rf"событий {events}\b", said(exported)), said(exported)

    verified = run(["archive", "verify", str(out)], env)
    assert verified.exit_code == 0, verified.output
    assert "Архив цел" in said(verified), said(verified)
    assert re.search(rf"событий {events}\b", said(verified)), said(verified)

    replayed = run(["archive", "replay", str(out)], env)
    assert replayed.exit_code == 0, replayed.output
    told = said(replayed)
    assert "отчёты совпадают с подписанным манифестом" in told, told
    assert "НЕ совпадает" not in told
    for name in closed.manifest["read_models"]:
        assert f"{name}: совпадает" in told, (name, told)
    assert "корень Меркла: совпадает" in told

    # Between the mark and its correction the page showed 3; now (and at the close) 4.
    between = closed.mark_at + (closed.corrected_at - closed.mark_at) / 2
    # Naive, as typer parses it: read in the organisation's zone (the archive's reference).
    as_of = between.astimezone(ZONE).replace(tzinfo=None).isoformat(timespec="seconds")
    store_file = tmp_path / "replayed.db"
    only_math = ["--group", "g1", "--subject", "math"]
    then = run(
        ["archive", "replay", str(out), "--as-of", as_of, "--store", str(store_file), *only_math],
        env,
    )
    assert then.exit_code == 0, then.output
    assert store_file.is_file()
    row = table_row(then.stdout, S01)
    assert row["Все отметки"] == "3", row
    assert "4" not in row.values(), row
    assert row["Средний балл"] in ("3", "3.0", "3.00"), row
    # The same moment with an explicit UTC offset: the offset wins over the zone.
    aware = run(["archive", "replay", str(out), "--as-of", between.isoformat(), *only_math], env)
    assert aware.exit_code == 0, aware.output
    assert table_row(aware.stdout, S01)["Все отметки"] == "3"

    now = run(["archive", "replay", str(out), *only_math], env)
    assert now.exit_code == 0, now.output
    row = table_row(now.stdout, S01)
    assert row["Все отметки"] == "4", row
    assert row["Средний балл"] in ("4", "4.0", "4.00"), row
    # Only g1's math pages were printed.
    captions = [line for line in now.stdout.splitlines() if " — " in line]
    assert captions and all("Математика" in c for c in captions), captions


# --- 2. verify fails, naming why -----------------------------------------------------------


def pem_of(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def resign(members: dict[str, bytes], key: Ed25519PrivateKey, changed: str) -> None:
    """Make the bag consistent again under another key after `changed` (a payload file) was
    edited: its public key replaces data/public-key.pem and signs the recomputed manifests."""
    members["data/public-key.pem"] = pem_of(key)
    rehash(members, "manifest-sha256.txt", changed)
    rehash(members, "manifest-sha256.txt", "data/public-key.pem")
    members["manifest-sha256.txt.sig"] = key.sign(members["manifest-sha256.txt"])
    rehash(members, "tagmanifest-sha256.txt", "manifest-sha256.txt")
    rehash(members, "tagmanifest-sha256.txt", "manifest-sha256.txt.sig")
    members["tagmanifest-sha256.txt.sig"] = key.sign(members["tagmanifest-sha256.txt"])


def resign_with(key: Ed25519PrivateKey) -> Callable[[dict[str, bytes]], None]:
    """Change a byte of a PDF, then re-sign the bag with another key."""

    def change(members: dict[str, bytes]) -> None:
        pdf = "data/groups/g1/journal.pdf"
        members[pdf] = flip_byte(members[pdf])
        resign(members, key, pdf)

    return change


def test_cli_verify_fails_naming_the_reason(
    api: Api, clock: FixedClock, imported: Services, tmp_path: Path
) -> None:
    close_with_correction(api, clock)
    good = export_here(imported, tmp_path / "good.zip")
    assert run(["archive", "verify", str(good)]).exit_code == 0

    # One byte of the events file.
    def flip_events(members: dict[str, bytes]) -> None:
        members["data/events.jsonl"] = flip_byte(members["data/events.jsonl"])

    flipped = rewrite(good, tmp_path / "flipped.zip", flip_events)
    result = run(["archive", "verify", str(flipped)])
    assert result.exit_code == 1, result.output
    assert "Архив не прошёл проверку" in said(result)
    assert "data/events.jsonl изменён" in said(result)

    # A whole event dropped, every bag hash recomputed: a BagIt validator is satisfied, the
    # signature of manifest-sha256.txt is not.
    dropped = rewrite(good, tmp_path / "dropped.zip", drop_event_and_rehash)
    bagit.Bag(str(unzip(dropped, tmp_path / "dropped"))).validate()
    result = run(["archive", "verify", str(dropped)])
    assert result.exit_code == 1, result.output
    assert "Подпись manifest-sha256.txt неверна" in said(result)
    with pytest.raises(ArchiveInvalid, match=re.escape("Подпись manifest-sha256.txt неверна")):
        verify_archive(dropped)

    # The intact archive against a key that did not sign it.
    stranger = tmp_path / "stranger.pem"
    stranger.write_bytes(pem_of(Ed25519PrivateKey.generate()))
    result = run(["archive", "verify", str(good), "--public-key", str(stranger)])
    assert result.exit_code == 1, result.output
    assert "подписан не тем ключом" in said(result)
    # ... and against the right one it passes.
    own = tmp_path / "own.pem"
    own.write_bytes((unzip(good, tmp_path / "good") / "data" / "public-key.pem").read_bytes())
    assert run(["archive", "verify", str(good), "--public-key", str(own)]).exit_code == 0

    # A PDF changed and the whole bag re-signed with another key: the year manifest (signed at
    # closing) anchors the events, not the PDFs, so a bag signed by a key other than the one
    # that closed the year is refused unless the checker names that key (a rotated key).
    thief = Ed25519PrivateKey.generate()
    resigned = rewrite(good, tmp_path / "resigned.zip", resign_with(thief))
    result = run(["archive", "verify", str(resigned)])
    assert result.exit_code == 1, result.output
    assert "не тем ключом, которым закрыт год" in said(result)
    result = run(["archive", "verify", str(resigned), "--public-key", str(own)])
    assert result.exit_code == 1, result.output
    assert "подписан не тем ключом" in said(result)
    rotated = tmp_path / "rotated.pem"
    rotated.write_bytes(pem_of(thief))
    result = run(["archive", "verify", str(resigned), "--public-key", str(rotated)])
    assert result.exit_code == 0 and "ключ сменён" in said(result), said(result)


# --- 3. the README's standard tools ---------------------------------------------------------


def require_tools(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        reason = f"the README's checks need {', '.join(missing)}, not found on PATH"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)


def readme_commands(readme: str) -> list[str]:
    """The README's shell commands for sha256sum -c and openssl pkeyutl, continuation lines
    joined."""
    joined = re.sub(r"\\\n\s*", "", readme)
    return [
        line.strip()
        for line in joined.splitlines()
        if line.startswith("       ")
        and line.strip().startswith(("sha256sum -c", "openssl pkeyutl"))
    ]


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        shlex.split(command),
        cwd=cwd,
        env={**os.environ, "LC_ALL": "C"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_readme_steps_with_sha256sum_and_openssl(
    api: Api, clock: FixedClock, imported: Services, tmp_path: Path
) -> None:
    require_tools("sha256sum", "openssl")
    close_with_correction(api, clock)
    root = unzip(export_here(imported, tmp_path / "year.zip"), tmp_path / "bag")
    readme = (root / "README.txt").read_text(encoding="utf-8")
    commands = readme_commands(readme)
    sig_check = (
        "openssl pkeyutl -verify -pubin -inkey data/public-key.pem -rawin -in {} -sigfile {}"
    )
    assert sorted(commands) == sorted(
        [
            "sha256sum -c manifest-sha256.txt",
            "sha256sum -c tagmanifest-sha256.txt",
            sig_check.format("manifest-sha256.txt", "manifest-sha256.txt.sig"),
            sig_check.format("tagmanifest-sha256.txt", "tagmanifest-sha256.txt.sig"),
            sig_check.format("data/manifest.json", "data/manifest.json.sig"),
        ]
    ), commands

    for command in commands:
        done = shell(command, root)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        if command.startswith("openssl"):
            assert "Signature Verified Successfully" in done.stdout, (command, done.stdout)
        else:
            assert "FAILED" not in done.stdout and done.stdout.count(": OK") >= 2, done.stdout

    # Step 2: the key's fingerprint, as the README computes it, is the DER key's SHA-256.
    fingerprint = subprocess.run(
        "openssl pkey -pubin -in data/public-key.pem -outform DER | sha256sum",
        shell=True,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()[0]
    assert "openssl pkey -pubin -in data/public-key.pem -outform DER | sha256sum" in readme
    key = serialization.load_pem_public_key((root / "data" / "public-key.pem").read_bytes())
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert fingerprint == hashlib.sha256(der).hexdigest()

    # One changed byte in a payload file: sha256sum names it.
    pdf = root / "data" / "groups" / "g1" / "journal.pdf"
    pdf.write_bytes(flip_byte(pdf.read_bytes()))
    done = shell("sha256sum -c manifest-sha256.txt", root)
    assert done.returncode != 0
    assert "data/groups/g1/journal.pdf: FAILED" in done.stdout, done.stdout


# --- 4. export refuses a store changed after sealing ----------------------------------------


def events_table(services: Services) -> tuple[str, str]:
    if services.db.dialect == "postgresql":
        return "ejournal_events", "notification_id"
    return "stored_events", "rowid"


@pytest.mark.parametrize("change", ["edited", "deleted"])
def test_export_refuses_a_store_changed_after_closing(
    api: Api,
    clock: FixedClock,
    imported: Services,
    store: dict[str, Any],
    tmp_path: Path,
    change: str,
) -> None:
    closed = close_with_correction(api, clock)
    table, key = events_table(imported)
    position = closed.mark_position
    with imported.db.transaction() as cur:
        if change == "edited":
            cur.execute(f"SELECT state FROM {table} WHERE {key} = ?", (position,))
            (state,) = cur.fetchone()
            forged = bytes(state).replace(b'"value":3', b'"value":5')
            assert forged != bytes(state)
            cur.execute(f"UPDATE {table} SET state = ? WHERE {key} = ?", (forged, position))
        else:
            cur.execute(f"DELETE FROM {table} WHERE {key} = ?", (position,))

    dest = tmp_path / "direct" / "year.zip"
    sealed = imported.journal.archives.get(ORG, YEAR)
    assert sealed is not None
    with pytest.raises(ArchiveBroken) as refused:
        export_year(imported.journal, imported.personal, sealed, dest)
    expected = "Корень Меркла" if change == "edited" else "после версии 1 идёт версия 3"
    assert expected in refused.value.detail
    assert list(dest.parent.iterdir()) == []

    out = tmp_path / "cli" / "out.zip"
    result = run(["archive", "export", YEAR, str(out)], cli_env(store, tmp_path))
    assert result.exit_code == 1, result.output
    assert "Архив не создан" in said(result)
    assert expected in said(result), said(result)
    assert not out.exists()
    assert not out.with_name("out.zip.partial").exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


# --- 5. an event in an old schema version ---------------------------------------------------


def test_replay_reproduces_checksums_with_a_v1_event(
    api: Api, clock: FixedClock, imported: Services, tmp_path: Path
) -> None:
    app = imported.journal
    t1 = api.as_user(TEACHER_MATH)
    clock.advance(minutes=10)
    record_mark(api, t1, value=5)  # opens s01's journal
    stream = journal_id(ORG, YEAR, "s01")
    (head,) = app.recorder.select_events(stream, desc=True, limit=1)
    # MarkRecorded as version 1 stored it: no `reason`, no `late`, no `class_version`.
    v1_state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": clock.advance(minutes=1).isoformat()},
        "actor_id": "t1",
        "actor_role": "teacher",
        "mark_id": "m-old",
        "subject_id": "math",
        "lesson_date": {"_type_": "date_iso", "_data_": "2026-09-02"},
        "lesson_no": 2,
        "work_kind": "oral",
        "value": 2,
        "weight": 1,
        "comment": None,
    }
    app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=stream,
                originator_version=head.originator_version + 1,
                topic=get_topic(StudentJournal.MarkRecorded),
                state=json.dumps(v1_state).encode(),
            )
        ]
    )
    assert StudentJournal.MarkRecorded.class_version > 1
    clock.advance(minutes=5)
    r = api.client.post(
        f"/api/v1/years/{YEAR}/close", headers=api.as_user(DEPUTY), json={"reason": "тест"}
    )
    assert r.status_code == 200, r.text

    archive = export_here(imported, tmp_path / "year.zip")
    with zipfile.ZipFile(archive) as z:
        lines = z.read(f"{BAG_ROOT}/data/events.jsonl").splitlines()
    (old,) = [json.loads(line) for line in lines if b"m-old" in line]
    assert "class_version" not in old["state"] and "reason" not in old["state"]

    replayed = replay_archive(archive, tmp_path / "replay.db")
    try:
        assert replayed.ok, replayed.checksums
        assert replayed.merkle_root == r.json()["manifest"]["merkle_root"]
        # The old-shape mark is in s01's math page next to the current-shape one.
        marks = [
            row[table.headers.index("Все отметки")]
            for _, table in replayed.gradebooks(group_id="g1", subject_id="math")
            for row in table.rows
            if row[0] == S01 and row[table.headers.index("Все отметки")]
        ]
        assert marks and all(sorted(m.split()) == ["2", "5"] for m in marks), marks
    finally:
        replayed.close()


def test_archive_verify_rejects_a_file_that_is_not_a_zip(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    result = run(["archive", "verify", str(junk)])
    assert result.exit_code == 1 and "не читается как zip" in said(result)


# --- the printed documents of the archive ---------------------------------------------------


def pdf_text(path: Path) -> str:
    import pypdf

    return " ".join(" ".join(page.extract_text().split()) for page in pypdf.PdfReader(path).pages)


def test_printed_documents_from_marks_without_lessons(
    api: Api, clock: FixedClock, imported: Services, tmp_path: Path
) -> None:
    """Marks and an absence recorded without POST /lessons still get their lesson columns in
    the printed journal; the summary sheet has a column per period and the year, a mean of
    current marks (no attestation) marked and explained."""
    close_with_correction(api, clock)
    root = unzip(export_here(imported, tmp_path / "out.zip"), tmp_path / "bag")
    journal = pdf_text(root / "data" / "groups" / "g1" / "journal.pdf")
    page = journal[journal.index("Математика — 1 семестр") : journal.index("Посещаемость")]
    # The marks' and the absence's day is a column, with their values in it.
    assert "№ ФИО 02.09 Ср. балл Итог" in page, page
    assert f"{S01} 4 4.00" in page, page  # the corrected mark
    assert "Андреева Полина Сергеевна 5 5.00" in page, page
    assert "Баранов Кирилл Дмитриевич н" in page, page
    assert "Даты и темы уроков Дата Тема урока Дата Тема урока 02.09 " in page, page

    sheet = pdf_text(root / "data" / "groups" / "g1" / "summary-sheet.pdf")
    assert "1 семестр 2 семестр Год" in sheet, sheet
    assert sheet.count("Год") == 4, sheet  # a year column under each of the four subjects
    # s01's math: no attestation, the mean of the 1st semester's marks, and so the year's.
    assert f"{S01} 4* 4*" in sheet, sheet
    assert "* — среднее текущих отметок (нет аттестационной отметки)" in sheet, sheet
