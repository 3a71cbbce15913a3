"""Deterministic aggregate ids (uuid5): the same natural key always names the same stream.

Each is remembered for the keys most recently asked (a SHA-1 per call otherwise, several per
request on the write path)."""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

NAMESPACE = UUID("5b0e3a52-6f0c-4c8e-9a51-2f1c0c7e1a01")


@lru_cache(maxsize=1024)
def organisation_id(org_id: str) -> UUID:
    return uuid5(NAMESPACE, f"organisation/{org_id}")


@lru_cache(maxsize=1024)
def academic_year_id(org_id: str, year_id: str) -> UUID:
    return uuid5(NAMESPACE, f"year/{org_id}/{year_id}")


@lru_cache(maxsize=16384)
def person_id(org_id: str, person: str) -> UUID:
    return uuid5(NAMESPACE, f"person/{org_id}/{person}")


@lru_cache(maxsize=65536)
def journal_id(org_id: str, year_id: str, student_id: str) -> UUID:
    return uuid5(NAMESPACE, f"journal/{org_id}/{year_id}/{student_id}")


@lru_cache(maxsize=16384)
def subject_page_id(org_id: str, year_id: str, group_id: str, subject_id: str) -> UUID:
    return uuid5(NAMESPACE, f"page/{org_id}/{year_id}/{group_id}/{subject_id}")


# Record ids that name their journal (marks and absences since issue 10): the kind's letter,
# the journal's id and a random id, as hex — `/marks/{id}` and the like find the journal
# without a lookup, and the write path stores no locator row for them. Older ids (bare
# UUIDs) are found through the record locator, as before.
RECORD_LETTERS = {"mark": "m", "absence": "a"}
_NAMED_LENGTH = 65
_HEX = frozenset("0123456789abcdef")


def journal_record_id(kind: str, journal: UUID, unique: UUID) -> str:
    """A new record id of that kind in that journal (`unique`: a random UUID)."""
    return RECORD_LETTERS[kind] + journal.hex + unique.hex


def journal_of_record(record_id: str, kind: str) -> UUID | None:
    """The journal a record id of that kind names, or None (an older id, another kind's,
    or not an id of ours)."""
    letter = RECORD_LETTERS.get(kind)
    if (
        letter is None
        or len(record_id) != _NAMED_LENGTH
        or record_id[0] != letter
        or not _HEX.issuperset(record_id[1:])
    ):
        return None
    return UUID(hex=record_id[1:33])
