"""Shared helpers for the HTTP API tests: bodies, problem checks, a second organisation."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import httpx

from api.bootstrap import Services
from tests.conftest import EXAMPLE_ROSTER, Api

PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}
CYRILLIC = re.compile(r"[А-Яа-яЁё]")

# Usernames from examples/roster.json.
TEACHER_MATH = "sokolova"  # t1, math in g1
TEACHER_CHEM_CURATOR = "fedorov"  # t2, chem in g1 and curator of g1
TEACHER_UNASSIGNED = "lebedeva"  # t5, no assignment
DEPUTY = "kuznetsova"  # dep1
DIRECTOR = "orlov"  # dir1
ADMIN = "kovalev"  # adm1
STUDENT_S01 = "st.aleksandrov"
PARENT_OF_S01 = "aleksandrova"  # p01


def example_roster() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE_ROSTER.read_text(encoding="utf-8"))
    return data


def mark_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "student_id": "s01",
        "subject_id": "math",
        "lesson_date": "2026-09-02",
        "work_kind": "oral",
        "value": 5,
    }
    body.update(overrides)
    return body


def absence_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "student_id": "s01",
        "subject_id": "math",
        "lesson_date": "2026-09-02",
        "code": "Н",
    }
    body.update(overrides)
    return body


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The answer is an application/problem+json error with the given status and code."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body: dict[str, Any] = r.json()
    assert body.keys() >= PROBLEM_KEYS, body
    assert body["status"] == status
    assert body["code"] == code, body
    assert isinstance(body["type"], str) and body["type"]
    assert CYRILLIC.search(body["title"]), f"title is not in Russian: {body['title']!r}"
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def record_mark(api: Api, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    r = api.client.post("/api/v1/marks", headers=headers, json=mark_body(**overrides))
    assert r.status_code == 201, r.text
    mark: dict[str, Any] = r.json()
    return mark


def journal(
    api: Api, headers: dict[str, str], student_id: str = "s01", **params: str
) -> dict[str, Any]:
    r = api.client.get(f"/api/v1/students/{student_id}/journal", headers=headers, params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


# --- a second organisation ---------------------------------------------------------------

OTHER_ORG = "other"


def other_roster() -> dict[str, Any]:
    """The example roster as another organisation: org "other", same year id, every person's
    id prefixed with "o-" and every username with "o."."""
    doc = copy.deepcopy(example_roster())
    doc["organization"] = {"id": OTHER_ORG, "name": "Другой техникум"}

    def pid(old: str) -> str:
        return f"o-{old}"

    for section in ("staff", "students", "parents"):
        for person in doc[section]:
            person["id"] = pid(person["id"])
            person["username"] = f"o.{person['username']}"
    for parent in doc["parents"]:
        parent["children"] = [pid(c) for c in parent["children"]]
    for group in doc["groups"]:
        group["id"] = f"o-{group['id']}"
        group["curator_id"] = pid(group["curator_id"])
        for member in group["students"]:
            member["id"] = pid(member["id"])
    for a in doc["assignments"]:
        a["teacher_id"] = pid(a["teacher_id"])
        a["group_id"] = f"o-{a['group_id']}"
    return doc


def import_other_org(services: Services) -> None:
    from adapters.roster import parse_roster
    from adapters.roster_import import import_roster
    from domain.actors import system_actor

    import_roster(
        services.journal, services.passwords, parse_roster(other_roster()), system_actor(OTHER_ORG)
    )


def form_csrf(html: str) -> str:
    """The CSRF token a page's form carries."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)
