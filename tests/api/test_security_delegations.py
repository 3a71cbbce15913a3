"""R-SEC-2, 000 §3.1.5: a parent lets a trusted person read their child's data until a
moment at most a year ahead; a revocation or the expiry ends it on the very next call."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from adapters.clock import FixedClock
from tests.api.helpers import (
    ADMIN,
    PARENT_OF_S01,
    STUDENT_S01,
    TEACHER_MATH,
    assert_problem,
    example_roster,
    record_mark,
)
from tests.conftest import SCHOOL_MORNING, Api

URL = "/api/v1/delegations"
TRUSTEE = "andreeva"  # p03, parent of s02 only
OTHER_PARENT = "baranova"  # p04, parent of s03
SECOND_PARENT_OF_S01 = "aleksandrov"  # p02
STAFF_TRUSTEE = "lebedeva"  # t5, a teacher with no assignment
WEEK_AHEAD = SCHOOL_MORNING + timedelta(days=7)


def grant_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "trustee_id": "p03",
        "student_ids": ["s01"],
        "expires_at": WEEK_AHEAD.isoformat(),
    }
    body.update(overrides)
    return body


def grant(api: Api, parent: dict[str, str], **overrides: Any) -> dict[str, Any]:
    r = api.client.post(URL, headers=parent, json=grant_body(**overrides))
    assert r.status_code == 201, r.text
    found: dict[str, Any] = r.json()
    return found


def revoke(api: Api, headers: dict[str, str], delegation_id: str, **body: Any) -> httpx.Response:
    return api.client.post(f"{URL}/{delegation_id}/revocation", headers=headers, json=body)


def listed(api: Api, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = api.client.get(URL, headers=headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()
    return items


def read(api: Api, headers: dict[str, str], student_id: str) -> httpx.Response:
    return api.client.get(f"/api/v1/students/{student_id}/journal", headers=headers)


def history(api: Api, headers: dict[str, str], mark_id: str) -> httpx.Response:
    return api.client.get(f"/api/v1/marks/{mark_id}/history", headers=headers)


def as_listed(found: dict[str, Any]) -> dict[str, Any]:
    """A granted delegation as the list shows it: no write position."""
    return {**found, "position": None}


def test_a_trusted_person_reads_the_delegated_child_and_no_other(api: Api) -> None:
    mark = record_mark(api, api.as_user(TEACHER_MATH))
    p01, p03 = api.as_user(PARENT_OF_S01), api.as_user(TRUSTEE)
    assert_problem(read(api, p03, "s01"), 404, "not-found")
    assert listed(api, p03) == []

    found = grant(api, p01)
    assert found["parent_id"] == "p01"
    assert found["trustee_id"] == "p03"
    assert found["student_ids"] == ["s01"]
    assert datetime.fromisoformat(found["expires_at"]) == WEEK_AHEAD
    assert found["revoked"] is False
    assert isinstance(found["position"], int) and found["position"] > 0
    assert found["delegation_id"]

    # The same token, the next call: s01's journal and history are open to the trustee.
    r = read(api, p03, "s01")
    assert r.status_code == 200, r.text
    assert [m["mark_id"] for m in r.json()["marks"]] == [mark["mark_id"]]
    assert history(api, p03, mark["mark_id"]).status_code == 200
    # Another family's child stays hidden; the trustee's own child is still theirs.
    assert_problem(read(api, p03, "s03"), 404, "not-found")
    assert read(api, p03, "s02").status_code == 200

    # Both the parent and the trustee see it; nobody else does.
    assert listed(api, p01) == [as_listed(found)]
    assert listed(api, p03) == [as_listed(found)]
    for who in (OTHER_PARENT, SECOND_PARENT_OF_S01, STUDENT_S01, TEACHER_MATH):
        assert listed(api, api.as_user(who)) == [], who


def test_a_staff_member_can_be_the_trusted_person(api: Api) -> None:
    t5 = api.as_user(STAFF_TRUSTEE)
    assert_problem(read(api, t5, "s01"), 403, "forbidden")
    found = grant(api, api.as_user(PARENT_OF_S01), trustee_id="t5")
    assert read(api, t5, "s01").status_code == 200
    assert_problem(read(api, t5, "s02"), 403, "forbidden")
    assert listed(api, t5) == [as_listed(found)]


def test_a_revocation_ends_the_trust_at_once(api: Api) -> None:
    mark = record_mark(api, api.as_user(TEACHER_MATH))
    p01, p03 = api.as_user(PARENT_OF_S01), api.as_user(TRUSTEE)
    found = grant(api, p01)
    assert read(api, p03, "s01").status_code == 200

    r = revoke(api, p01, found["delegation_id"], reason="Больше не нужно")
    assert r.status_code == 200, r.text
    revoked = r.json()
    assert revoked["revoked"] is True
    assert revoked["delegation_id"] == found["delegation_id"]
    assert revoked["position"] > found["position"]

    assert_problem(read(api, p03, "s01"), 404, "not-found")
    assert_problem(history(api, p03, mark["mark_id"]), 404, "not-found")
    assert read(api, p03, "s02").status_code == 200
    for who in (p01, p03):
        assert [d["revoked"] for d in listed(api, who)] == [True]
    # The parent still reads their child; a second revocation is refused.
    assert read(api, p01, "s01").status_code == 200
    assert_problem(revoke(api, p01, found["delegation_id"]), 422, "validation-error")


def test_the_trust_ends_when_it_expires(api: Api, clock: FixedClock) -> None:
    grant(api, api.as_user(PARENT_OF_S01))
    clock.set(WEEK_AHEAD - timedelta(minutes=1))
    assert read(api, api.as_user(TRUSTEE), "s01").status_code == 200
    clock.set(WEEK_AHEAD)
    assert_problem(read(api, api.as_user(TRUSTEE), "s01"), 404, "not-found")
    clock.advance(days=1)
    p03 = api.as_user(TRUSTEE)
    assert_problem(read(api, p03, "s01"), 404, "not-found")
    assert read(api, p03, "s02").status_code == 200


def test_a_parent_delegates_only_their_own_children_to_a_person_who_is_not_a_student(
    api: Api,
) -> None:
    p01 = api.as_user(PARENT_OF_S01)
    # Another family's child, existing or not, is "not found": a parent is not told whether
    # someone else's child exists (R-SEC-2; 404 since 54a2563, was 422).
    answers = []
    for children in (["s03"], ["s01", "s03"], ["nobody"]):
        r = api.client.post(URL, headers=p01, json=grant_body(student_ids=children))
        answers.append(assert_problem(r, 404, "not-found"))
    assert answers[0] == answers[1] == answers[2]
    for trustee_id in (
        "s02",  # a student
        "s01",  # the child itself
        "nobody",
        "p01",  # oneself
    ):
        r = api.client.post(URL, headers=p01, json=grant_body(trustee_id=trustee_id))
        body = assert_problem(r, 422, "validation-error")
        assert [e["field"] for e in body["errors"]] == ["trustee_id"], (trustee_id, body)
    r = api.client.post(URL, headers=p01, json=grant_body(student_ids=[]))
    assert_problem(r, 422, "validation-error")
    # Only a parent grants at all.
    for who in (STUDENT_S01, TEACHER_MATH, "kuznetsova"):
        r = api.client.post(URL, headers=api.as_user(who), json=grant_body(trustee_id="p04"))
        assert_problem(r, 403, "forbidden")
    assert listed(api, p01) == []
    assert_problem(read(api, api.as_user(OTHER_PARENT), "s01"), 404, "not-found")
    assert_problem(read(api, api.as_user(TRUSTEE), "s03"), 404, "not-found")


def test_a_delegation_lasts_from_now_to_at_most_a_year(api: Api) -> None:
    p01 = api.as_user(PARENT_OF_S01)
    for expires_at in (
        SCHOOL_MORNING - timedelta(days=1),
        SCHOOL_MORNING,
        SCHOOL_MORNING + timedelta(days=400),
        SCHOOL_MORNING + timedelta(days=367),
    ):
        r = api.client.post(URL, headers=p01, json=grant_body(expires_at=expires_at.isoformat()))
        body = assert_problem(r, 422, "validation-error")
        assert [e["field"] for e in body["errors"]] == ["expires_at"], body
    for text in ("2026-09-10T10:00:00", "next week", ""):  # no time zone, not a moment
        r = api.client.post(URL, headers=p01, json=grant_body(expires_at=text))
        assert_problem(r, 422, "validation-error")
    assert listed(api, p01) == []
    # Exactly a year: 2026-09-03 to 2027-09-03 (no 29 February between).
    found = grant(api, p01, expires_at="2027-09-03T05:00:00+00:00")
    assert datetime.fromisoformat(found["expires_at"]) == SCHOOL_MORNING + timedelta(days=365)


def test_a_delegation_a_second_longer_than_a_calendar_year_is_refused(api: Api) -> None:
    p01 = api.as_user(PARENT_OF_S01)
    for expires_at in ("2027-09-03T05:00:01+00:00", "2027-09-04T05:00:00+00:00"):
        r = api.client.post(URL, headers=p01, json=grant_body(expires_at=expires_at))
        assert_problem(r, 422, "validation-error")


def test_only_the_granting_parent_revokes(api: Api) -> None:
    p01, p03 = api.as_user(PARENT_OF_S01), api.as_user(TRUSTEE)
    found = grant(api, p01)
    for who in (OTHER_PARENT, SECOND_PARENT_OF_S01, TRUSTEE):
        r = revoke(api, api.as_user(who), found["delegation_id"])
        assert_problem(r, 404, "not-found")
    assert_problem(revoke(api, p01, "no-such-delegation"), 404, "not-found")
    # Staff cannot revoke a family's delegation either.
    r = revoke(api, api.as_user(ADMIN), found["delegation_id"])
    assert r.status_code in (403, 404), r.text
    assert read(api, p03, "s01").status_code == 200
    assert [d["revoked"] for d in listed(api, p01)] == [False]


STALE_TRUST = (
    "BUG: a trusted person reads what the delegating parent may read (R-ROLE), but "
    "Delegations.delegated_children (used by JournalCore.children) checks only expiry and "
    "revocation, not whether the granting parent is still active and still the child's parent"
)


def test_a_trust_ends_with_the_deactivation_of_the_parent_who_granted_it(api: Api) -> None:
    p03 = api.as_user(TRUSTEE)
    grant(api, api.as_user(PARENT_OF_S01))
    assert read(api, p03, "s01").status_code == 200
    r = api.client.post(
        "/api/v1/accounts/p01/deactivation",
        headers=api.as_user(ADMIN),
        json={"reason": "Лишён родительских прав"},
    )
    assert r.status_code == 200, r.text
    # The trusted person reads what the delegating parent may read: now nothing.
    assert_problem(read(api, p03, "s01"), 404, "not-found")


def test_a_trust_ends_when_the_roster_no_longer_names_the_parent_of_the_child(api: Api) -> None:
    p03 = api.as_user(TRUSTEE)
    grant(api, api.as_user(PARENT_OF_S01))
    doc = example_roster()
    [p01] = [p for p in doc["parents"] if p["id"] == "p01"]
    p01["children"] = ["s02"]
    r = api.client.post("/api/v1/import", headers=api.as_user(ADMIN), json=doc)
    assert r.status_code == 200, r.text
    assert_problem(read(api, api.as_user(PARENT_OF_S01), "s01"), 404, "not-found")
    # The trusted person reads what the delegating parent may read: s01 no longer.
    assert_problem(read(api, p03, "s01"), 404, "not-found")
