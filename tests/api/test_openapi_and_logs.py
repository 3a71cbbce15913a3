"""The published schema, /docs, /health, and what the request log may and may not contain."""

from __future__ import annotations

import pytest

from tests.api.helpers import TEACHER_MATH, example_roster, mark_body
from tests.conftest import PASSWORD, Api

PATHS = {
    "/health": {"get"},
    "/api/v1/auth/token": {"post"},
    "/api/v1/auth/logout": {"post"},
    "/api/v1/import": {"post"},
    "/api/v1/marks": {"post"},
    "/api/v1/marks/{mark_id}/corrections": {"post"},
    "/api/v1/marks/{mark_id}/cancellation": {"post"},
    "/api/v1/marks/{mark_id}/history": {"get"},
    "/api/v1/absences": {"post"},
    "/api/v1/students/{student_id}/journal": {"get"},
}


def test_openapi_docs_and_health(api: Api) -> None:
    r = api.client.get("/openapi.json")
    assert r.status_code == 200, r.text
    schema = r.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path, methods in PATHS.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    journal = paths["/api/v1/students/{student_id}/journal"]["get"]
    assert {p["name"] for p in journal["parameters"]} >= {"student_id", "year_id", "as_of"}
    assert "201" in paths["/api/v1/marks"]["post"]["responses"]
    assert "201" in paths["/api/v1/absences"]["post"]["responses"]
    # /docs and /health need no login.
    r = api.client.get("/docs")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]
    r = api.client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_request_log_has_route_status_actor_and_no_secrets(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    token = api.token(TEACHER_MATH)
    h = {"Authorization": f"Bearer {token}"}
    r = api.client.post("/api/v1/marks", headers=h, json=mark_body(comment="устный ответ"))
    assert r.status_code == 201, r.text
    r = api.client.get("/api/v1/students/s01/journal", headers=h)
    assert r.status_code == 200
    r = api.client.post("/api/v1/auth/token", data={"username": "s01", "password": "wrong-pass"})
    assert r.status_code == 401

    captured = capsys.readouterr()
    out = captured.err + captured.out
    lines = out.splitlines()
    write_lines = [line for line in lines if "route=/api/v1/marks" in line]
    assert write_lines, out
    assert any("status=201" in line and "actor_id=t1" in line for line in write_lines), out
    assert any(
        "route=/api/v1/students/{student_id}/journal" in line and "status=200" in line
        for line in lines
    ), out
    assert any("route=/api/v1/auth/token" in line and "status=401" in line for line in lines), out

    assert PASSWORD not in out
    assert "wrong-pass" not in out
    assert token not in out
    assert token.split(".")[2] not in out
    for student in example_roster()["students"]:
        assert student["full_name"] not in out, student["id"]
        assert student["full_name"].split()[0] not in out, student["id"]
