"""A BagIt bag (RFC 8493) written straight into a zip, and read back from one.

The bag is the archivists' packaging standard: `bagit.txt`, `bag-info.txt`, the payload under
`data/`, `manifest-sha256.txt` listing every payload file's SHA-256 and `tagmanifest-sha256.txt`
listing the tag files'. Any BagIt validator checks it without our code (tests use the Library
of Congress's `bagit`). We write the bag ourselves rather than with `bagit.make_bag` because
that function changes the process's working directory, which a threaded server cannot allow
(ADR 12); the format is four small text files. Each file's hash is taken while it is written,
so a large payload is read once.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import IO

BAGIT_VERSION = "1.0"
MANIFEST = "manifest-sha256.txt"
TAGMANIFEST = "tagmanifest-sha256.txt"
MANIFEST_SIGNATURE = "manifest-sha256.txt.sig"


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

    def __init__(self, archive: zipfile.ZipFile, root: str) -> None:
        self.zip = archive
        self.root = _safe(root)
        self.payload: dict[str, str] = {}  # "data/..." -> sha256
        self.bytes = 0

    @contextmanager
    def open(self, path: str) -> Iterator[HashingWriter]:
        name = f"data/{_safe(path)}"
        if name in self.payload:
            raise ValueError(f"файл уже есть в пакете: {name}")
        with self.zip.open(f"{self.root}/{name}", "w", force_zip64=True) as raw:
            writer = HashingWriter(raw)
            yield writer
        self.payload[name] = writer.digest.hexdigest()
        self.bytes += writer.size

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
        """Write the tag files; `sign` (bytes → signature) adds a detached signature of the
        payload manifest; `extra` tag files (a README) are listed in the tag manifest too."""
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
        for name, data in tags.items():
            self.zip.writestr(f"{self.root}/{name}", data)
        tagmanifest = "".join(
            f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(tags.items())
        )
        self.zip.writestr(f"{self.root}/{TAGMANIFEST}", tagmanifest.encode())


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
