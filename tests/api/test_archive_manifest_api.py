"""Closing a year seals a signed manifest: streams and heads, the Merkle root of the year's
events, read-model checksums; the signature checks with the public key it carries."""

from __future__ import annotations

import copy

from adapters.archive import signature_valid
from domain.integrity import merkle_root
from tests.api.helpers import ADMIN, DEPUTY, DIRECTOR, STUDENT_S01, TEACHER_MATH, mark_body
from tests.conftest import Api

ARCHIVIST = "zaitseva"
CLOSE = "/api/v1/years/2026-2027/close"


def test_closing_seals_a_signed_manifest(api: Api, imported) -> None:
    t1, dep = api.as_user(TEACHER_MATH), api.as_user(DEPUTY)
    assert api.client.post("/api/v1/marks", headers=t1, json=mark_body()).status_code == 201
    r = api.client.get("/api/v1/archives/2026-2027", headers=dep)
    assert r.status_code == 409 and r.json()["code"] == "year-open"
    r = api.client.post(CLOSE, headers=dep, json={"reason": "тест"})
    assert r.status_code == 200, r.text
    answer = r.json()
    manifest, signature = answer["manifest"], answer["signature"]
    assert manifest["year_id"] == "2026-2027" and manifest["closed_by"] == "dep1"
    assert (
        manifest["event_count"] == answer["event_count"] == sum(manifest["stream_heads"].values())
    )
    assert set(manifest["read_models"]) == {
        "marks",
        "absences",
        "attestations",
        "lessons",
        "memberships",
    }
    assert manifest["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    assert signature_valid(manifest, signature)
    # The root is the RFC 6962 root of the year's streams' event hashes, in log order.
    streams = list(manifest["stream_heads"])
    with imported.db.read() as cur:
        cur.execute(
            f"SELECT hash FROM event_hashes WHERE stream_id IN "
            f"({', '.join('?' for _ in streams)}) ORDER BY position",
            streams,
        )
        leaves = [bytes.fromhex(row[0]) for row in cur.fetchall()]
    assert len(leaves) == manifest["event_count"]
    assert manifest["merkle_root"] == merkle_root(leaves)
    # One changed value breaks the signature.
    forged = copy.deepcopy(manifest)
    forged["event_count"] += 1
    assert not signature_valid(forged, signature)
    # The archive is readable by the archivist and the administration, not by others.
    for user in (ARCHIVIST, DEPUTY, DIRECTOR, ADMIN):
        r = api.client.get("/api/v1/archives/2026-2027", headers=api.as_user(user))
        assert r.status_code == 200, (user, r.text)
        assert r.json() == {"manifest": manifest, "signature": signature}
    for user in (TEACHER_MATH, STUDENT_S01):
        r = api.client.get("/api/v1/archives/2026-2027", headers=api.as_user(user))
        assert r.status_code in (403, 404), user
