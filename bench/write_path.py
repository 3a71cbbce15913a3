"""`make bench` (write path): real servers over loopback, 16 concurrent keep-alive clients.

Rows, all served by uvicorn with the same number of worker processes (BENCH_WORKERS, default
the number of CPU cores):
  - a trivial FastAPI app (bench/trivial_app.py): a mark-shaped JSON body into a pydantic
    model, 201 — the ceiling the others are compared with: the best of BENCH_TRIVIAL_RUNS
    runs (default 3), since its rate swings widely between runs on a small machine;
  - `ejournal serve` on a fresh SQLite file, POST /api/v1/marks (one mark per request);
  - `ejournal serve` on a fresh PostgreSQL schema, POST /api/v1/marks;
  - `ejournal serve` on a fresh PostgreSQL schema, POST /api/v1/entries (25 marks a request).

The load comes from wrk (C, with a Lua script rotating student ids, lesson dates and work
kinds) when installed, else from a Python http.client fallback that competes for the CPU.
Each row: BENCH_WARMUP seconds of warm-up (default 2), then BENCH_SECONDS measured (default 10).
RSS is the sum of VmRSS over the server's process tree when the load ends. The exit code is 0
whether or not the goals are met. PostgreSQL: EJOURNAL_TEST_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/postgres); its schemas are dropped at the end.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EJOURNAL = BIN / "ejournal"
ROSTER = ROOT / "examples" / "roster.json"
POSTGRES_URL = os.environ.get(
    "EJOURNAL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "2"))
CLIENTS = 16
WORKERS = int(os.environ.get("BENCH_WORKERS", "0")) or os.cpu_count() or 1
TEACHER, PASSWORD = "sokolova", "demo-password-2025"
GROUP, SUBJECT = "g1", "math"
KINDS = ["oral", "written", "homework", "practical"]
ENTRY_MARKS = 25
TRIVIAL_RUNS = int(os.environ.get("BENCH_TRIVIAL_RUNS", "3"))


# --- the roster and the lesson dates ---------------------------------------------------------

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _shift(value: Any, days: int) -> Any:
    if isinstance(value, dict):
        return {k: _shift(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, days) for v in value]
    if isinstance(value, str) and ISO_DATE.match(value):
        return (date.fromisoformat(value) + timedelta(days=days)).isoformat()
    return value


def school_today() -> date:
    """Today for the deadlines: the server's date, never later than the school's (UTC+5)."""
    zone = ZoneInfo(os.environ.get("EJOURNAL_TIMEZONE", "Asia/Yekaterinburg"))
    return min(date.today(), datetime.now(zone).date())


def lesson_dates(roster: dict[str, Any], today: date) -> list[date]:
    """School days (not Sundays) inside a period, ≤ today and within the mark deadline."""
    year = roster["academic_year"]
    window = int(year.get("rules", {}).get("current_mark_days", 7))
    periods = [
        (date.fromisoformat(p["starts_on"]), date.fromisoformat(p["ends_on"]))
        for p in year["periods"]
    ]
    latest_enrolment = max(
        date.fromisoformat(m["from"])
        for g in roster["groups"]
        if g["id"] == GROUP
        for m in g.get("students", g.get("members", []))
        if m.get("from")
    )
    days = []
    for back in range(window):
        d = today - timedelta(days=back)
        if d.weekday() == 6 or d < latest_enrolment:
            continue
        if any(start <= d <= end for start, end in periods):
            days.append(d)
    return days[:4]


def prepared_roster(tmp: Path) -> tuple[Path, list[date], str]:
    """The example roster, or a copy shifted by whole weeks so that today has lesson dates."""
    roster = json.loads(ROSTER.read_text(encoding="utf-8"))
    today = school_today()
    dates = lesson_dates(roster, today)
    if dates:
        return ROSTER, dates, "examples/roster.json"
    first = roster["academic_year"]["periods"][0]
    target = date.fromisoformat(first["starts_on"]) + timedelta(days=35)
    weeks = (today - target).days // 7
    shifted = _shift(roster, weeks * 7)
    year = shifted["academic_year"]
    start, end = date.fromisoformat(year["starts_on"]), date.fromisoformat(year["ends_on"])
    if re.match(r"^\d{4}-\d{4}$", roster["academic_year"]["id"]):
        year["id"] = f"{start.year}-{end.year}"
    path = tmp / "roster.json"
    path.write_text(json.dumps(shifted, ensure_ascii=False), encoding="utf-8")
    dates = lesson_dates(shifted, today)
    return path, dates, f"examples/roster.json shifted by {weeks} weeks"


def students(roster_path: Path) -> list[str]:
    roster = json.loads(roster_path.read_text(encoding="utf-8"))
    return [s["id"] for s in roster["students"]]


def mark_bodies(ids: list[str], dates: list[date]) -> list[str]:
    bodies = []
    for i in range(len(ids) * len(dates) * len(KINDS)):
        bodies.append(
            json.dumps(
                {
                    "student_id": ids[i % len(ids)],
                    "subject_id": SUBJECT,
                    "lesson_date": dates[(i // len(ids)) % len(dates)].isoformat(),
                    "work_kind": KINDS[(i // (len(ids) * len(dates))) % len(KINDS)],
                    "value": 2 + i % 4,
                }
            )
        )
    return bodies


def entry_bodies(ids: list[str], dates: list[date]) -> list[str]:
    bodies = []
    for i in range(len(dates) * len(KINDS) * 4):
        marks = [{"student_id": s, "value": 2 + (i + n) % 4} for n, s in enumerate(ids)]
        bodies.append(
            json.dumps(
                {
                    "group_id": GROUP,
                    "subject_id": SUBJECT,
                    "lesson_date": dates[i % len(dates)].isoformat(),
                    "work_kind": KINDS[(i // len(dates)) % len(KINDS)],
                    "marks": marks[:ENTRY_MARKS],
                }
            )
        )
    return bodies


# --- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def rss_mb(pid: int) -> float:
    total = 0
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}):\n{self.output()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/health")
                ok = conn.getresponse().status == 200
                conn.close()
                # Every worker must be up, not just the first one to answer.
                if ok and (len(self.workers()) >= WORKERS or WORKERS == 1):
                    time.sleep(0.2)
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"no /health in {timeout} s:\n{self.output()}")

    def workers(self) -> list[int]:
        # ejournal's workers (api/worker.py); the trivial app's (uvicorn's multiprocessing)
        marks = ("api.worker", "multiprocessing.spawn")
        return [p for p in process_tree(self.proc.pid)[1:] if any(m in _cmdline(p) for m in marks)]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                for p in reversed(process_tree(self.proc.pid)):
                    with contextlib.suppress(OSError):
                        os.kill(p, signal.SIGKILL)
                self.proc.wait()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    except OSError:
        return ""


def start(cmd: list[str], env: dict[str, str], port: int, log: Path) -> Server:
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(proc, port, log)
    try:
        server.wait_ready()
    except BaseException:
        server.stop()
        raise
    return server


def ejournal_env(tmp: Path, store: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EJOURNAL_")}
    env.update(
        EJOURNAL_ARGON2_TIME_COST="1",
        EJOURNAL_ARGON2_MEMORY_KIB="8192",
        EJOURNAL_VAR_DIR=str(tmp),
        EJOURNAL_LOG_LEVEL="WARNING",
        **store,
    )
    return env


def request(
    port: int, method: str, path: str, body: str | bytes, headers: dict[str, str]
) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, r.read().decode(errors="replace")
    finally:
        conn.close()


def token(port: int) -> str:
    form = urllib.parse.urlencode({"username": TEACHER, "password": PASSWORD})
    status, text = request(
        port,
        "POST",
        "/api/v1/auth/token",
        form,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    if status != 200:
        raise RuntimeError(f"POST /api/v1/auth/token → {status}: {text[:500]}")
    return str(json.loads(text)["access_token"])


# --- load ------------------------------------------------------------------------------------


@dataclass
class Load:
    requests: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    socket_errors: int = 0
    first_error: str = ""

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if s.startswith("2"))

    @property
    def errors(self) -> int:
        return self.requests - self.ok + self.socket_errors


LUA = """
local bodies = {
%(bodies)s
}
wrk.method = "POST"
wrk.path = "%(path)s"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  counter = tid * 37
  statuses = {}
  first_error = ""
end
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, bodies[(counter %% #bodies) + 1])
end
function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status >= 300 and first_error == "" then first_error = body or "" end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH_SUMMARY %%d %%d %%d %%d %%d\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout))
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do io.write("BENCH_STATUS ", k, " ", v, "\\n") end
    local fe = t:get("first_error")
    if fe ~= "" then io.write("BENCH_ERROR ", (string.gsub(fe, "\\n", " ")), "\\n") end
  end
end
"""


def wrk_load(port: int, path: str, bodies: list[str], bearer: str, seconds: float) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(
            LUA
            % {
                "bodies": ",\n".join(f"[==[{b}]==]" for b in bodies),
                "path": path,
                "token": bearer,
            }
        )
        script = f.name
    try:
        cmd = [
            "wrk",
            f"-t{min(CLIENTS, max(1, os.cpu_count() or 1))}",
            f"-c{CLIENTS}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            script,
            f"http://127.0.0.1:{port}",
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    finally:
        os.unlink(script)
    load = Load()
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_SUMMARY "):
            n, us, p50, p99, sock = (int(x) for x in line.split()[1:])
            load.requests, load.seconds = n, us / 1e6
            load.p50_ms, load.p99_ms, load.socket_errors = p50 / 1000, p99 / 1000, sock
        elif line.startswith("BENCH_STATUS "):
            _, status, count = line.split()
            load.statuses[status] += int(count)
        elif line.startswith("BENCH_ERROR ") and not load.first_error:
            load.first_error = line[len("BENCH_ERROR ") :][:300]
    if not load.seconds:
        raise RuntimeError(f"wrk failed: {out.stderr or out.stdout}")
    return load


def python_load(port: int, path: str, bodies: list[str], bearer: str, seconds: float) -> Load:
    """Fallback without wrk: CLIENTS threads with one keep-alive connection each."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {bearer}"}
    stop_at = time.perf_counter() + seconds
    latencies: list[float] = []
    load = Load()
    lock = threading.Lock()

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        statuses: Counter[str] = Counter()
        errors, first_error, i = 0, "", n * 37
        while time.perf_counter() < stop_at:
            i += 1
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=bodies[i % len(bodies)], headers=headers)
                r = conn.getresponse()
                text = r.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            mine.append(time.perf_counter() - started)
            statuses[str(r.status)] += 1
            if r.status >= 300 and not first_error:
                first_error = text.decode(errors="replace")[:300]
        conn.close()
        with lock:
            latencies.extend(mine)
            load.statuses.update(statuses)
            load.socket_errors += errors
            load.first_error = load.first_error or first_error

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    load.seconds = time.perf_counter() - started
    load.requests = len(latencies)
    ordered = sorted(latencies) or [0.0]
    load.p50_ms = ordered[len(ordered) // 2] * 1000
    load.p99_ms = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000
    return load


WRK = shutil.which("wrk")
run_load = wrk_load if WRK else python_load


# --- rows ------------------------------------------------------------------------------------


@dataclass
class Row:
    figure: str
    marks_per_request: int
    load: Load | None = None
    rss: float = 0.0
    note: str = ""

    @property
    def req_s(self) -> float:
        return self.load.ok / self.load.seconds if self.load else 0.0

    @property
    def marks_s(self) -> float:
        return self.req_s * self.marks_per_request


def measure(server: Server, row: Row, path: str, bodies: list[str], bearer: str) -> None:
    if WARMUP > 0:
        run_load(server.port, path, bodies, bearer, WARMUP)
    row.load = run_load(server.port, path, bodies, bearer, SECONDS)
    row.rss = rss_mb(server.proc.pid)
    if row.load.errors:
        codes = ", ".join(f"{s}×{n}" for s, n in sorted(row.load.statuses.items()))
        row.note = f"statuses {codes}; socket errors {row.load.socket_errors}"
        if row.load.first_error:
            row.note += f"; first error body: {row.load.first_error}"


def trivial_row(tmp: Path, bodies: list[str]) -> Row:
    row = Row("trivial FastAPI app (POST, pydantic, 201)", 1)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EJOURNAL_")}
    cmd = [
        sys.executable,
        str(ROOT / "bench" / "trivial_app.py"),
        "--workers",
        str(WORKERS),
        "--port",
        str(port),
    ]
    server = start(cmd, env, port, tmp / "trivial.log")
    try:
        status, text = request(
            port, "POST", "/api/v1/marks", bodies[0], {"Content-Type": "application/json"}
        )
        if status != 201:
            row.note = f"single POST → {status}: {text[:300]}"
            return row
        measure(server, row, "/api/v1/marks", bodies, "unused")
    finally:
        server.stop()
    return row


def ejournal_row(
    tmp: Path,
    figure: str,
    store: dict[str, str],
    roster: Path,
    path: str,
    bodies: list[str],
    marks_per_request: int,
) -> Row:
    row = Row(figure, marks_per_request)
    var = tmp / uuid.uuid4().hex[:8]
    var.mkdir()
    env = ejournal_env(var, store)
    imported = subprocess.run(
        [str(EJOURNAL), "import", str(roster)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if imported.returncode != 0:
        row.note = f"import failed ({imported.returncode}): {imported.stderr[-500:]}"
        return row
    port = free_port()
    cmd = [str(EJOURNAL), "serve", "--workers", str(WORKERS), "--port", str(port)]
    try:
        server = start(cmd, env, port, var / "server.log")
    except RuntimeError as e:
        row.note = f"server did not start: {str(e)[-500:]}"
        return row
    try:
        bearer = token(port)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {bearer}"}
        status, text = request(port, "POST", path, bodies[0], headers)
        if status in (404, 405) and path != "/api/v1/marks":
            row.note = f"not available (POST {path} → {status})"
            return row
        if status != 201:
            row.note = f"single POST {path} → {status}: {text[:500]}"
            return row
        measure(server, row, path, bodies, bearer)
        if server.proc.poll() is not None:
            row.note += f" server exited: {server.output()[-300:]}"
    finally:
        server.stop()
    return row


def postgres_schema() -> str | None:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error as e:
        print(f"PostgreSQL not reachable at {POSTGRES_URL}: {e}", file=sys.stderr)
        return None
    return schema


def drop_schemas(schemas: list[str]) -> None:
    if not schemas:
        return
    with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3) as conn:
        for schema in schemas:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# --- the table -------------------------------------------------------------------------------


def goal(row: Row, trivial: float) -> str:
    if row.load is None:
        return ""
    ratio = row.req_s / trivial if trivial else 0.0
    rss_ok = row.rss < 300
    checks: list[tuple[str, bool]] = [("RSS < 300 MB", rss_ok)]
    if "SQLite" in row.figure:
        checks = [("≥ 12% of trivial", ratio >= 0.12), ("0 errors", row.load.errors == 0)]
        checks.append(("RSS < 300 MB", rss_ok))
    elif "entries" in row.figure:
        mark_ratio = row.marks_s / trivial if trivial else 0.0
        checks = [("marks/s ≥ 2× trivial req/s", mark_ratio >= 2), ("RSS < 300 MB", rss_ok)]
    elif "PostgreSQL" in row.figure:
        checks = [
            ("≥ 30% of trivial", ratio >= 0.30),
            ("p99 ≤ 100 ms", row.load.p99_ms <= 100),
            ("RSS < 300 MB", rss_ok),
        ]
    return "; ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in checks)


def print_table(rows: list[Row]) -> None:
    trivial = rows[0].req_s if rows and rows[0].load else 0.0
    head = [
        "figure",
        "req/s",
        "marks/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "RSS MB (all server processes)",
        "ratio to trivial app",
        "goal",
    ]
    lines = [head]
    for i, row in enumerate(rows):
        if row.load is None:
            lines.append([row.figure, row.note or "not measured", "", "", "", "", "", "", ""])
            continue
        if i == 0:
            ratio = "1.00"
        elif row.marks_per_request > 1:
            ratio = f"{row.marks_s / trivial:.2f} (marks/s)" if trivial else "-"
        else:
            ratio = f"{row.req_s / trivial:.2f}" if trivial else "-"
        lines.append(
            [
                row.figure,
                f"{row.req_s:.0f}",
                f"{row.marks_s:.0f}",
                f"{row.load.p50_ms:.1f}",
                f"{row.load.p99_ms:.1f}",
                f"{row.load.errors}",
                f"{row.rss:.0f}",
                ratio,
                "(baseline)" if i == 0 else goal(row, trivial),
            ]
        )
    print("| " + " | ".join(lines[0]) + " |")
    print("|" + "|".join("---" for _ in lines[0]) + "|")
    for line in lines[1:]:
        print("| " + " | ".join(line) + " |")
    for row in rows:
        if row.load is not None and row.note:
            print(f"\n{row.figure}: {row.note}")


def main() -> None:
    loader = (
        f"wrk ({WRK}), {min(CLIENTS, os.cpu_count() or 1)} threads"
        if WRK
        else "Python http.client threads (wrk not found: the client competes for the CPU)"
    )
    with tempfile.TemporaryDirectory(prefix="bench-write-") as tmpdir:
        tmp = Path(tmpdir)
        roster, dates, roster_note = prepared_roster(tmp)
        if not dates:
            print(f"No lesson date within the deadline for today ({school_today()}); stopping.")
            return
        ids = students(roster)
        marks, entries = mark_bodies(ids, dates), entry_bodies(ids, dates)
        print(
            f"Write path: {CLIENTS} concurrent keep-alive clients on loopback, {WORKERS} uvicorn "
            f"workers per server, {WARMUP:g} s warm-up + {SECONDS:g} s per row; load: {loader}."
        )
        print(
            f"Roster {roster_note}; teacher {TEACHER}, {len(ids)} students, lesson dates "
            f"{', '.join(d.isoformat() for d in dates)}; work kinds {', '.join(KINDS)}.\n",
            flush=True,
        )
        # The baseline is the best of TRIVIAL_RUNS: on a small machine its rate swings by 2×
        # between runs (how uvicorn's workers happen to share the 16 connections, and wrk on
        # the same cores), and the highest one makes every ratio the strictest.
        tries = [trivial_row(tmp, marks) for _ in range(TRIVIAL_RUNS)]
        rows = [max(tries, key=lambda r: r.req_s)]
        rates = ", ".join(f"{r.req_s:.0f}" for r in tries)
        print(f"  measured: {rows[-1].figure} ({rates} req/s)", file=sys.stderr, flush=True)
        rows.append(
            ejournal_row(
                tmp,
                "ejournal, SQLite, POST /api/v1/marks (1 mark)",
                {"EJOURNAL_DATABASE_URL": f"sqlite:///{tmp}/bench.db"},
                roster,
                "/api/v1/marks",
                marks,
                1,
            )
        )
        print(f"  measured: {rows[-1].figure}", file=sys.stderr, flush=True)
        schemas: list[str] = []
        try:
            for figure, path, bodies, per in (
                ("ejournal, PostgreSQL, POST /api/v1/marks (1 mark)", "/api/v1/marks", marks, 1),
                (
                    f"ejournal, PostgreSQL, POST /api/v1/entries ({ENTRY_MARKS} marks)",
                    "/api/v1/entries",
                    entries,
                    ENTRY_MARKS,
                ),
            ):
                schema = postgres_schema()
                if schema is None:
                    rows.append(Row(figure, per, note="PostgreSQL not reachable"))
                    continue
                schemas.append(schema)
                store = {
                    "EJOURNAL_DATABASE_URL": POSTGRES_URL,
                    "EJOURNAL_POSTGRES_SCHEMA": schema,
                }
                rows.append(ejournal_row(tmp, figure, store, roster, path, bodies, per))
                print(f"  measured: {rows[-1].figure}", file=sys.stderr, flush=True)
        finally:
            drop_schemas(schemas)
        print_table(rows)


if __name__ == "__main__":
    main()
