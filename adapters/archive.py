"""Signed year snapshots (R-ARC-5): the manifest of a closed year — its streams and heads, the
Merkle root of its events, a checksum of each read model — signed with the organisation's
Ed25519 key, whose public half travels in the manifest."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from adapters.sql import Database
from domain.integrity import canonical, merkle_root

# The year archive's own files in the bag's payload (data/), named here so that checking an
# archive needs none of the modules that make one (PDF, spreadsheets).
EVENTS = "events.jsonl"
REFERENCE = "reference.json"
MANIFEST = "manifest.json"
MANIFEST_SIG = "manifest.json.sig"
PUBLIC_KEY = "public-key.pem"

READ_MODEL_TABLES = {
    "marks": ("rm_marks", "mark_id, seq"),
    "absences": ("rm_absences", "absence_id, seq"),
    "attestations": ("rm_attestations", "attestation_id, seq"),
    "lessons": ("rm_lessons", "lesson_id, seq"),
    "memberships": ("rm_memberships", "group_id, student_id, seq"),
}


def software_version() -> str:
    try:
        return version("ejournal")
    except PackageNotFoundError:
        return "unknown"


class SigningKey:
    """The Ed25519 private key in a PEM file (mode 0600), outside the database."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        return self.path.exists()

    def create(self) -> str:
        if self.path.exists():
            raise FileExistsError(str(self.path))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.path.write_bytes(pem)
        self.path.chmod(0o600)
        return public_pem(key.public_key())

    def load(self) -> Ed25519PrivateKey:
        key = serialization.load_pem_private_key(self.path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        return key


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def sign(manifest: dict[str, Any], key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.sign(canonical(manifest))).decode()


def ed25519_verifies(public_key: str, signature: bytes, data: bytes) -> bool:
    """Does `signature` sign `data` under the Ed25519 public key (PEM)?"""
    try:
        public = serialization.load_pem_public_key(public_key.encode())
        if not isinstance(public, Ed25519PublicKey):
            return False
        public.verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def signature_valid(manifest: dict[str, Any], signature: str) -> bool:
    """Check a manifest against the public key it carries."""
    try:
        return ed25519_verifies(
            manifest["public_key"], base64.b64decode(signature), canonical(manifest)
        )
    except (KeyError, ValueError):
        return False


def _row_json(values: list[str | None]) -> bytes:
    """`canonical()` of a row's texts; orjson writes a list of strings exactly as it does
    (UTF-8, the same escapes), several times faster. A text orjson refuses (a lone
    surrogate) goes to `canonical()`."""
    try:
        return orjson.dumps(values)
    except orjson.JSONEncodeError:
        return canonical(values)


def read_model_checksums(db: Database, org_id: str, year_id: str) -> dict[str, str]:
    """SHA-256 of each read model's rows of the year, in key order, as canonical JSON."""
    sums = {}
    with db.read() as cur:
        for name, (table, order) in READ_MODEL_TABLES.items():
            cur.execute(
                f"SELECT * FROM {table} WHERE org_id = ? AND year_id = ? ORDER BY {order}",
                (org_id, year_id),
            )
            digest = hashlib.sha256()
            for row in cur.fetchall():
                digest.update(_row_json([None if v is None else str(v) for v in row]))
                digest.update(b"\n")
            sums[name] = digest.hexdigest()
    return sums


@dataclass(frozen=True)
class SealedYear:
    manifest: dict[str, Any]
    signature: str


def build_manifest(
    db: Database,
    *,
    org_id: str,
    year_id: str,
    closed_at: datetime,
    closed_by: str,
    heads: dict[str, int],
    public_key: str,
    close_reason: str | None = None,
) -> dict[str, Any]:
    streams = sorted(heads)
    with db.read() as cur:
        marks = ", ".join("?" for _ in streams) or "NULL"
        cur.execute(
            f"SELECT hash FROM event_hashes WHERE stream_id IN ({marks}) ORDER BY position", streams
        )
        leaves = [bytes.fromhex(r[0]) for r in cur.fetchall()]
    manifest: dict[str, Any] = {
        "format": "ejournal-year-manifest/1",
        "organization_id": org_id,
        "year_id": year_id,
        "closed_at": closed_at.isoformat(),
        "closed_by": closed_by,
        "event_count": sum(heads.values()),
        "stream_heads": {s: heads[s] for s in streams},
        "merkle_root": merkle_root(leaves),
        "read_models": read_model_checksums(db, org_id, year_id),
        "software_version": software_version(),
        "public_key": public_key,
    }
    if close_reason is not None:  # closed before its last period ended (a reason was required)
        manifest["close_reason"] = close_reason
    return manifest


class Archives:
    """Sealed manifests, one per closed year."""

    DDL = """CREATE TABLE IF NOT EXISTS archives (
        org_id TEXT NOT NULL, year_id TEXT NOT NULL, manifest TEXT NOT NULL,
        signature TEXT NOT NULL, PRIMARY KEY (org_id, year_id))"""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as cur:
            cur.execute(self.DDL)

    def store(self, sealed: SealedYear) -> None:
        m = sealed.manifest
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO archives (org_id, year_id, manifest, signature) VALUES (?, ?, ?, ?)",
                (
                    m["organization_id"],
                    m["year_id"],
                    json.dumps(m, ensure_ascii=False),
                    sealed.signature,
                ),
            )

    def organisations(self, year_id: str) -> list[str]:
        """The organisations whose year `year_id` is sealed."""
        with self.db.read() as cur:
            cur.execute("SELECT org_id FROM archives WHERE year_id = ?", (year_id,))
            return sorted(str(r[0]) for r in cur.fetchall())

    def get(self, org_id: str, year_id: str) -> SealedYear | None:
        with self.db.read() as cur:
            cur.execute(
                "SELECT manifest, signature FROM archives WHERE org_id = ? AND year_id = ?",
                (org_id, year_id),
            )
            row = cur.fetchone()
        return SealedYear(json.loads(row[0]), str(row[1])) if row else None
