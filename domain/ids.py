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
