"""`make bench` (pages, issue 12): the class journal page of a 30-student group with 80 lessons
must render on the server in under 300 ms, and a mark saved from it must take under 100 ms of
server time.

In-process (fastapi.testclient.TestClient over create_app), on a fresh SQLite store and, when
reachable, a fresh PostgreSQL schema (EJOURNAL_TEST_POSTGRES_URL, default
postgresql://postgres@127.0.0.1:5432/postgres; the schema is dropped at the end). The data is
built through the service layer as tests/api/test_journal_page_html.py does for its 30×80 test:
the example roster with five more students in g1, then 80 math lessons with marks and absences.
The teacher signs in through the login form; then BENCH_PAGE_GETS (default 20) GETs of the page
and BENCH_MARK_SAVES (default 25) saves of a mark the way the page's script makes them
(POST /api/v1/marks with the session cookie, X-CSRF-Token from the page and an Idempotency-Key),
each timed with time.perf_counter(); median and p95 are printed beside the goals. The exit code
is 0 whether or not the goals are met.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.clock import FixedClock  # noqa: E402
from adapters.roster import parse_roster  # noqa: E402
from adapters.roster_import import import_roster  # noqa: E402
from adapters.service.entries import AbsenceEntry, MarkEntry  # noqa: E402
from adapters.settings import Settings  # noqa: E402
from api.app import create_app  # noqa: E402
from api.bootstrap import Services  # noqa: E402
from bench.scratch import POSTGRES_URL, scratch_schema  # noqa: E402
from domain.actors import Actor, system_actor  # noqa: E402

ROSTER = ROOT / "examples" / "roster.json"
GETS = int(os.environ.get("BENCH_PAGE_GETS", "20"))
SAVES = int(os.environ.get("BENCH_MARK_SAVES", "25"))
GROUP, SUBJECT = "g1", "math"
PAGE = f"/journal/{GROUP}/{SUBJECT}"
USERNAME, PASSWORD = "sokolova", "demo-password-2025"
TEACHER = Actor("t1", "teacher", "sght", frozenset({"teacher"}))
LESSONS = 80
PAGE_GOAL_MS, SAVE_GOAL_MS = 300.0, 100.0
# s25 joins g1 in October (examples/roster.json); s26..s30 are added below.
STUDENTS = [f"s{n:02d}" for n in range(1, 31) if n != 25]


class BenchError(RuntimeError):
    pass


def expect(ok: bool, what: str) -> None:
    """A check that survives `python -O` (which strips asserts)."""
    if not ok:
        raise BenchError(what)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def roster() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ROSTER.read_text(encoding="utf-8"))
    group = next(g for g in data["groups"] if g["id"] == GROUP)
    for n in range(26, 31):
        sid = f"s{n}"
        data["students"].append({"id": sid, "full_name": f"Юдин Студент {n}"})
        group["students"].append({"id": sid, "from": "2026-09-01", "to": None})
    return data


def build(services: Services, clock: FixedClock) -> date:
    """80 lessons (two a school day from 2026-09-01), marks and an absence at each; returns the
    last lesson date."""
    import_roster(
        services.journal, services.passwords, parse_roster(roster()), system_actor("sght")
    )
    day = date(2026, 9, 1)
    lessons = 0
    last = day
    while lessons < LESSONS:
        if day.weekday() != 6:
            clock.set(datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC))
            for number in (1, 2):
                services.journal.record_lesson(
                    TEACHER,
                    group_id=GROUP,
                    subject_id=SUBJECT,
                    lesson_date=day,
                    lesson_no=number,
                    topic=f"Тема {lessons + 1}",
                    homework=f"Задание {lessons + 1}",
                )
                services.journal.record_entries(
                    TEACHER,
                    group_id=GROUP,
                    subject_id=SUBJECT,
                    lesson_date=day,
                    lesson_no=number,
                    marks=[
                        MarkEntry(s, 2 + (i + lessons) % 4, "oral")
                        for i, s in enumerate(STUDENTS)
                        if (i + lessons) % 3 != 0
                    ],
                    absences=[AbsenceEntry(STUDENTS[lessons % len(STUDENTS)], "Н")],
                )
                lessons += 1
            last = day
        day += timedelta(days=1)
    return last


def sign_in(client: TestClient) -> None:
    """Through the login form, as a person does: the session cookie stays in the client."""
    form = client.get("/login")
    expect(form.status_code == 200, f"GET /login: {form.status_code}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    expect(token is not None, "no csrf_token field on /login")
    assert token is not None
    r = client.post(
        "/login",
        data={"username": USERNAME, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    expect(r.status_code == 303, f"POST /login: {r.status_code} {r.text[:300]}")


def line(what: str, timings: list[float], goal: float) -> str:
    median, high = statistics.median(timings), p95(timings)
    verdict = "meets" if high < goal else ("median meets" if median < goal else "MISSES")
    return (
        f"{what}: median {median:.1f} ms, p95 {high:.1f} ms (n={len(timings)}; "
        f"goal < {goal:.0f} ms: {verdict})"
    )


def run(label: str, store: dict[str, Any], var_dir: Path) -> None:
    settings = Settings(
        var_dir=var_dir,
        secret_key="bench-secret-key-long-enough-for-hs256",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        log_level="WARNING",
        **store,
    )
    clock = FixedClock(datetime(2026, 9, 1, 5, 0, tzinfo=UTC))
    services = Services.build(settings, clock)
    try:
        started = time.perf_counter()
        last = build(services, clock)
        print(
            f"  {label}: 30 students × {LESSONS} lessons built in "
            f"{time.perf_counter() - started:.1f} s (last lesson {last.isoformat()})"
        )
        # The afternoon of the last lesson day: its marks are still within the deadline.
        clock.set(datetime(last.year, last.month, last.day, 10, 0, tzinfo=UTC))
        with TestClient(create_app(services=services)) as client:
            sign_in(client)
            warm = client.get(PAGE, params={"period_id": "S1"})  # templates compiled, caches warm
            expect(warm.status_code == 200, f"GET {PAGE}: {warm.status_code}")
            expect(warm.text.count('role="gridcell"') >= 30 * LESSONS, "the grid is not 30×80")
            meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', warm.text)
            expect(meta is not None, "no csrf-token meta on the page")
            assert meta is not None
            csrf = meta.group(1)

            pages = []
            for _ in range(GETS):
                started = time.perf_counter()
                r = client.get(PAGE, params={"period_id": "S1"})
                pages.append((time.perf_counter() - started) * 1000)
                expect(r.status_code == 200, f"GET {PAGE}: {r.status_code}")

            saves = []
            for i in range(SAVES):
                body = {
                    "student_id": STUDENTS[i % len(STUDENTS)],
                    "subject_id": SUBJECT,
                    "lesson_date": last.isoformat(),
                    "lesson_no": 2,
                    "work_kind": "written",
                    "value": 2 + i % 4,
                }
                headers = {"X-CSRF-Token": csrf, "Idempotency-Key": str(uuid.uuid4())}
                started = time.perf_counter()
                r = client.post("/api/v1/marks", json=body, headers=headers)
                saves.append((time.perf_counter() - started) * 1000)
                expect(r.status_code == 201, f"POST /api/v1/marks: {r.status_code} {r.text[:300]}")
        print(f"  {label}: {line(f'journal page 30×{LESSONS}, GET', pages, PAGE_GOAL_MS)}")
        print(f"  {label}: {line('mark saved from the page, POST', saves, SAVE_GOAL_MS)}")
    finally:
        services.close()


def main() -> None:
    print(
        f"Pages (issue 12): the journal page of a 30-student group with {LESSONS} lessons, "
        f"{GETS} GETs; a mark saved through the page's path, {SAVES} POSTs (in-process)"
    )
    which = os.environ.get("BENCH_STORES", "sqlite,postgres").split(",")
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in which:
            run("SQLite", {"database_url": f"sqlite:///{tmp}/pages.db"}, Path(tmp) / "sqlite")
        if "postgres" not in which:
            return
        with scratch_schema("bench_pages") as schema:
            if schema is not None:
                run(
                    "PostgreSQL",
                    {"database_url": POSTGRES_URL, "postgres_schema": schema},
                    Path(tmp) / "postgres",
                )


if __name__ == "__main__":
    main()
