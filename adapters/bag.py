"""A BagIt bag (RFC 8493) written straight into a zip, and read back from one.

The bag is the archivists' packaging standard: `bagit.txt`, `bag-info.txt`, the payload under
`data/`, `manifest-sha256.txt` listing every payload file's SHA-256 and `tagmanifest-sha256.txt`
listing the tag files'. Any BagIt validator checks it without our code (tests use the Library
of Congress's `bagit`). We write the bag ourselves rather than with `bagit.make_bag` because
that function changes the process's working directory, which a threaded server cannot allow
(ADR 12); the format is four small text files. Each file's hash is taken while it is written,
so a large payload is read once.

The tag manifest is signed too (`tagmanifest-sha256.txt.sig`, beside the payload manifest's
signature), so `bag-info.txt` and `README.txt` are covered by the organisation's key; the
signature of the tag manifest is the one file it cannot list.

The zip is reproducible: a closed year exports byte-identically every time. Every member has
the same fixed time (the year's close time, in the organisation's zone), regular-file
permissions 0644 from a Unix host, the same compression, and no extra fields other than the
ZIP64 sizes of a streamed member (a function of its size); tag files are written in name order
after the payload, which comes in the order the caller adds it.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import IO

BAGIT_VERSION = "1.0"
MANIFEST = "manifest-sha256.txt"
TAGMANIFEST = "tagmanifest-sha256.txt"
MANIFEST_SIGNATURE = "manifest-sha256.txt.sig"
TAGMANIFEST_SIGNATURE = "tagmanifest-sha256.txt.sig"

DateTime = tuple[int, int, int, int, int, int]
_UNIX = 3  # ZipInfo.create_system: the permissions below are Unix mode bits
_REGULAR_FILE = 0o100644 << 16


class HashingWriter:
    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.raw.write(data)
        self.digest.update(data)
        self.size += len(data)


def _safe(path: str) -> str:
    bad = any(c in path for c in "\r\n%\\")
    if not path or path.startswith("/") or ".." in path.split("/") or bad:
        raise ValueError(f"недопустимое имя файла в пакете: {path!r}")
    return path


class BagWriter:
    """Payload files go under `<root>/data/`; `finish` writes the tag files."""

    def __init__(self, archive: zipfile.ZipFile, root: str, stamp: datetime) -> None:
        """`stamp`: the local date and time every member carries (a closed year's close time
        in the organisation's zone), so that exporting twice gives the same bytes."""
        self.zip = archive
        self.root = _safe(root)
        self.date_time: DateTime = _dos_time(stamp)
        self.payload: dict[str, str] = {}  # "data/..." -> sha256
        self.bytes = 0

    @contextmanager
    def open(self, path: str) -> Iterator[HashingWriter]:
        name = f"data/{_safe(path)}"
        if name in self.payload:
            raise ValueError(f"файл уже есть в пакете: {name}")
        with self.zip.open(self._member(name), "w", force_zip64=True) as raw:
            writer = HashingWriter(raw)
            yield writer
        self.payload[name] = writer.digest.hexdigest()
        self.bytes += writer.size

    def _member(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(f"{self.root}/{name}", date_time=self.date_time)
        info.compress_type = self.zip.compression
        # The zip's level (`compress_level` from Python 3.13; the old name still works there).
        info._compresslevel = self.zip.compresslevel  # type: ignore[attr-defined]
        info.create_system = _UNIX
        info.external_attr = _REGULAR_FILE
        return info

    def add(self, path: str, data: bytes) -> None:
        with self.open(path) as out:
            out.write(data)

    def finish(
        self,
        info: dict[str, str],
        bagged_on: date,
        sign: Callable[[bytes], bytes] | None = None,
        extra: dict[str, bytes] | None = None,
    ) -> None:
        """Write the tag files; `sign` (bytes → signature) adds detached signatures of the
        payload manifest and of the tag manifest; `extra` tag files (a README) are listed in
        the tag manifest too."""
        tags: dict[str, bytes] = {
            **(extra or {}),
            "bagit.txt": (
                f"BagIt-Version: {BAGIT_VERSION}\nTag-File-Character-Encoding: UTF-8\n"
            ).encode(),
        }
        fields = {
            **info,
            "Bagging-Date": bagged_on.isoformat(),
            "Payload-Oxum": f"{self.bytes}.{len(self.payload)}",
        }
        tags["bag-info.txt"] = "".join(f"{k}: {_one_line(v)}\n" for k, v in fields.items()).encode()
        manifest = "".join(f"{h}  {p}\n" for p, h in sorted(self.payload.items())).encode()
        tags[MANIFEST] = manifest
        if sign is not None:
            tags[MANIFEST_SIGNATURE] = sign(manifest)
        tagmanifest = "".join(
            f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(tags.items())
        ).encode()
        tags[TAGMANIFEST] = tagmanifest
        if sign is not None:
            tags[TAGMANIFEST_SIGNATURE] = sign(tagmanifest)  # listed nowhere: it signs the list
        for name, data in sorted(tags.items()):
            self.zip.writestr(self._member(name), data)


def _dos_time(stamp: datetime) -> DateTime:
    """A zip member's time: local, no zone, even seconds, not before 1980."""
    if stamp.year < 1980:
        raise ValueError(f"время файлов zip не может быть раньше 1980 года: {stamp}")
    return (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second // 2 * 2)


def _one_line(value: str) -> str:
    return " ".join(value.split())


def read_manifest(text: str) -> dict[str, str]:
    """`sha256  path` lines → {path: sha256}."""
    found = {}
    for line in text.splitlines():
        if line.strip():
            digest, _, path = line.partition(" ")
            found[path.strip()] = digest.strip().lower()
    return found
