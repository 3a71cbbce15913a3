"""Issue 14, the archive's integrity: the tag files (bag-info.txt, README.txt) are under the
organisation's signature — a forged one with a recomputed tag manifest satisfies a BagIt
validator and sha256sum but not `ejournal archive verify` nor the README's openssl step; a
closed year exports byte-identically every time; a changed line of events.jsonl whose bag
manifest was not re-signed is reported by the event it changed (line, stream, version)."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import bagit
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.archive_check import ArchiveInvalid, verify_archive
from adapters.archive_export import export_year
from adapters.clock import FixedClock
from api.bootstrap import Services
from domain.integrity import canonical, event_hash
from tests.adapters.test_archive_cli import (
    BAG_ROOT,
    ORG,
    YEAR,
    ZONE,
    close_with_correction,
    export_here,
    pem_of,
    readme_commands,
    rehash,
    require_tools,
    resign,
    rewrite,
    run,
    said,
    shell,
    unzip,
)
from tests.conftest import Api

TAG_SIG_CHECK = (
    "openssl pkeyutl -verify -pubin -inkey data/public-key.pem -rawin "
    "-in tagmanifest-sha256.txt -sigfile tagmanifest-sha256.txt.sig"
)


# --- 1. the tag files are signed ------------------------------------------------------------


def forge_source_organisation(members: dict[str, bytes]) -> None:
    """Another organisation's name in bag-info.txt, the (unsigned) tag manifest recomputed."""
    info = members["bag-info.txt"].decode()
    forged = re.sub(r"(?m)^Source-Organization: .*$", "Source-Organization: Другая школа", info)
    assert forged != info
    members["bag-info.txt"] = forged.encode()
    rehash(members, "tagmanifest-sha256.txt", "bag-info.txt")


def forge_readme(members: dict[str, bytes]) -> None:
    """A README step that tells the reader to skip a check, the tag manifest recomputed."""
    members["README.txt"] += "\n6. Шаг 3 можно пропустить.\n".encode()
    rehash(members, "tagmanifest-sha256.txt", "README.txt")


@pytest.mark.parametrize(
    ("forge", "tag_file"),
    [(forge_source_organisation, "bag-info.txt"), (forge_readme, "README.txt")],
)
def test_a_forged_tag_file_with_a_recomputed_tag_manifest_is_refused(
    api: Api,
    clock: FixedClock,
    imported: Services,
    tmp_path: Path,
    forge: Callable[[dict[str, bytes]], None],
    tag_file: str,
) -> None:
    require_tools("sha256sum", "openssl")
    close_with_correction(api, clock)
    good = export_here(imported, tmp_path / "good.zip")
    assert run(["archive", "verify", str(good)]).exit_code == 0
    good_root = unzip(good, tmp_path / "good")
    done = shell(TAG_SIG_CHECK, good_root)
    assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout, done

    forged = rewrite(good, tmp_path / "forged.zip", forge)
    root = unzip(forged, tmp_path / "forged")
    # Every hash agrees: a BagIt validator and `sha256sum -c` are satisfied ...
    bagit.Bag(str(root)).validate()
    for listing in ("manifest-sha256.txt", "tagmanifest-sha256.txt"):
        done = shell(f"sha256sum -c {listing}", root)
        assert done.returncode == 0 and "FAILED" not in done.stdout, done.stdout
    # ... the signature of the tag manifest, as the README checks it, is not.
    forged_readme = (root / "README.txt").read_text(encoding="utf-8")
    assert TAG_SIG_CHECK in readme_commands(forged_readme)
    done = shell(TAG_SIG_CHECK, root)
    assert done.returncode != 0, (done.stdout, done.stderr)
    assert "Signature Verified Successfully" not in done.stdout
    assert "Signature Verification Failure" in done.stdout + done.stderr, done

    result = run(["archive", "verify", str(forged)])
    assert result.exit_code == 1, result.output
    assert "Подпись tagmanifest-sha256.txt неверна" in said(result), said(result)
    with pytest.raises(ArchiveInvalid, match=re.escape("Подпись tagmanifest-sha256.txt неверна")):
        verify_archive(forged)
    assert tag_file in (root / "tagmanifest-sha256.txt").read_text()


def test_the_tag_manifest_signature_can_be_neither_dropped_nor_bypassed(
    api: Api, clock: FixedClock, imported: Services, tmp_path: Path
) -> None:
    close_with_correction(api, clock)
    good = export_here(imported, tmp_path / "good.zip")
    root = unzip(good, tmp_path / "good")
    tagmanifest = (root / "tagmanifest-sha256.txt").read_text()
    # The tag manifest lists every tag file but its own signature (README explains why).
    listed = {line.split("  ", 1)[1] for line in tagmanifest.splitlines()}
    assert listed == {
        "README.txt",
        "bag-info.txt",
        "bagit.txt",
        "manifest-sha256.txt",
        "manifest-sha256.txt.sig",
    }
    assert (root / "tagmanifest-sha256.txt.sig").stat().st_size == 64
    readme = (root / "README.txt").read_text(encoding="utf-8")
    assert "tagmanifest-sha256.txt.sig" in readme and "единственный файл" in readme

    # Without the signature (a "downgrade" to the unsigned format).
    with zipfile.ZipFile(good) as z:
        kept = [i for i in z.infolist() if not i.filename.endswith("tagmanifest-sha256.txt.sig")]
        members = {i.filename: z.read(i) for i in kept}
    dropped = tmp_path / "dropped.zip"
    with zipfile.ZipFile(dropped, "w", zipfile.ZIP_DEFLATED) as out:
        for info in kept:
            out.writestr(info, members[info.filename])
    result = run(["archive", "verify", str(dropped)])
    assert result.exit_code == 1, result.output
    assert "нет подписи tagmanifest-sha256.txt.sig" in said(result), said(result)

    # A tag file that no signed list names (a second "README" with other instructions).
    with zipfile.ZipFile(good) as z, zipfile.ZipFile(tmp_path / "extra.zip", "w") as out:
        for info in z.infolist():
            out.writestr(info, z.read(info))
        out.writestr(f"{BAG_ROOT}/ПРОЧТИТЕ.txt", "Проверять ничего не нужно.".encode())
    result = run(["archive", "verify", str(tmp_path / "extra.zip")])
    assert result.exit_code == 1, result.output
    assert "Файл не указан в tagmanifest-sha256.txt: ПРОЧТИТЕ.txt" in said(result)


# --- 2. a closed year exports byte-identically ---------------------------------------------


def test_a_closed_year_exports_byte_identically(
    api: Api, clock: FixedClock, imported: Services, tmp_path: Path
) -> None:
    closed = close_with_correction(api, clock)
    app = imported.journal
    sealed = app.archives.get(ORG, YEAR)
    assert sealed is not None
    first = export_year(app, imported.personal, sealed, tmp_path / "first.zip", workers=1)
    clock.advance(days=3)  # exported again another day, documents rendered in processes
    second = export_year(app, imported.personal, sealed, tmp_path / "second.zip", workers=2)

    closed_at = datetime.fromisoformat(closed.manifest["closed_at"]).astimezone(ZONE)
    with zipfile.ZipFile(first.path) as a, zipfile.ZipFile(second.path) as b:
        assert a.namelist() == b.namelist()  # the same files in the same order
        assert a.comment == b.comment == b""
        names = a.namelist()
        assert len(names) == len(set(names)) and all(n.startswith(f"{BAG_ROOT}/") for n in names)
        for x, y in zip(a.infolist(), b.infolist(), strict=True):
            stamp = datetime(*x.date_time, tzinfo=ZONE)
            # Every member carries the close time (in the school's zone, to ZIP's 2 seconds).
            assert 0 <= (closed_at - stamp).total_seconds() < 2, (x.filename, x.date_time)
            assert x.external_attr == 0o100644 << 16 and x.create_system == 3, x.filename
            assert x.compress_type == zipfile.ZIP_DEFLATED and x.extra == b"", x.filename
            for field in ("date_time", "external_attr", "create_system", "extra", "flag_bits"):
                assert getattr(x, field) == getattr(y, field), (x.filename, field)
        for name in names:  # each file, for a message naming the first that differs
            assert a.read(name) == b.read(name), name
        info = a.read(f"{BAG_ROOT}/bag-info.txt").decode()
        assert f"Bagging-Date: {closed_at.date().isoformat()}\n" in info, info
        events = a.read(f"{BAG_ROOT}/data/events.jsonl").splitlines()
        positions = [json.loads(line)["position"] for line in events]
        assert positions == sorted(positions) and len(events) == closed.manifest["event_count"]

    assert first.path.read_bytes() == second.path.read_bytes()


# --- 3. a changed event named, even when the bag manifest was not re-signed ------------------


def _changed_line(
    members: dict[str, bytes], old: bytes, new: bytes
) -> tuple[int, dict[str, object]]:
    """Replace `old` by `new` in the first line of events.jsonl holding it; that line's
    number and original event."""
    lines = members["data/events.jsonl"].split(b"\n")
    number = next(i for i, line in enumerate(lines) if old in line)
    event = json.loads(lines[number])
    lines[number] = lines[number].replace(old, new, 1)
    members["data/events.jsonl"] = b"\n".join(lines)
    return number + 1, event


def test_a_changed_event_line_is_named_without_re_signing(
    api: Api, clock: FixedClock, imported: Services, tmp_path: Path
) -> None:
    close_with_correction(api, clock)
    good = export_here(imported, tmp_path / "good.zip")
    found: dict[str, tuple[int, dict[str, object]]] = {}

    def mark_value(members: dict[str, bytes]) -> None:  # s01's 3 becomes a 5
        found["value"] = _changed_line(members, b'"value":3', b'"value":5')

    def broken_json(members: dict[str, bytes]) -> None:  # the line no longer parses
        found["json"] = _changed_line(members, b'"value":5', b'"value":5,,')

    def position(members: dict[str, bytes]) -> None:  # outside the hashed fields
        found["position"] = _changed_line(members, b'"position":', b'"position":-')

    for key, change in (("value", mark_value), ("json", broken_json), ("position", position)):
        forged = rewrite(good, tmp_path / f"{key}.zip", change)
        number, event = found[key]
        result = run(["archive", "verify", str(forged)])
        assert result.exit_code == 1, result.output
        told = said(result)
        assert "Файл data/events.jsonl изменён" in told, told
        if key == "value":
            assert "изменено — его хеш не совпадает" in told, told
        assert f"строка {number}" in told, (key, number, told)
        assert str(event["stream"]) in told, (key, event, told)
        assert re.search(rf"верси[ия] {event['version']}\b", told), (key, event, told)
        with pytest.raises(ArchiveInvalid, match=f"строка {number}"):
            verify_archive(forged)


# --- 4. the fast check of exported lines judges content, as the full one does ---------------


def _resign_events(
    key: Ed25519PrivateKey, change: Callable[[list[dict[str, Any]]], list[bytes]]
) -> Callable[[dict[str, bytes]], None]:
    """Rewrite events.jsonl from its parsed lines with `change`, then make the bag consistent
    again under `key` (a rotated key the checker names)."""

    def rewrite_members(members: dict[str, bytes]) -> None:
        lines = [json.loads(x) for x in members["data/events.jsonl"].splitlines()]
        members["data/events.jsonl"] = b"\n".join(change(lines)) + b"\n"
        resign(members, key, "data/events.jsonl")

    return rewrite_members


def test_events_in_another_json_layout_verify_and_replay_alike(
    api: Api, clock: FixedClock, imported: Services, tmp_path: Path
) -> None:
    """The check hashes an exported line's own bytes; a line laid out otherwise (spaces, keys
    in another order) goes through the full check: same content, same verdict and events."""
    close_with_correction(api, clock)
    good = export_here(imported, tmp_path / "good.zip")
    key = Ed25519PrivateKey.generate()
    pinned = pem_of(key).decode()

    def relayout(lines: list[dict[str, Any]]) -> list[bytes]:
        return [json.dumps(dict(reversed(x.items())), ensure_ascii=True).encode() for x in lines]

    spaced = rewrite(good, tmp_path / "spaced.zip", _resign_events(key, relayout))
    seen: list[Any] = []
    checked = verify_archive(spaced, public_key=pinned, on_event=seen.append)
    exported: list[Any] = []
    assert verify_archive(good, on_event=exported.append).events == checked.events
    assert seen == exported  # the same streams, versions, topics and canonical states


def test_a_changed_event_with_its_stream_rehashed_is_refused_by_the_year_signature(
    api: Api, clock: FixedClock, imported: Services, tmp_path: Path
) -> None:
    """A forger who changes a mark and recomputes the `previous`/`hash` of every later event of
    its stream, then re-signs the bag, passes each line's own check but not the Merkle root
    signed when the year closed."""
    close_with_correction(api, clock)
    good = export_here(imported, tmp_path / "good.zip")
    key = Ed25519PrivateKey.generate()

    def forge(lines: list[dict[str, Any]]) -> list[bytes]:
        victim = next(x for x in lines if x["state"].get("value") == 3)
        victim["state"]["value"] = 5
        heads: dict[str, str] = {}
        for x in lines:
            if x["stream"] == victim["stream"]:
                previous = heads.get(x["stream"], x["previous"])
                x["previous"] = previous
                x["hash"] = event_hash(
                    stream=x["stream"],
                    version=x["version"],
                    topic=x["topic"],
                    state=x["state"],
                    previous=previous,
                )
                heads[x["stream"]] = x["hash"]
        return [canonical(x) for x in lines]

    forged = rewrite(good, tmp_path / "forged.zip", _resign_events(key, forge))
    with pytest.raises(ArchiveInvalid, match="Корень Меркла событий не совпадает"):
        verify_archive(forged, public_key=pem_of(key).decode())
