"""`ejournal archive verify`: check an exported year offline, with no database — every file's
SHA-256 against the bag's manifests, no file outside them, the Ed25519 signatures (of both bag
manifests and of the year manifest), and every event's chained hash, the stream heads, the
event count and the Merkle root against the signed year manifest."""

from __future__ import annotations

import hashlib
import json
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization

from adapters.archive import (
    EVENTS,
    MANIFEST,
    MANIFEST_SIG,
    PUBLIC_KEY,
    REFERENCE,
    ed25519_verifies,
)
from adapters.bag import MANIFEST as BAG_MANIFEST
from adapters.bag import (
    MANIFEST_SIGNATURE,
    TAGMANIFEST,
    TAGMANIFEST_SIGNATURE,
    read_manifest,
)
from domain.integrity import ChainBroken, ChainWalk, canonical, event_hash_of_canonical

Progress = Callable[[str, int, int], None]


def fingerprint(pem: str) -> str:
    """SHA-256 of the public key's DER form, as `openssl pkey -pubin -outform DER | sha256sum`
    prints it."""
    key = serialization.load_pem_public_key(pem.encode())
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


class ArchiveInvalid(Exception):
    """The archive fails a check; the message says which and where (in Russian)."""


@dataclass
class CheckedArchive:
    manifest: dict[str, Any]
    reference: dict[str, Any]
    events: int
    files: int
    public_key: str
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def _quiet(_stage: str, _done: int, _total: int) -> None:
    return None


class BagReader:
    """The bag inside a zip: its single top-level folder and the files under it."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.zip = archive
        names = [n for n in archive.namelist() if not n.endswith("/")]
        roots = {n.split("/", 1)[0] for n in names}
        if len(roots) != 1 or any("/" not in n for n in names):
            raise ArchiveInvalid("В архиве должна быть ровно одна папка — пакет BagIt")
        self.root = roots.pop()
        self.files = {n.split("/", 1)[1] for n in names}

    def read(self, name: str) -> bytes:
        if name not in self.files:
            raise ArchiveInvalid(f"В пакете нет файла {name}")
        return self.zip.read(f"{self.root}/{name}")

    def lines(self, name: str, digest: Any = None) -> Iterator[bytes]:
        """The file's lines; `digest` (a hashlib object), if given, sees every byte."""
        rest = b""
        with self.zip.open(f"{self.root}/{name}") as raw:
            while chunk := raw.read(1 << 20):
                if digest is not None:
                    digest.update(chunk)
                parts = (rest + chunk).split(b"\n")
                rest = parts.pop()
                yield from parts
        if rest:
            yield rest

    def sha256(self, name: str) -> str:
        digest = hashlib.sha256()
        with self.zip.open(f"{self.root}/{name}") as raw:
            while chunk := raw.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()


def verify_archive(
    path: Any,
    *,
    public_key: str | None = None,
    progress: Progress = _quiet,
    on_event: Callable[[ArchivedEvent], None] | None = None,
) -> CheckedArchive:
    """Raise ArchiveInvalid with the first failure; `public_key` (PEM) pins the signer.
    `on_event` sees each event line once its chain is checked (a replay loads them in the
    same pass); it is only trustworthy if the whole call returns."""
    started = time.perf_counter()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as e:
        raise ArchiveInvalid(f"Файл не читается как zip: {e}") from None
    with archive:
        bag = BagReader(archive)
        try:
            checked = _verify(bag, public_key, progress, on_event)
        except (zipfile.BadZipFile, OSError, EOFError) as e:  # a damaged member (CRC, inflate)
            raise ArchiveInvalid(f"Архив повреждён: {e}") from None
    checked.seconds = time.perf_counter() - started
    return checked


def _verify(
    bag: BagReader,
    pinned: str | None,
    progress: Progress,
    on_event: Callable[[ArchivedEvent], None] | None,
) -> CheckedArchive:
    if not bag.read("bagit.txt").startswith(b"BagIt-Version: "):
        raise ArchiveInvalid("bagit.txt не описывает пакет BagIt")
    manifest_bytes = bag.read(BAG_MANIFEST)
    payload = read_manifest(manifest_bytes.decode("utf-8"))
    tagmanifest_bytes = bag.read(TAGMANIFEST)
    tags = read_manifest(tagmanifest_bytes.decode("utf-8"))
    if TAGMANIFEST_SIGNATURE not in bag.files:
        raise ArchiveInvalid(
            f"В пакете нет подписи {TAGMANIFEST_SIGNATURE}: без неё bag-info.txt и README.txt "
            "ничем не подтверждены (архив выгружен старой версией программы — выгрузите год "
            "заново)"
        )
    present = {f for f in bag.files if f.startswith("data/")}
    if missing := sorted(set(payload) - present):
        raise ArchiveInvalid(f"Нет файла, указанного в {BAG_MANIFEST}: {missing[0]}")
    if extra := sorted(present - set(payload)):
        raise ArchiveInvalid(f"Файл не указан в {BAG_MANIFEST}: {extra[0]}")
    unsigned = bag.files - present - set(tags) - {TAGMANIFEST, TAGMANIFEST_SIGNATURE}
    if unsigned:
        raise ArchiveInvalid(f"Файл не указан в {TAGMANIFEST}: {sorted(unsigned)[0]}")
    events_file = f"data/{EVENTS}"
    if events_file not in payload:
        raise ArchiveInvalid(f"В пакете нет файла {events_file}")
    for done, (name, expected) in enumerate(sorted({**tags, **payload}.items()), start=1):
        if name not in bag.files:
            raise ArchiveInvalid(f"Нет файла, указанного в {TAGMANIFEST}: {name}")
        if name == events_file:
            continue  # hashed below, in the same pass that checks its events
        if bag.sha256(name) != expected:
            raise ArchiveInvalid(f"Файл {name} изменён: SHA-256 не совпадает с манифестом пакета")
        progress("хеши файлов", done, len(tags) + len(payload))
    key_pem = bag.read(f"data/{PUBLIC_KEY}").decode()
    if pinned is not None and _raw(pinned) != _raw(key_pem):
        raise ArchiveInvalid("Архив подписан не тем ключом, который указан для проверки")
    if not ed25519_verifies(key_pem, bag.read(MANIFEST_SIGNATURE), manifest_bytes):
        raise ArchiveInvalid(f"Подпись {BAG_MANIFEST} неверна")
    if not ed25519_verifies(key_pem, bag.read(TAGMANIFEST_SIGNATURE), tagmanifest_bytes):
        raise ArchiveInvalid(
            f"Подпись {TAGMANIFEST} неверна: служебные файлы пакета (bag-info.txt, README.txt) "
            "изменены после выгрузки"
        )
    manifest_raw = bag.read(f"data/{MANIFEST}")
    manifest = json.loads(manifest_raw)
    if canonical(manifest) != manifest_raw:
        raise ArchiveInvalid("manifest.json не в каноническом виде")
    signature = bag.read(f"data/{MANIFEST_SIG}")
    if not ed25519_verifies(manifest.get("public_key", ""), signature, manifest_raw):
        raise ArchiveInvalid("Подпись манифеста года неверна")
    notes = []
    if _raw(manifest["public_key"]) != _raw(key_pem):
        # A rotated key is legitimate only when the person checking names it: otherwise anyone
        # could re-sign changed reports with a key of their own.
        if pinned is None:
            raise ArchiveInvalid(
                "Архив подписан не тем ключом, которым закрыт год; если ключ организации "
                "сменён, укажите новый открытый ключ для сверки (--public-key)"
            )
        notes.append("год закрыт одним ключом, архив подписан другим (ключ сменён)")
    events = _verify_events(bag, manifest, payload[events_file], progress, on_event)
    reference = json.loads(bag.read(f"data/{REFERENCE}"))
    return CheckedArchive(manifest, reference, events, len(payload), key_pem, notes=notes)


@dataclass(frozen=True, slots=True)
class ArchivedEvent:
    """One event of events.jsonl whose chain is checked: `state` is its canonical JSON and
    `hash` its chained hash."""

    stream: str
    version: int
    topic: str
    state: bytes
    hash: str


# A line as exported: canonical JSON, keys in order hash, position, previous, state, stream,
# topic, version. The state object lies between the two patterns: the stream key after it is
# the line's last `,"stream":"` (inside the state it could only come earlier).
_HEAD = re.compile(
    rb'\{"hash":"([0-9a-f]{64})","position":[1-9][0-9]*,"previous":"([0-9a-f]{64})","state":'
)
_TAIL = re.compile(
    rb',"stream":"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",'
    rb'"topic":("[^"\\\x00-\x1f]*"),"version":([1-9][0-9]*)\}'
)
_STREAM_KEY = b',"stream":"'


def _checked_as_exported(raw: bytes, walk: ChainWalk) -> ArchivedEvent | None:
    """The event of a line in the exported form, its hash computed over the line's own bytes
    (no parsing, no re-serialising), when it continues its chain with the hash the line
    states; None, with `walk` unchanged, for any other line (the full check then decides).

    Sound because what is hashed is exactly `event_hash`'s canonical record, and the digests
    end in the Merkle root that the year's signature covers."""
    head = _HEAD.match(raw)
    if head is None:
        return None
    cut = raw.rfind(_STREAM_KEY)
    tail = _TAIL.fullmatch(raw, cut) if cut > head.end() else None
    if tail is None:
        return None
    stream, version = tail[1].decode(), int(tail[3])
    try:
        previous = walk.previous(stream, version)
    except ChainBroken:
        return None
    if head[2] != previous.encode():
        return None
    state = raw[head.end() : cut]
    digest = event_hash_of_canonical(
        stream=tail[1], version=tail[3], topic=tail[2], state=state, previous=head[2]
    )
    if digest.encode() != head[1]:
        return None
    walk.accept(stream, version, digest)
    return ArchivedEvent(stream, version, tail[2][1:-1].decode(), state, digest)


def _checked_in_full(number: int, raw: bytes, walk: ChainWalk) -> ArchivedEvent | str:
    """The event of any line, parsed and its record re-serialised; or why it fails."""
    try:
        line = json.loads(raw)
        previous, event_digest = walk.next(
            stream=line["stream"],
            version=line["version"],
            topic=line["topic"],
            state=line["state"],
        )
    except ChainBroken as e:
        return f"{EVENTS}, строка {number}: {e}"
    except (ValueError, KeyError, TypeError) as e:
        return f"{EVENTS}, строка {number}{_which(raw)} не читается: {e}"
    if line.get("previous") != previous or line.get("hash") != event_digest:
        return (
            f"{EVENTS}, строка {number}: событие {line['stream']} версии {line['version']} "
            "изменено — его хеш не совпадает"
        )
    return ArchivedEvent(
        line["stream"], line["version"], line["topic"], canonical(line["state"]), event_digest
    )


def _verify_events(
    bag: BagReader,
    manifest: dict[str, Any],
    expected: str,
    progress: Progress,
    on_event: Callable[[ArchivedEvent], None] | None,
) -> int:
    """One pass over events.jsonl: its SHA-256 and every event's chain. A changed file is
    reported as such even when a line broke first, so the file is read to the end, and the
    report names the first changed event (line, stream, version) when the chain shows it."""
    walk = ChainWalk()
    total = int(manifest["event_count"])
    count = 0
    digest = hashlib.sha256()
    broken: str | None = None
    for number, raw in enumerate(bag.lines(f"data/{EVENTS}", digest), start=1):
        if broken is not None:
            continue
        event = _checked_as_exported(raw, walk) or _checked_in_full(number, raw, walk)
        if isinstance(event, str):
            broken = event
            continue
        if on_event is not None:
            on_event(event)
        count += 1
        if count % 20000 == 0:
            progress("события", count, total)
    progress("события", count, total)
    problem = broken
    if problem is None and count != total:
        problem = f"Событий {count}, а в манифесте года {total}"
    if problem is None and walk.stream_heads() != manifest["stream_heads"]:
        problem = "Головы потоков не совпадают с манифестом года"
    if problem is None and walk.root() != manifest["merkle_root"]:
        problem = "Корень Меркла событий не совпадает с манифестом года"
    if digest.hexdigest() != expected:
        changed = f"Файл data/{EVENTS} изменён: SHA-256 не совпадает с манифестом пакета"
        where = problem or _first_noncanonical_line(bag)
        raise ArchiveInvalid(f"{changed}; {_lower_first(where)}" if where else changed)
    if problem is not None:
        raise ArchiveInvalid(problem)
    return count


def _which(raw: bytes) -> str:
    """` (поток S, версия V)` from a line that is no longer JSON, when those fields still read."""
    # The last match: the event's own fields come after `state` in canonical (sorted) order.
    streams = re.findall(rb'"stream":"([0-9a-fA-F-]{36})"', raw)
    versions = re.findall(rb'"version":(\d+)', raw)
    if not streams or not versions:
        return ""
    return f" (поток {streams[-1].decode()}, версия {int(versions[-1])})"


def _first_noncanonical_line(bag: BagReader) -> str | None:
    """When every event's chain holds but the file's hash does not, the change is outside the
    hashed fields (a `position`, spacing, line ends): the first line not as exported."""
    position = 0
    for number, raw in enumerate(bag.lines(f"data/{EVENTS}"), start=1):
        try:
            line = json.loads(raw)
        except ValueError:
            return f"{EVENTS}, строка {number}{_which(raw)} не читается"
        where = f"{EVENTS}, строка {number}: событие {line['stream']} версии {line['version']}"
        if canonical(line) != raw:
            return f"{where} записано не в каноническом виде"
        if not isinstance(line.get("position"), int) or line["position"] <= position:
            return f"{where}: номер в журнале (position) изменён"
        position = line["position"]
    return None


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _raw(pem: str) -> bytes:
    key = serialization.load_pem_public_key(pem.encode())
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
