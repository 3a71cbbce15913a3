"""The write path through real server processes: many clients, two workers, kill -9.

Each test runs `ejournal import` and `ejournal serve --workers 2` as subprocesses on a fresh
store (SQLite file or PostgreSQL schema), writes marks over HTTP with an `Idempotency-Key` on
every request and retries the same request with the same key whenever it got no definite
answer (503 store-busy, 409 idempotency-in-flight or conflict, a dropped connection). Then it
checks that every acknowledged mark is stored exactly once, that no answer was a 500, and that
`ejournal verify` finds the event log intact.

Marks are refused for future lessons and for lessons past the 7-day deadline, counted from the
server's real clock, so the lesson date is today's (or Saturday's, on a Sunday).
"""

from __future__ import annotations

import http.client
import json
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.adapters.live_server import (
    ROSTER,
    Client,
    LiveServer,
    login,
    run_cli,
    server_env,
    tail,
)
from tests.conftest import make_settings

pytestmark = [
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="watches the server's process group in /proc"
    ),
    pytest.mark.serial,  # kill -9 under load, latency bounds: run alone (Makefile)
]

STUDENTS = [f"s{i:02d}" for i in range(1, 25)]  # in g1 from 2026-09-01 (s25 only from October)
YEAR_STARTS, YEAR_ENDS = date(2026, 9, 1), date(2027, 6, 30)
PERIODS = {"S1": (date(2026, 9, 1), date(2026, 12, 30)), "S2": (date(2027, 1, 12), YEAR_ENDS)}


def lesson_day() -> tuple[date, str]:
    """The latest day up to today (on the school's clock and on UTC) that is not a Sunday,
    and its period; skips when the example roster's year has no such school day."""
    today = min(datetime.now(UTC).date(), datetime.now(ZoneInfo("Asia/Yekaterinburg")).date())
    day = today - timedelta(days=1) if today.weekday() == 6 else today
    for period_id, (first, last) in PERIODS.items():
        if first <= day <= last:
            return day, period_id
    pytest.skip(
        f"{day} is outside the example roster's semesters "
        f"({YEAR_STARTS}..{YEAR_ENDS}): marks would be refused by the rules, not by the server"
    )


# --- requests and their outcomes ---------------------------------------------------------------

# LOST: no answer at all (connection refused or dropped): retried, once a server is up.
DONE, RETRY, LOST, FAILED = "done", "retry", "lost", "failed"


@dataclass
class Req:
    key: str
    path: str
    body: bytes  # serialised once: a retry sends exactly the same bytes
    marks: int  # marks one definite answer stands for
    attempts: int = 0
    retry_at: float = 0.0


def mark_request(student_id: str, day: date, value: int) -> Req:
    body = {
        "student_id": student_id,
        "subject_id": "math",
        "lesson_date": day.isoformat(),
        "work_kind": random.choice(["oral", "written"]),
        "value": value,
    }
    return Req(str(uuid.uuid4()), "/api/v1/marks", json.dumps(body).encode(), 1)


def entries_request(student_ids: list[str], day: date, values: list[int]) -> Req:
    body = {
        "group_id": "g1",
        "subject_id": "math",
        "lesson_date": day.isoformat(),
        "work_kind": "oral",
        "marks": [{"student_id": s, "value": v} for s, v in zip(student_ids, values, strict=True)],
    }
    return Req(str(uuid.uuid4()), "/api/v1/entries", json.dumps(body).encode(), len(student_ids))


@dataclass
class Ack:
    req: Req
    mark_ids: list[str] | None  # None: a 200 replay for an answer lost with its server
    position: int
    kind: str  # "first", "replay" (201 + Idempotent-Replayed) or "lost-answer" (200)


@dataclass
class Ledger:
    """Everything the clients saw, shared by their threads."""

    token: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    acks: dict[str, Ack] = field(default_factory=dict)
    owner_of_mark: dict[str, str] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)  # 5xx other than 503
    unexpected: list[str] = field(default_factory=list)  # answers no retry can change
    inconsistent: list[str] = field(default_factory=list)  # e.g. a mark id under two keys
    unresolved: list[str] = field(default_factory=list)  # no definite answer in time
    crashes: list[str] = field(default_factory=list)  # exceptions in client threads
    counts: dict[str, int] = field(default_factory=dict)
    max_position: int = 0

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    @property
    def acked(self) -> int:
        return len(self.acks)

    def attempt(self, client: Client, req: Req) -> str:
        """Send `req` once: DONE on a definite answer, RETRY (or LOST, when no answer came)
        when it may be sent again with its key, FAILED on an answer that will not change."""
        req.attempts += 1
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Idempotency-Key": req.key,
        }
        try:
            status, head, data = client.request("POST", req.path, req.body, headers)
        except (OSError, http.client.HTTPException):
            self.count("connection-error")
            return LOST
        text = data.decode("utf-8", "replace")
        replayed = head.get("idempotent-replayed") == "true"
        what = f"{req.path} key={req.key} attempt={req.attempts}: {status} {text[:500]}"
        if status == 201:
            body = json.loads(data)
            if req.path == "/api/v1/marks":
                ids = [body["mark_id"]]
            else:
                ids = [m["mark_id"] for m in body["marks"]]
            if len(ids) != req.marks:
                self._add(self.unexpected, f"{len(ids)} marks in the answer: {what}")
            self._ack(Ack(req, ids, int(body["position"]), "replay" if replayed else "first"))
            return DONE
        if status == 200 and replayed:
            body = json.loads(data)
            if body.get("replayed") is not True or not isinstance(body.get("position"), int):
                self._add(self.unexpected, what)
                return FAILED
            self._ack(Ack(req, None, int(body["position"]), "lost-answer"))
            return DONE
        code = _code(data)
        if status == 503:
            self.count("503 " + str(code))
            if not head.get("retry-after"):
                self._add(self.unexpected, f"503 without Retry-After: {what}")
            return RETRY
        if status == 409 and code in ("idempotency-in-flight", "conflict"):
            self.count(f"409 {code}")
            return RETRY
        if status >= 500:
            self._add(self.server_errors, what)
            return RETRY if req.attempts < 5 else FAILED
        self._add(self.unexpected, what)
        return FAILED

    def _ack(self, ack: Ack) -> None:
        with self.lock:
            self.counts[ack.kind] = self.counts.get(ack.kind, 0) + 1
            self.max_position = max(self.max_position, ack.position)
            if ack.req.key in self.acks:
                self.inconsistent.append(f"key {ack.req.key} answered twice")
            self.acks[ack.req.key] = ack
            for mark_id in ack.mark_ids or []:
                other = self.owner_of_mark.setdefault(mark_id, ack.req.key)
                if other != ack.req.key:
                    self.inconsistent.append(f"mark {mark_id} under keys {other}, {ack.req.key}")

    def _add(self, where: list[str], what: str) -> None:
        with self.lock:
            where.append(what)

    def known_mark_ids(self) -> set[str]:
        with self.lock:
            return set(self.owner_of_mark)

    def expected_marks(self) -> int:
        with self.lock:
            return sum(ack.req.marks for ack in self.acks.values())

    def summary(self) -> str:
        with self.lock:
            lines = [
                f"acknowledged keys: {len(self.acks)}, marks they stand for: "
                f"{sum(a.req.marks for a in self.acks.values())}, known mark ids: "
                f"{len(self.owner_of_mark)}, max position: {self.max_position}",
                f"counts: {dict(sorted(self.counts.items()))}",
            ]
            for name in ("server_errors", "unexpected", "inconsistent", "unresolved", "crashes"):
                items: list[str] = getattr(self, name)
                if items:
                    lines.append(f"{name} ({len(items)}):")
                    lines += [f"  {item}" for item in items[:20]]
        return "\n".join(lines)


def _code(data: bytes) -> str | None:
    try:
        body = json.loads(data)
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def backoff(req: Req) -> float:
    return min(0.05 * 2 ** min(req.attempts - 1, 4), 0.5) * random.uniform(0.5, 1.0)


# --- reading the result ------------------------------------------------------------------------


def get_json(client: Client, token: str, path: str) -> Any:
    status, _, data = client.request("GET", path, None, {"Authorization": f"Bearer {token}"})
    assert status == 200, f"GET {path}: {status} {data[:1000]!r}"
    return json.loads(data)


def stored_mark_ids(port: int, token: str) -> list[str]:
    """Every math mark in the group's journals (the aggregates, not a read model)."""
    client = Client(lambda: port)
    try:
        ids = []
        for student_id in STUDENTS:
            journal = get_json(client, token, f"/api/v1/students/{student_id}/journal")
            ids += [m["mark_id"] for m in journal["marks"] if m["subject_id"] == "math"]
        return ids
    finally:
        client.close()


def complete_gradebook(port: int, token: str, period_id: str, min_position: int) -> Any:
    """The gradebook once it has caught up with min_position (each GET waits up to 2 s)."""
    client = Client(lambda: port)
    path = (
        f"/api/v1/gradebook?group_id=g1&subject_id=math&period_id={period_id}"
        f"&min_position={min_position}"
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            book = get_json(client, token, path)
            if book["complete"] or time.monotonic() > deadline:
                return book
    finally:
        client.close()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.02)


@dataclass
class Setup:
    env: dict[str, str]
    logs: Path
    day: date
    period_id: str
    servers: list[LiveServer] = field(default_factory=list)

    def new_server(self) -> LiveServer:
        server = LiveServer(self.env, self.logs / f"server-{len(self.servers)}.log")
        self.servers.append(server)
        server.start()
        return server

    def log_tails(self) -> str:
        files = sorted(self.logs.glob("*.log"))
        return "\n".join(tail(f) for f in files)


@pytest.fixture
def setup(store: dict[str, Any], tmp_path: Path) -> Iterator[Setup]:
    day, period_id = lesson_day()
    logs = tmp_path / "logs"
    logs.mkdir()
    env = server_env(make_settings(store, tmp_path))
    rc = run_cli(["import", str(ROSTER)], env, logs / "import.log")
    assert rc == 0, tail(logs / "import.log")
    s = Setup(env, logs, day, period_id)
    try:
        yield s
    finally:
        for server in s.servers:
            server.cleanup()


def first_mark(ledger: Ledger, port: int, day: date) -> None:
    """The first POST must be a plain 201: otherwise the rules refuse the date, not load."""
    client = Client(lambda: port)
    req = mark_request("s01", day, 5)
    status, _, data = client.request(
        "POST",
        req.path,
        req.body,
        {
            "Authorization": f"Bearer {ledger.token}",
            "Content-Type": "application/json",
            "Idempotency-Key": req.key,
        },
    )
    client.close()
    assert status == 201, f"first mark for {day}: {status} {data.decode(errors='replace')}"
    body = json.loads(data)
    ledger._ack(Ack(req, [body["mark_id"]], int(body["position"]), "first"))


def check_stored(ledger: Ledger, stored: list[str]) -> None:
    """Every acknowledged mark is stored, once; nothing is stored that no key stands for."""
    known = ledger.known_mark_ids()
    assert len(stored) == len(set(stored)), "a mark id appears twice in the journals"
    missing = known - set(stored)
    assert not missing, f"{len(missing)} acknowledged marks are not stored: {sorted(missing)[:10]}"
    assert len(stored) == ledger.expected_marks(), (
        f"stored marks: {len(stored)}, marks of acknowledged keys: {ledger.expected_marks()}"
    )


def stop_and_verify(s: Setup, server: LiveServer) -> None:
    server.stop()
    rc = run_cli(["verify"], s.env, s.logs / "verify.log")
    assert rc == 0, tail(s.logs / "verify.log")


# --- the tests ---------------------------------------------------------------------------------

CLIENTS = 16
PER_CLIENT = 25


def test_sixteen_clients_on_two_workers_lose_and_duplicate_nothing(setup: Setup) -> None:
    s = setup
    ok = False
    ledger: Ledger | None = None
    try:
        server = s.new_server()
        ledger = Ledger(login(server.port))
        first_mark(ledger, server.port, s.day)

        # Each client's plan: marks for s01..s24 in rotation, every 6th request a lesson of two
        # marks through /entries.
        plans: list[list[Req]] = []
        for c in range(CLIENTS):
            plan = []
            for i in range(PER_CLIENT):
                n = c * PER_CLIENT + i
                if i % 6 == 5:
                    pair = [STUDENTS[n % 24], STUDENTS[(n + 7) % 24]]
                    plan.append(entries_request(pair, s.day, [4, 3]))
                else:
                    plan.append(mark_request(STUDENTS[n % 24], s.day, 2 + n % 4))
            plans.append(plan)
        assert ledger is not None
        led = ledger

        def run_client(plan: list[Req]) -> None:
            client = Client(lambda: server.port)
            try:
                for req in plan:
                    deadline = time.monotonic() + 30
                    while led.attempt(client, req) in (RETRY, LOST):
                        if time.monotonic() > deadline:
                            led._add(led.unresolved, f"{req.path} key={req.key}")
                            break
                        time.sleep(backoff(req))
            except BaseException as e:  # reported by the main thread
                led._add(led.crashes, repr(e))
            finally:
                client.close()

        started = time.monotonic()
        threads = [threading.Thread(target=run_client, args=(p,), daemon=True) for p in plans]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(1.0, 90 - (time.monotonic() - started)))
        load_seconds = time.monotonic() - started
        print(f"load: {load_seconds:.1f} s\n{ledger.summary()}")
        assert not any(t.is_alive() for t in threads), "clients still running after 90 s"
        assert not ledger.crashes, ledger.summary()
        assert not ledger.server_errors, ledger.summary()
        assert not ledger.unexpected, ledger.summary()
        assert not ledger.inconsistent, ledger.summary()
        assert not ledger.unresolved, ledger.summary()
        assert ledger.acked == 1 + CLIENTS * PER_CLIENT, ledger.summary()

        stored = stored_mark_ids(server.port, ledger.token)
        check_stored(ledger, stored)

        book = complete_gradebook(server.port, ledger.token, s.period_id, ledger.max_position)
        assert book["complete"] is True, f"gradebook not complete: position {book['position']}"
        assert book["position"] >= ledger.max_position
        in_book = [m["mark_id"] for row in book["rows"] for m in row["marks"]]
        assert len(in_book) == len(stored), f"gradebook {len(in_book)}, journals {len(stored)}"
        assert set(in_book) == set(stored)

        stop_and_verify(s, server)
        ok = True
    finally:
        if not ok:
            if ledger is not None:
                print(ledger.summary())
            print(s.log_tails())


KILLS = 3
WRITERS = 8


@dataclass
class Target:
    """Where the writers send: the port of the server now running, and whether one is."""

    port: int
    up: threading.Event = field(default_factory=threading.Event)


def test_kill_9_under_eight_writers_loses_no_acknowledged_mark(setup: Setup) -> None:
    s = setup
    ok = False
    ledger: Ledger | None = None
    try:
        server = s.new_server()
        ledger = Ledger(login(server.port))  # the secret is fixed: the token outlives restarts
        first_mark(ledger, server.port, s.day)
        led = ledger
        target = Target(server.port)
        target.up.set()
        stop_new = threading.Event()
        # Long enough for an answer lost with its server: its key answers 409 in-flight for
        # 30 s from its creation (idempotency.ORPHAN_AFTER), then 200 {"replayed": true}.
        drain_until: list[float] = []

        def writer(w: int) -> None:
            client = Client(lambda: target.port, timeout=20)
            pending: list[Req] = []  # sent, no definite answer yet: retried with their keys
            n = 0
            try:
                while True:
                    now = time.monotonic()
                    if drain_until and now > drain_until[0]:
                        for req in pending:
                            led._add(led.unresolved, f"{req.path} key={req.key} x{req.attempts}")
                        return
                    ready = [r for r in pending if r.retry_at <= now]
                    if ready:
                        req = ready[0]
                        pending.remove(req)
                    elif stop_new.is_set():
                        if not pending:
                            return
                        time.sleep(min(0.2, max(0.0, min(r.retry_at for r in pending) - now)))
                        continue
                    else:
                        n += 1
                        if n % 7 == 0:
                            pair = [STUDENTS[(w + n) % 24], STUDENTS[(w + n + 12) % 24]]
                            req = entries_request(pair, s.day, [5, 4])
                        else:
                            req = mark_request(STUDENTS[(w * 3 + n) % 24], s.day, 2 + n % 4)
                    outcome = led.attempt(client, req)
                    if outcome in (RETRY, LOST):
                        req.retry_at = time.monotonic() + backoff(req)
                        pending.append(req)
                    if outcome == LOST:
                        target.up.wait(timeout=1.0)  # the server may be down: wait for the next
            except BaseException as e:  # reported by the main thread
                led._add(led.crashes, f"writer {w}: {e!r}")
            finally:
                client.close()

        threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(WRITERS)]
        started = time.monotonic()
        for t in threads:
            t.start()

        def acked_since(base: int, at_least: int) -> Callable[[], bool]:
            def check() -> bool:
                assert not led.crashes, led.summary()
                return led.acked - base >= at_least

            return check

        kill_log = []
        for k in range(KILLS):
            base, round_start = led.acked, time.monotonic()
            wait_for(acked_since(base, 30), 30, f"30 acknowledged writes before kill {k + 1}")
            load_until = round_start + 1.5
            wait_for(lambda: time.monotonic() >= load_until, 5, "1.5 s of load")  # noqa: B023
            target.up.clear()
            killed_at = time.monotonic()
            server.kill_9()
            acks = led.acked - base
            server = s.new_server()
            target.port = server.port
            target.up.set()
            kill_log.append(
                f"kill {k + 1} at {killed_at - started:.1f} s after {acks} acks in its round, "
                f"back in {time.monotonic() - killed_at:.1f} s"
            )
        base = led.acked
        wait_for(acked_since(base, 30), 30, "30 acknowledged writes after the last restart")
        stop_new.set()
        stopped_at = time.monotonic()
        drain_until.append(stopped_at + 45)
        for t in threads:
            t.join(timeout=max(1.0, drain_until[0] + 5 - time.monotonic()))
        print("; ".join(kill_log))
        print(
            f"load: {stopped_at - started:.1f} s, retries of unanswered requests: "
            f"{time.monotonic() - stopped_at:.1f} s"
        )
        print(ledger.summary())
        assert not any(t.is_alive() for t in threads), "writers still running"
        assert not ledger.crashes, ledger.summary()
        assert not ledger.server_errors, ledger.summary()
        assert not ledger.unexpected, ledger.summary()
        assert not ledger.inconsistent, ledger.summary()
        assert not ledger.unresolved, ledger.summary()

        stored = stored_mark_ids(server.port, ledger.token)
        check_stored(ledger, stored)

        stop_and_verify(s, server)
        ok = True
    finally:
        if not ok:
            if ledger is not None:
                print(ledger.summary())
            print(s.log_tails())
