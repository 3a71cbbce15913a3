"""Bodies over the configured limit: 413 payload-too-large, refused while they stream in.

Issue 11 point 3; API.md 1.1 `413 payload-too-large`. The limit is checked before the body is
parsed and before authentication; the server's memory stays bounded under large bodies.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from adapters.clock import FixedClock
from adapters.settings import Settings
from api.app import create_app
from api.body_limit import BodyLimit
from api.bootstrap import Services
from tests.api.helpers import ADMIN, TEACHER_MATH, assert_problem, mark_body
from tests.conftest import PASSWORD, Api, make_settings

ROOT = Path(__file__).resolve().parents[2]
EJOURNAL = Path(sys.executable).parent / "ejournal"
MIB = 1_048_576
JSON = {"Content-Type": "application/json"}


def json_of_size(size: int, **fields: Any) -> bytes:
    """A mark body padded to exactly `size` bytes with a string `value` (invalid: not 1-5)."""
    doc = mark_body(**fields, value="")
    empty = len(json.dumps(doc).encode())
    doc["value"] = "x" * (size - empty)
    data = json.dumps(doc).encode()
    assert len(data) == size
    return data


def chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def assert_too_large(r: httpx.Response, limit: int) -> None:
    body = assert_problem(r, 413, "payload-too-large")
    assert body["title"] == "Слишком большой запрос"
    assert body["limit_bytes"] == limit


# --- Through the whole app, default limits (1 MB; 50 MB for POST /import) ---


def test_two_megabytes_to_marks_is_refused_before_authentication(api: Api) -> None:
    data = json_of_size(2 * MIB)
    r = api.client.post("/api/v1/marks", content=data, headers=JSON)  # no token at all
    assert_too_large(r, MIB)
    h = api.as_user(TEACHER_MATH)
    r = api.client.post("/api/v1/marks", content=data, headers={**h, **JSON})
    assert_too_large(r, MIB)
    assert "1 МБ" in r.json()["detail"]


def test_chunked_body_without_content_length_is_counted(api: Api) -> None:
    h = {**api.as_user(TEACHER_MATH), **JSON}
    data = json_of_size(2 * MIB)
    request = api.client.build_request("POST", "/api/v1/marks", content=chunks(data), headers=h)
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    assert_too_large(api.client.send(request), MIB)


def test_chunked_body_with_idempotency_key_is_refused(api: Api) -> None:
    """The idempotency middleware reads the whole body itself: the limit runs before it."""
    h = {**api.as_user(TEACHER_MATH), **JSON, "Idempotency-Key": "big-1"}
    r = api.client.post("/api/v1/marks", content=chunks(json_of_size(2 * MIB)), headers=h)
    assert_too_large(r, MIB)
    # Nothing was remembered for the key: a proper request with it is recorded.
    r = api.client.post("/api/v1/marks", json=mark_body(), headers=h)
    assert r.status_code == 201, r.text


def test_body_at_the_limit_goes_on_to_validation(api: Api) -> None:
    h = {**api.as_user(TEACHER_MATH), **JSON}
    data = json_of_size(MIB)
    for content in (data, chunks(data)):
        r = api.client.post("/api/v1/marks", content=content, headers=h)
        assert_problem(r, 422, "validation-error")
    r = api.client.post("/api/v1/marks", content=json_of_size(MIB + 1), headers=h)
    assert_too_large(r, MIB)


def test_import_takes_more_than_the_general_limit(api: Api) -> None:
    h = {**api.as_user(ADMIN), **JSON}
    doc = json.dumps({"padding": "x" * (3 * MIB)}).encode()
    for content in (doc, chunks(doc)):
        r = api.client.post("/api/v1/import", content=content, headers=h)
        assert r.status_code == 422, r.text[:500]  # read and checked, not refused as too large
    # The import limit is for POST /import only.
    r = api.client.put("/api/v1/import", content=doc, headers=h)
    assert_too_large(r, MIB)


# --- Limits from settings ---


@pytest.fixture
def small(store: dict[str, Any], tmp_path: Path, clock: FixedClock) -> Iterator[TestClient]:
    settings = make_settings(store, tmp_path, max_body_bytes=1000, max_import_body_bytes=5000)
    built = Services.build(settings, clock)
    try:
        with TestClient(create_app(services=built)) as client:
            yield client
    finally:
        built.close()


def test_limits_come_from_settings(small: TestClient) -> None:
    assert_too_large(small.post("/api/v1/marks", content=json_of_size(1001), headers=JSON), 1000)
    r = small.post("/api/v1/marks", content=chunks(json_of_size(1001), 100), headers=JSON)
    assert_too_large(r, 1000)
    assert "1000 байт" in r.json()["detail"]
    r = small.post("/api/v1/marks", content=json_of_size(1000), headers=JSON)
    assert_problem(r, 401, "unauthenticated")  # within the limit: on to the login check
    r = small.post("/api/v1/import", content=json_of_size(4000), headers=JSON)
    assert_problem(r, 401, "unauthenticated")
    r = small.post("/api/v1/import", content=chunks(json_of_size(5001), 500), headers=JSON)
    assert_too_large(r, 5000)
    assert small.get("/health").status_code == 200


def test_settings_read_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EJOURNAL_MAX_BODY_BYTES", raising=False)
    monkeypatch.delenv("EJOURNAL_MAX_IMPORT_BODY_BYTES", raising=False)
    assert Settings().max_body_bytes == MIB
    assert Settings().max_import_body_bytes == 50 * MIB
    monkeypatch.setenv("EJOURNAL_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("EJOURNAL_MAX_IMPORT_BODY_BYTES", "4096")
    assert (Settings().max_body_bytes, Settings().max_import_body_bytes) == (2048, 4096)


# --- Pages: a form over the limit gets the page with its Russian alert, not problem+json ---

KIB = 1024
ARCHIVIST = "zaitseva"


@pytest.fixture
def web(imported: Services) -> Iterator[TestClient]:
    """The pages with small limits: 8 KB for an archive to check or a roster, 4 KB else."""
    settings = imported.settings.model_copy(
        update={
            "max_body_bytes": 4 * KIB,
            "max_import_body_bytes": 8 * KIB,
            "max_archive_body_bytes": 8 * KIB,
        }
    )
    with TestClient(create_app(settings, services=imported), follow_redirects=False) as client:
        yield client


def page_csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def sign_in(web: TestClient, username: str, page: str) -> str:
    """Signs in through the login page; the CSRF token of `page`'s forms."""
    form = web.get("/login")
    r = web.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": page_csrf(form.text)},
    )
    assert r.status_code == 303, r.text
    return page_csrf(web.get(page).text)


def alert_of(r: httpx.Response) -> str:
    assert r.status_code == 413, r.text[:500]
    assert r.headers["content-type"].startswith("text/html"), r.headers
    found = re.search(r'role="alert"[^>]*>\s*(?:<p>)?([^<]*)<', r.text)
    assert found, r.text
    return found.group(1).strip()


def test_an_archive_over_the_limit_gets_the_archive_page_with_its_alert(web: TestClient) -> None:
    csrf = sign_in(web, ARCHIVIST, "/archive")
    big = b"PK" + b"x" * (10 * KIB)
    r = web.post(
        "/archive/verify",
        data={"csrf_token": csrf},
        files={"file": ("year.zip", big, "application/zip")},
    )
    assert alert_of(r) == "Файл больше допустимого: не более 8 КБ"
    assert "Файл архива" in r.text  # the page itself, its form to choose another file
    # Streamed without a Content-Length, cut off while the form is read: the same page.
    body, content_type = multipart_body(csrf, "file", "year.zip", big)
    request = web.build_request(
        "POST", "/archive/verify", content=chunks(body, KIB), headers={"Content-Type": content_type}
    )
    assert "content-length" not in request.headers
    r = web.send(request)
    assert alert_of(r) == "Файл больше допустимого: не более 8 КБ"
    assert "Файл архива" in r.text


def test_a_roster_over_the_limit_gets_the_roster_page_with_its_alert(web: TestClient) -> None:
    csrf = sign_in(web, ADMIN, "/admin/roster")
    big = json.dumps({"padding": "x" * (10 * KIB)}).encode()
    r = web.post(
        "/admin/roster/check",
        data={"csrf_token": csrf},
        files={"roster_file": ("roster.json", big, "application/json")},
    )
    assert alert_of(r) == "Файл больше допустимого: не более 8 КБ"
    assert 'name="roster_file"' in r.text
    # The API keeps its problem+json for the same size.
    assert_too_large(web.post("/api/v1/import", content=big, headers=JSON), 8 * KIB)


def test_other_page_forms_over_the_limit_get_an_error_page(web: TestClient) -> None:
    r = web.post("/login", data={"username": "x" * (5 * KIB), "password": "y"})
    assert alert_of(r) == "Отправлено больше допустимого: не более 4 КБ"
    assert '<a href="/">' in r.text


def multipart_body(csrf: str, field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "ejournal-test-boundary"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{csrf}\r\n"
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


# --- The middleware alone: whatever the app makes of a cut-off body, the answer is 413 ---


def _bare(app: Any, limit: int = 100) -> TestClient:
    settings = Settings(max_body_bytes=limit, max_import_body_bytes=limit)
    return TestClient(BodyLimit(app, settings=settings))


def test_app_that_swallows_the_error_still_gets_413() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            while (await receive()).get("more_body"):
                pass
        except Exception as e:  # an app that turns every read failure into its own answer
            seen.append(type(e).__name__)
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b"bad body"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    client = _bare(app)
    assert_too_large(client.post("/x", content=chunks(b"y" * 101, 10)), 100)
    assert seen == ["_BodyTooLarge"]
    assert client.post("/x", content=chunks(b"y" * 100, 10)).text == "ok"


def test_declared_length_over_the_limit_is_refused_without_calling_the_app() -> None:
    calls: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(scope)
        raise AssertionError("not to be called")

    assert_too_large(_bare(app).post("/x", content=b"y" * 101), 100)
    assert calls == []


def test_answer_already_started_is_not_replaced() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"early", "more_body": True})
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.body", "body": b"late"})

    with pytest.raises(Exception, match="413"):
        _bare(app).post("/x", content=chunks(b"y" * 101, 10))


# --- A real server: memory stays bounded under three large bodies at once ---


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


@pytest.mark.serial  # a time or memory bound: run alone (Makefile)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/status")
def test_three_100_mb_bodies_at_once_keep_server_memory_bounded(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EJOURNAL_")}
    env.update(
        EJOURNAL_DATABASE_URL=f"sqlite:///{tmp_path}/x.db",
        EJOURNAL_VAR_DIR=str(tmp_path),
        EJOURNAL_LOG_LEVEL="ERROR",
    )
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(EJOURNAL), "serve", "--workers", "1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"server exited:\n{log.read_text()[-4000:]}"
            assert time.monotonic() < deadline, f"no /health:\n{log.read_text()[-4000:]}"
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/health")
                ok = conn.getresponse().status == 200
                conn.close()
                if ok:
                    break
            except OSError:
                pass
            time.sleep(0.05)

        before = _status_kib(proc.pid, "VmRSS")
        hwm_before = _status_kib(proc.pid, "VmHWM")
        piece = b'{"value": "' + b"x" * (256 * 1024 - 11)
        total = 100 * MIB

        def body() -> Iterator[bytes]:  # lazily: the client never holds 100 MB either
            for _ in range(total // len(piece) + 1):
                yield piece

        def declared() -> Iterator[bytes]:  # a declared Content-Length, refused at once
            sent = 0
            while sent < total:
                part = piece[: total - sent]
                sent += len(part)
                yield part

        results: list[httpx.Response | BaseException] = []
        url = f"http://127.0.0.1:{port}/api/v1/marks"

        def post(kind: str) -> None:
            try:
                with httpx.Client(timeout=30) as client:
                    if kind == "declared":
                        headers = {**JSON, "Content-Length": str(total)}
                        r = client.post(url, content=declared(), headers=headers)
                    elif kind == "import":
                        r = client.post(url.replace("marks", "import"), content=body())
                    else:
                        r = client.post(url, content=body(), headers=JSON)
                    r.read()
                    results.append(r)
            except BaseException as e:  # reported by the assertion below
                results.append(e)

        peak = before
        started = time.monotonic()
        threads = [
            threading.Thread(target=post, args=(kind,))
            for kind in ("chunked", "import", "declared")
        ]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            peak = max(peak, _status_kib(proc.pid, "VmRSS"))
            time.sleep(0.01)
        elapsed = time.monotonic() - started
        hwm = _status_kib(proc.pid, "VmHWM")

        assert len(results) == 3
        for r in results:
            assert isinstance(r, httpx.Response), repr(r)
            assert r.status_code == 413, r.text[:300]
            assert r.json()["code"] == "payload-too-large"
        print(
            f"RSS before {before} KiB (VmHWM {hwm_before}), peak sampled {peak} KiB, "
            f"VmHWM after {hwm} KiB, {elapsed:.1f} s"
        )
        assert peak < 250 * 1024 and hwm < 250 * 1024, f"peak RSS {peak} KiB, VmHWM {hwm} KiB"
        assert elapsed < 20
        # Still serving, on a fresh connection.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/health")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
