"""`make bench` (read models): a generated 1,000-student school year (~600,000 events) on
each store — time to rebuild the read models from zero, and p95 latency of gradebook,
attendance and summary-sheet reads (in-process HTTP client), with and without `as_of`; and the
replay alternative to bitemporal rows for `as_of`, measured for the ADR; then the year's
archive: close, export, offline verify (events per second), replay (bench/archive.py)."""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.clock import FixedClock  # noqa: E402
from adapters.settings import Settings  # noqa: E402
from api.app import create_app  # noqa: E402
from api.bootstrap import Services  # noqa: E402
from bench import archive, school  # noqa: E402
from bench.scratch import POSTGRES_URL, scratch_schema  # noqa: E402
from domain.ids import journal_id  # noqa: E402

SAMPLES = int(os.environ.get("BENCH_READS", "200"))


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(call: Callable[[], Any], samples: int) -> tuple[float, float]:
    latencies = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - started) * 1000)
    return statistics.median(latencies), p95(latencies)


def run(label: str, store: dict[str, Any], var_dir: Path) -> dict[str, float]:
    settings = Settings(
        var_dir=var_dir,
        secret_key="bench-secret-key-long-enough-for-hs256",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        log_level="WARNING",
        run_projections=False,
        **store,
    )
    services = Services.build(settings, FixedClock(datetime(2027, 7, 1, 6, tzinfo=UTC)))
    try:
        started = time.perf_counter()
        events = school.generate(services)
        print(f"  {label}: generated {events:,} events in {time.perf_counter() - started:.1f} s")
        settle(store)
        runner = services.journal.read_models
        started = time.perf_counter()
        runner.rebuild()  # every read model, in one pass over the log
        figures = {"rebuild": time.perf_counter() - started}
        print(
            f"  {label}: rebuild of all read models ({', '.join(runner.projections)}) from zero: "
            f"{figures['rebuild']:.1f} s ({events:,} events)"
        )
        reads(label, services)
        replay_alternative(label, services)
        if os.environ.get("BENCH_ARCHIVE", "1") == "1":
            figures.update(archive.run(label, services, var_dir))
    finally:
        services.close()
    return figures


# Issue 14's table: figure, how it is shown, the goal, whether a value meets it.
GOALS: list[tuple[str, str, str, Callable[[float], bool]]] = [
    ("rebuild", "rebuild of all read models from zero, s", "≤ 20", lambda v: v <= 20),
    ("verify", "`ejournal archive verify`, events/s", "≥ 100,000", lambda v: v >= 100_000),
    ("replay", "`ejournal archive replay`, s", "≤ 30", lambda v: v <= 30),
    ("export", "export of the year, s", "≤ 60", lambda v: v <= 60),
]


def table(results: dict[str, dict[str, float]]) -> str:
    stores = list(results)
    lines = [
        f"| figure | {' | '.join(stores)} | goal |",
        f"|---|{'---|' * len(stores)}---|",
    ]
    for key, label, goal, met in GOALS:
        cells = []
        for store in stores:
            value = results[store].get(key)
            shown = "—" if value is None else f"{value:,.0f}" if value >= 1000 else f"{value:.1f}"
            cells.append(shown if value is None or met(value) else f"{shown} (missed)")
        lines.append(f"| {label} | {' | '.join(cells)} | {goal} |")
    return "\n".join(lines)


def settle(store: dict[str, Any]) -> None:
    """The store as a running school's would be, not just bulk-written: the write-ahead log
    checkpointed and the planner's statistics fresh (autovacuum's work on PostgreSQL)."""
    if "postgres_schema" in store:
        schema = store["postgres_schema"]
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            tables = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
            ).fetchall()
            for (table,) in tables:
                conn.execute(f'VACUUM ANALYZE "{schema}"."{table}"')
            conn.execute("CHECKPOINT")
        return
    path = store["database_url"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("ANALYZE")


def reads(label: str, services: Services) -> None:
    rng = random.Random(1)
    groups = [f"g{g:02d}" for g in range(school.GROUPS)]
    start = datetime(2026, 9, 1, tzinfo=UTC)
    moments = [start + timedelta(days=rng.randint(0, 300)) for _ in range(SAMPLES)]
    with TestClient(create_app(services=services)) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "bench.deputy", "password": school.PASSWORD}
        ).json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}

        def get(path: str, params: dict[str, Any]) -> None:
            r = client.get(path, params=params, headers=h)
            assert r.status_code == 200, r.text

        def gradebook(as_of: bool) -> Callable[[], None]:
            def call() -> None:
                params = {
                    "group_id": rng.choice(groups),
                    "subject_id": rng.choice(school.SUBJECTS),
                    "period_id": rng.choice(("S1", "S2")),
                }
                if as_of:
                    params["as_of"] = rng.choice(moments).isoformat()
                get("/api/v1/gradebook", params)

            return call

        def attendance(as_of: bool) -> Callable[[], None]:
            def call() -> None:
                params = {
                    "group_id": rng.choice(groups),
                    "from_date": "2026-09-01",
                    "to_date": "2026-12-30",
                }
                if as_of:
                    params["as_of"] = rng.choice(moments).isoformat()
                get("/api/v1/attendance", params)

            return call

        def summary(as_of: bool) -> Callable[[], None]:
            def call() -> None:
                params = {"group_id": rng.choice(groups)}
                if as_of:
                    params["as_of"] = rng.choice(moments).isoformat()
                get(f"/api/v1/years/{school.YEAR}/summary-sheet", params)

            return call

        for name, make in (
            ("gradebook", gradebook),
            ("attendance", attendance),
            ("summary sheet", summary),
        ):
            for as_of in (False, True):
                make(as_of)()  # warm
                median, high = timed(make(as_of), SAMPLES)
                what = f"{name}{' as_of' if as_of else ''}"
                print(f"  {label}: {what:<22} median {median:6.1f} ms, p95 {high:6.1f} ms")


def replay_alternative(label: str, services: Services) -> None:
    """What `as_of` would cost by replaying each student's journal instead of reading rows."""
    app = services.journal
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    students = [f"s{i:04d}" for i in range(school.PER_GROUP)]
    started = time.perf_counter()
    for student in students:
        app.journal_as_of(journal_id(school.ORG, school.YEAR, student), moment)
    took = (time.perf_counter() - started) * 1000
    print(
        f"  {label}: replay alternative: one group's gradebook as_of by replaying "
        f"{len(students)} journals: {took:.0f} ms"
    )


def main() -> None:
    print(
        f"Read models: a generated school year ({school.GROUPS * school.PER_GROUP} students, "
        f"{len(school.SUBJECTS)} subjects), {SAMPLES} reads each"
    )
    which = os.environ.get("BENCH_STORES", "sqlite,postgres").split(",")
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in which:
            results["SQLite"] = run(
                "SQLite", {"database_url": f"sqlite:///{tmp}/school.db"}, Path(tmp)
            )
        if "postgres" in which:
            with scratch_schema() as schema:
                if schema is not None:
                    results["PostgreSQL"] = run(
                        "PostgreSQL",
                        {"database_url": POSTGRES_URL, "postgres_schema": schema},
                        Path(tmp),
                    )
    print(f"\nThe archive's figures (issue 14), {os.cpu_count()} CPU cores:\n{table(results)}")


if __name__ == "__main__":
    main()
