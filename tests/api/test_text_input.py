"""Hostile text: control characters (NUL first of all) are refused the same way on both stores,
and NUL in events stored before that does not break the PostgreSQL projections."""

from __future__ import annotations

import sys
import unicodedata
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from pydantic import BaseModel, ValidationError

from adapters.roster import RosterInvalid, parse_roster
from adapters.sql import PostgresDatabase, insert_rows
from adapters.text import CONTROL_CHARS_MESSAGE, Text, has_control_chars
from api.bootstrap import Services
from domain.actors import Actor, Role
from tests.api.helpers import (
    ADMIN,
    DEPUTY,
    PARENT_OF_S01,
    TEACHER_MATH,
    absence_body,
    assert_problem,
    example_roster,
    mark_body,
    record_mark,
)
from tests.conftest import POSTGRES_URL, Api, require_postgres

ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def refused_fields(problem: dict[str, Any]) -> dict[str, str]:
    """{field or path: message} of a validation problem."""
    return {str(e.get("field") or e.get("path")): str(e["message"]) for e in problem["errors"]}


def assert_refused(r: Any, field: str) -> dict[str, Any]:
    problem = assert_problem(r, 422, "validation-error")
    fields = refused_fields(problem)
    assert fields.get(field) == CONTROL_CHARS_MESSAGE, problem
    assert field.rsplit(".", 1)[-1] in problem["detail"], problem
    return problem


# --- the type itself ------------------------------------------------------------------------


def test_the_rule_is_category_cc_but_tab_newline_and_carriage_return() -> None:
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        expected = unicodedata.category(ch) == "Cc" and ch not in ALLOWED_CONTROLS
        assert has_control_chars(f"a{ch}b") is expected, hex(code)


def test_text_type_refuses_with_a_russian_message() -> None:
    class Body(BaseModel):
        note: Text | None = None

    assert Body(note="строка\tс\nпереводом\r\n").note == "строка\tс\nпереводом\r\n"
    assert Body(note=None).note is None
    for bad in ("a\x00b", "\x01", "x\x1b[31m", "\x7f", "\x85x", "\x9f"):
        with pytest.raises(ValidationError) as caught:
            Body(note=bad)
        (error,) = caught.value.errors()
        assert error["loc"] == ("note",)
        assert error["msg"] == CONTROL_CHARS_MESSAGE


# --- the API, on both stores ---------------------------------------------------------------


def test_mark_comment_with_nul_is_refused_naming_comment(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    r = api.client.post("/api/v1/marks", headers=h, json=mark_body(comment="a\u0000b"))
    assert_refused(r, "body.comment")
    r = api.client.post("/api/v1/marks", headers=h, json=mark_body(comment="a\u0007b"))
    assert_refused(r, "body.comment")
    journal = api.client.get("/api/v1/students/s01/journal", headers=h).json()
    assert journal["marks"] == []


def test_tab_newline_and_carriage_return_in_a_comment_are_accepted(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    comment = "строка 1\tс табуляцией\nстрока 2\r\nстрока 3"
    r = api.client.post("/api/v1/marks", headers=h, json=mark_body(comment=comment))
    assert r.status_code == 201, r.text
    assert r.json()["comment"] == comment


def test_absence_notice_reason_with_a_control_character_is_refused(api: Api) -> None:
    parent = api.as_user(PARENT_OF_S01)
    notice = {
        "student_id": "s01",
        "from_date": "2026-09-05",
        "to_date": "2026-09-07",
        "reason": "болезнь\u0001",
    }
    r = api.client.post("/api/v1/absence-notices", headers=parent, json=notice)
    assert_refused(r, "body.reason")


def test_absence_reason_with_nul_is_refused(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    r = api.client.post("/api/v1/absences", headers=h, json=absence_body(reason="a\u0000"))
    assert_refused(r, "body.reason")


def test_correction_and_cancellation_reasons_with_nul_are_refused(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    mark = record_mark(api, h, value=3)
    url = f"/api/v1/marks/{mark['mark_id']}"
    r = api.client.post(f"{url}/corrections", headers=h, json={"value": 4, "reason": "о\u0000"})
    assert_refused(r, "body.reason")
    r = api.client.post(f"{url}/cancellation", headers=h, json={"reason": "\u0000"})
    assert_refused(r, "body.reason")
    versions = api.client.get(f"{url}/history", headers=h).json()["versions"]
    assert [(v["value"], v["status"]) for v in versions] == [(3, "active")]


def test_roster_with_a_nul_in_a_name_is_refused_and_nothing_imported(api: Api) -> None:
    admin = api.as_user(ADMIN)
    doc = example_roster()
    doc["students"][0]["full_name"] = "Александров\u0000 Алексей"
    doc["subjects"].append({"id": "bio", "name": "Биология"})
    doc["groups"][0]["name"] = "ХТ\u001b-21"
    r = api.client.post("/api/v1/import", headers=admin, json=doc)
    problem = assert_problem(r, 422, "validation-error")
    assert refused_fields(problem) == {
        "$.students[0].full_name": CONTROL_CHARS_MESSAGE,
        "$.groups[0].name": CONTROL_CHARS_MESSAGE,
    }
    # Nothing took effect: the same document without the bad characters is news.
    doc["students"][0]["full_name"] = example_roster()["students"][0]["full_name"]
    doc["groups"][0]["name"] = example_roster()["groups"][0]["name"]
    r = api.client.post("/api/v1/import", headers=admin, json=doc)
    assert r.status_code == 200, r.text
    assert r.json()["events"] > 0


def test_roster_refuses_control_characters_in_every_kind_of_string() -> None:
    doc = example_roster()
    doc["organization"]["name"] += "\x00"
    doc["academic_year"]["periods"][0]["name"] += "\x02"
    doc["staff"][0]["roles"][0] += "\x00"
    doc["staff"][0]["username"] += "\x00"
    doc["parents"][0]["children"][0] += "\x00"
    doc["assignments"][0]["subject_id"] += "\x00"
    with pytest.raises(RosterInvalid) as caught:
        parse_roster(doc)
    assert {e["path"]: e["message"] for e in caught.value.errors} == {
        "$.organization.name": CONTROL_CHARS_MESSAGE,
        "$.academic_year.periods[0].name": CONTROL_CHARS_MESSAGE,
        "$.staff[0].roles[0]": CONTROL_CHARS_MESSAGE,
        "$.staff[0].username": CONTROL_CHARS_MESSAGE,
        "$.parents[0].children[0]": CONTROL_CHARS_MESSAGE,
        "$.assignments[0].subject_id": CONTROL_CHARS_MESSAGE,
    }


def test_lesson_topic_and_attestation_result_are_checked_too(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    lesson = {
        "group_id": "g1",
        "subject_id": "math",
        "lesson_date": "2026-09-02",
        "lesson_no": 1,
        "topic": "Дроби\u0000",
        "homework": "№\u00851",
    }
    problem = assert_problem(
        api.client.post("/api/v1/lessons", headers=h, json=lesson), 422, "validation-error"
    )
    assert refused_fields(problem) == {
        "body.topic": CONTROL_CHARS_MESSAGE,
        "body.homework": CONTROL_CHARS_MESSAGE,
    }
    body = {"student_id": "s01", "subject_id": "math", "period_id": "S1", "result": "5\u0000"}
    r = api.client.post("/api/v1/attestations", headers=h, json=body)
    assert_refused(r, "body.result")


def test_nul_in_an_event_stored_before_the_fix_does_not_break_the_projections(
    api: Api, imported: Services, store: dict[str, Any]
) -> None:
    """Written past the API, as an event from before the fix: the audit projection copies the
    reason into its table; on PostgreSQL NUL arrives as U+FFFD, on SQLite as it is."""
    h = api.as_user(TEACHER_MATH)
    mark = record_mark(api, h, value=3, comment="ok")
    teacher = Actor("t1", Role.TEACHER, "sght", frozenset({Role.TEACHER}))
    written = imported.journal.correct_mark(teacher, mark["mark_id"], value=4, reason="a\x00b")
    r = api.client.get(
        "/api/v1/audit",
        headers=api.as_user(DEPUTY),
        params={"student_id": "s01", "min_position": written.position},
    )
    assert r.status_code == 200, r.text
    reasons = [i["reason"] for i in r.json()["items"] if i["action"] == "mark.corrected"]
    assert reasons == (["a\ufffdb"] if "postgres_schema" in store else ["a\x00b"]), reasons


# --- the PostgreSQL cursor -----------------------------------------------------------------


@pytest.fixture
def pg_database() -> Iterator[PostgresDatabase]:
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    db = PostgresDatabase(POSTGRES_URL, schema=schema, pool_size=2)
    try:
        yield db
    finally:
        db.close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.postgres
def test_pg_cursor_stores_nul_as_replacement_character(pg_database: PostgresDatabase) -> None:
    with pg_database.transaction() as cur:
        cur.execute("CREATE TABLE nul_text (id INTEGER, body TEXT, tags TEXT[])")
        cur.execute(
            "INSERT INTO nul_text (id, body, tags) VALUES (?, ?, ?)",
            (1, "a\x00b", ["x\x00", "y"]),
        )
        cur.executemany(
            "INSERT INTO nul_text (id, body, tags) VALUES (?, ?, ?)",
            [[2, "\x00\x00", None], (3, "clean\ttext\n", [])],
        )
        insert_rows(cur, "nul_text", ["id", "body"], [[4, '{"r": "c\x00"}'], [5, "d"]])
        cur.execute("SELECT body FROM nul_text WHERE body = ?", ("a\x00b",))
        assert cur.fetchall() == [("a\ufffdb",)]
        cur.execute("SELECT id, body, tags FROM nul_text ORDER BY id")
        assert cur.fetchall() == [
            (1, "a\ufffdb", ["x\ufffd", "y"]),
            (2, "\ufffd\ufffd", None),
            (3, "clean\ttext\n", []),
            (4, '{"r": "c\ufffd"}', None),
            (5, "d", None),
        ]
