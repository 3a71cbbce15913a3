"""Odd values (issue 11): far-off moments with ±14:00 offsets and positions past 2^63 are
422 problem+json, not 500; validation messages are Russian and name the field; strings, lists
and date ranges have limits; reasons need a visible letter or digit; the CLI's help is
Russian."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from adapters.roster import RosterInvalid, parse_roster
from adapters.text import (
    DATE_RANGE_MESSAGE,
    FALLBACK_MESSAGE,
    REASON_INVISIBLE_MESSAGE,
    russian_message,
)
from tests.api.helpers import (
    ADMIN,
    DEPUTY,
    TEACHER_MATH,
    assert_problem,
    example_roster,
    mark_body,
    record_mark,
)
from tests.conftest import PASSWORD, Api

ENGLISH = ("Input should", "Field required", "JSON decode", "String should", "Value error")
FAR_MOMENTS = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00")
HUGE = str(2**63)


def refused(r: Any, field: str) -> dict[str, Any]:
    """A Russian 422 validation problem whose errors name `field` (and nothing English)."""
    problem = assert_problem(r, 422, "validation-error")
    for english in ENGLISH:
        assert english not in r.text, problem
    fields = {e["field"]: e["message"] for e in problem["errors"]}
    assert field in fields, problem
    assert field.rsplit(".", 1)[-1] in problem["detail"], problem
    return problem


def message_of(problem: dict[str, Any], field: str) -> str:
    return str(next(e["message"] for e in problem["errors"] if e["field"] == field))


# --- point 5: far-off moments and huge positions --------------------------------------------


@pytest.mark.parametrize("moment", FAR_MOMENTS)
def test_far_off_moments_are_refused_not_a_server_error(api: Api, moment: str) -> None:
    h = api.as_user(DEPUTY)
    r = api.client.get("/api/v1/students/s01/journal", headers=h, params={"as_of": moment})
    assert message_of(refused(r, "query.as_of"), "query.as_of") == DATE_RANGE_MESSAGE
    for name in ("from", "to"):
        r = api.client.get("/api/v1/audit", headers=h, params={name: moment})
        refused(r, f"query.{name}")
    book = {"group_id": "g1", "subject_id": "math", "period_id": "S1", "as_of": moment}
    refused(api.client.get("/api/v1/gradebook", headers=h, params=book), "query.as_of")
    admin = api.as_user(ADMIN)
    r = api.client.get("/api/v1/security-log", headers=admin, params={"before": moment})
    refused(r, "query.before")


def test_positions_past_two_to_the_63_are_refused(api: Api) -> None:
    h = api.as_user(DEPUTY)
    for name in ("cursor", "min_position"):
        r = api.client.get("/api/v1/audit", headers=h, params={name: HUGE})
        problem = refused(r, f"query.{name}")
        assert message_of(problem, f"query.{name}") == f"Должно быть не больше {2**63 - 1}"
    book = {"group_id": "g1", "subject_id": "math", "period_id": "S1", "min_position": HUGE}
    refused(api.client.get("/api/v1/gradebook", headers=h, params=book), "query.min_position")
    # The largest allowed cursor still answers.
    r = api.client.get("/api/v1/audit", headers=h, params={"cursor": str(2**63 - 1)})
    assert r.status_code == 200, r.text


def test_a_bad_cursor_is_explained_in_russian(api: Api) -> None:
    r = api.client.get("/api/v1/audit", headers=api.as_user(DEPUTY), params={"cursor": "abc"})
    assert message_of(refused(r, "query.cursor"), "query.cursor") == "Нужно целое число"


def test_date_ranges_outside_2000_2100_are_refused(api: Api) -> None:
    h = api.as_user(DEPUTY)
    r = api.client.get(
        "/api/v1/attendance",
        headers=h,
        params={"group_id": "g1", "from_date": "0001-01-01", "to_date": "9999-12-31"},
    )
    problem = refused(r, "query.from_date")
    assert message_of(problem, "query.to_date") == DATE_RANGE_MESSAGE
    teacher = api.as_user(TEACHER_MATH)
    r = api.client.post("/api/v1/marks", headers=teacher, json=mark_body(lesson_date="9999-12-31"))
    refused(r, "body.lesson_date")


# --- point 6: Russian messages naming the field ---------------------------------------------


def test_a_missing_field_is_named_in_russian(api: Api) -> None:
    body = mark_body()
    del body["student_id"]
    r = api.client.post("/api/v1/marks", headers=api.as_user(TEACHER_MATH), json=body)
    problem = refused(r, "body.student_id")
    assert message_of(problem, "body.student_id") == "Обязательное поле не заполнено"


def test_a_short_new_password_is_named_in_russian(api: Api) -> None:
    r = api.client.post(
        "/api/v1/auth/password",
        headers=api.as_user(TEACHER_MATH),
        json={"current_password": PASSWORD, "new_password": "short"},
    )
    problem = refused(r, "body.new_password")
    assert message_of(problem, "body.new_password").startswith("Не короче ")


def test_invalid_json_is_explained_in_russian(api: Api) -> None:
    h = {**api.as_user(TEACHER_MATH), "Content-Type": "application/json"}
    r = api.client.post("/api/v1/marks", headers=h, content=b'{"student_id": ')
    problem = refused(r, "body")
    assert "JSON" in message_of(problem, "body")


def test_wrong_types_and_values_are_explained_in_russian(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    r = api.client.post(
        "/api/v1/marks",
        headers=h,
        json=mark_body(work_kind="essay", lesson_date="вчера", value="пять", extra=1),
    )
    problem = refused(r, "body.work_kind")
    assert message_of(problem, "body.work_kind").startswith("Допустимые значения: 'oral'")
    assert message_of(problem, "body.lesson_date").startswith("Нужна дата")
    assert message_of(problem, "body.value") == "Нужно целое число"
    assert message_of(problem, "body.extra") == "Такого поля нет: уберите его"


def test_the_translation_never_passes_english_through() -> None:
    assert russian_message({"type": "some_new_type", "msg": "Input should be odd"}) == (
        FALLBACK_MESSAGE
    )
    assert russian_message({"type": "value_error", "msg": "Value error, x", "ctx": {}}) == (
        FALLBACK_MESSAGE
    )
    assert russian_message({"type": "custom", "msg": "Своё сообщение"}) == "Своё сообщение"
    assert russian_message({"type": "string_too_long", "ctx": {"max_length": 64}}) == (
        "Не длиннее 64 символов"
    )


# --- point 7: sizes and invisible text ------------------------------------------------------


def test_a_megabyte_full_name_and_a_huge_id_in_a_roster_are_refused(api: Api) -> None:
    admin = api.as_user(ADMIN)
    doc = example_roster()
    doc["students"][0]["full_name"] = "Я" * 1_000_000
    r = api.client.post("/api/v1/import", headers=admin, json=doc)
    problem = assert_problem(r, 422, "validation-error")
    assert {e["path"] for e in problem["errors"]} == {"$.students[0].full_name"}
    assert problem["errors"][0]["message"] == "Не длиннее 200 символов"

    doc = example_roster()
    doc["subjects"][0]["id"] = "x" * 10_000
    r = api.client.post("/api/v1/import", headers=admin, json=doc)
    problem = assert_problem(r, 422, "validation-error")
    assert "$.subjects[0].id" in {e["path"] for e in problem["errors"]}
    assert "String should" not in r.text


def test_a_year_spanning_centuries_is_refused() -> None:
    doc = example_roster()
    doc["academic_year"]["starts_on"] = "0001-09-01"
    doc["academic_year"]["ends_on"] = "9999-06-30"
    with pytest.raises(RosterInvalid) as caught:
        parse_roster(doc)
    messages = {e["path"]: e["message"] for e in caught.value.errors}
    assert messages["$.academic_year.starts_on"] == DATE_RANGE_MESSAGE
    assert messages["$.academic_year.ends_on"] == DATE_RANGE_MESSAGE

    doc = example_roster()
    doc["academic_year"]["starts_on"] = "2020-09-01"
    doc["academic_year"]["ends_on"] = "2026-06-30"
    with pytest.raises(RosterInvalid) as caught:
        parse_roster(doc)
    assert {"path": "$.academic_year.ends_on", "message": "учебный год длиннее двух лет"} in (
        caught.value.errors
    )


def test_a_reason_of_zero_width_spaces_is_refused(api: Api) -> None:
    h = api.as_user(TEACHER_MATH)
    mark = record_mark(api, h, value=3)
    url = f"/api/v1/marks/{mark['mark_id']}"
    r = api.client.post(f"{url}/corrections", headers=h, json={"value": 4, "reason": "\u200b" * 5})
    problem = refused(r, "body.reason")
    assert message_of(problem, "body.reason") == REASON_INVISIBLE_MESSAGE
    r = api.client.post(f"{url}/cancellation", headers=h, json={"reason": "\u200b\u2060.!"})
    refused(r, "body.reason")
    versions = api.client.get(f"{url}/history", headers=h).json()["versions"]
    assert [(v["value"], v["status"]) for v in versions] == [(3, "active")]
    # A short visible reason is fine.
    r = api.client.post(f"{url}/corrections", headers=h, json={"value": 4, "reason": "5б"})
    assert r.status_code == 200, r.text


def test_the_limits_are_documented_in_the_openapi(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    audit = schema["paths"]["/api/v1/audit"]["get"]["parameters"]
    cursor = next(p for p in audit if p["name"] == "cursor")["schema"]
    assert {"maximum": 2**63 - 1, "minimum": 0}.items() <= cursor["anyOf"][0].items()
    correction = schema["components"]["schemas"]["CorrectionIn"]["properties"]["reason"]
    assert correction["maxLength"] == 1000
    mark = schema["components"]["schemas"]["MarkIn"]["properties"]["student_id"]
    assert mark["maxLength"] == 64


# --- the command line -----------------------------------------------------------------------


def test_cli_help_is_russian() -> None:
    exe = Path(sys.executable).with_name("ejournal")
    for args in ([], ["archive"], ["serve"]):
        out = subprocess.run(
            [str(exe), *args, "--help"], capture_output=True, text=True, timeout=60, check=True
        ).stdout
        assert "Show this message and exit" not in out, out
        assert "Usage:" not in out, out
        assert "Показать эту справку и выйти" in out, out
