"""`make bench`: latency of POST /api/v1/marks through the in-process client, on both stores.

Prints median and p95 per store. PostgreSQL comes from EJOURNAL_TEST_POSTGRES_URL and gets a
schema of its own, dropped afterwards.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.clock import FixedClock  # noqa: E402
from adapters.roster import parse_roster  # noqa: E402
from adapters.roster_import import import_roster  # noqa: E402
from adapters.settings import Settings  # noqa: E402
from api.app import create_app  # noqa: E402
from api.bootstrap import Services  # noqa: E402
from bench.scratch import POSTGRES_URL, scratch_schema  # noqa: E402
from domain.actors import system_actor  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_MARKS", "1000"))
WARMUP = 50


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_marks(store: dict[str, Any], var_dir: Path) -> dict[str, float]:
    settings = Settings(
        var_dir=var_dir,
        secret_key="bench-secret-key-long-enough-for-hs256",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        log_level="WARNING",
        **store,
    )
    services = Services.build(settings, FixedClock(datetime(2026, 9, 3, 5, tzinfo=UTC)))
    roster = json.loads((ROOT / "examples" / "roster.json").read_text(encoding="utf-8"))
    import_roster(services.journal, services.passwords, parse_roster(roster), system_actor("sght"))
    students = [s["id"] for s in roster["students"] if s["id"] != "s25"]
    try:
        with TestClient(create_app(services=services)) as client:
            token = client.post(
                "/api/v1/auth/token",
                data={"username": "sokolova", "password": "demo-password-2025"},
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            latencies = []
            for i in range(WARMUP + REQUESTS):
                body = {
                    "student_id": students[i % len(students)],
                    "subject_id": "math",
                    "lesson_date": "2026-09-02",
                    "work_kind": "oral",
                    "value": 2 + i % 4,
                }
                started = time.perf_counter()
                r = client.post("/api/v1/marks", json=body, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                assert r.status_code == 201, r.text
                if i >= WARMUP:
                    latencies.append(elapsed)
    finally:
        services.close()
    return {
        "median": statistics.median(latencies),
        "p95": percentile(latencies, 0.95),
        "per_s": 1000 / statistics.mean(latencies),
    }


def main() -> None:
    print(
        f"POST /api/v1/marks, in-process client, {REQUESTS} requests after {WARMUP} warm-up, "
        f"25 students' journals growing"
    )
    with tempfile.TemporaryDirectory() as tmp:
        r = bench_marks({"database_url": f"sqlite:///{tmp}/bench.db"}, Path(tmp))
        print(
            f"  SQLite:     median {r['median']:.2f} ms, p95 {r['p95']:.2f} ms, "
            f"{r['per_s']:.0f} req/s"
        )
        with scratch_schema() as schema:
            if schema is None:
                return
            r = bench_marks({"database_url": POSTGRES_URL, "postgres_schema": schema}, Path(tmp))
            print(
                f"  PostgreSQL: median {r['median']:.2f} ms, p95 {r['p95']:.2f} ms, "
                f"{r['per_s']:.0f} req/s"
            )


if __name__ == "__main__":
    main()
