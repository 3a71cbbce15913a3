"""Real `ejournal` processes for tests: the CLI, and `serve` in its own process group.

The server is started with `start_new_session=True`, so its process group holds the supervisor
and its workers, and nothing else: `kill_9` and `stop` signal that group
only. The supervisor is reaped only after the whole group is gone, so its pid (the group id)
cannot be reused by an unrelated process while we may still signal the group.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from adapters.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EJOURNAL = Path(sys.executable).parent / "ejournal"
ROSTER = ROOT / "examples" / "roster.json"
TEACHER = "sokolova"
PASSWORD = "demo-password-2025"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(settings: Settings) -> dict[str, str]:
    """The environment a server and the CLI need to share one store (and one token secret)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EJOURNAL_")}
    env.update(
        EJOURNAL_DATABASE_URL=settings.database_url,
        EJOURNAL_POSTGRES_SCHEMA=settings.postgres_schema,
        EJOURNAL_VAR_DIR=str(settings.var_dir),
        EJOURNAL_SECRET_KEY=settings.secret_key,
        EJOURNAL_ARGON2_TIME_COST=str(settings.argon2_time_cost),
        EJOURNAL_ARGON2_MEMORY_KIB=str(settings.argon2_memory_kib),
        EJOURNAL_LOG_LEVEL="WARNING",
    )
    return env


def tail(path: Path, chars: int = 3000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        return f"<{path}: {e}>"
    return (
        f"--- {path.name} (last {min(chars, len(text))} of {len(text)} chars) ---\n" + text[-chars:]
    )


def run_cli(args: list[str], env: dict[str, str], log: Path, timeout: float = 120) -> int:
    """Run `ejournal ARGS`, output appended to `log`; the exit code."""
    with log.open("ab") as out:
        out.write(f"$ ejournal {' '.join(args)}\n".encode())
        out.flush()
        done = subprocess.run(
            [str(EJOURNAL), *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )
    return done.returncode


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes whose process group is pgid."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        # fields: state, ppid, pgrp, ...
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


class LiveServer:
    """One `ejournal serve --workers N` in its own process group, its output in a log file."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 2) -> None:
        self.env = env
        self.log = log
        self.workers = workers
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(EJOURNAL), "serve", "--workers", str(self.workers), "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited early ({self.proc.returncode})\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no /health in {timeout} s\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                try:
                    conn.request("GET", "/health")
                    response = conn.getresponse()
                    response.read()
                    if response.status == 200:
                        return
                finally:
                    conn.close()
            except OSError:
                pass
            time.sleep(0.05)

    @property
    def pgid(self) -> int:
        assert self.proc is not None
        return self.proc.pid  # a session leader: its pid is the group id

    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def _signal_group(self, sig: int) -> None:
        # Only while the leader is not reaped: its pid (= the group id) cannot be reused yet.
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, sig)

    def _reap(self, timeout: float) -> bool:
        """Wait until the whole group is gone, then reap the leader; False on timeout."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while _group_members(self.pgid):
            if time.monotonic() > deadline:
                return False
            # reap the leader's zombie lazily: poll() would reap it, freeing the pid too early
            time.sleep(0.02)
        self.proc.wait(timeout=5)
        return True

    def kill_9(self, timeout: float = 20) -> None:
        """SIGKILL to the supervisor and its workers at once; wait until all are gone."""
        self._signal_group(signal.SIGKILL)
        assert self._reap(timeout), f"server group {self.pgid} alive {timeout} s after SIGKILL"

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM to the group, wait for all; the supervisor's exit code."""
        assert self.proc is not None
        self._signal_group(signal.SIGTERM)
        if not self._reap(timeout):
            self._signal_group(signal.SIGKILL)
            self._reap(10)
            raise AssertionError(f"server still running {timeout} s after SIGTERM\n{self.tail()}")
        return int(self.proc.returncode or 0)

    def cleanup(self) -> None:
        """For `finally`: whatever state the server is in, leave none of its processes."""
        if self.running():
            self._signal_group(signal.SIGKILL)
            self._reap(20)

    def tail(self) -> str:
        return tail(self.log)


class Client:
    """A keep-alive HTTP/1.1 connection to whichever port `port()` names now."""

    def __init__(self, port: Any, timeout: float = 30) -> None:
        self._port = port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None
        self.conn_port = 0

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, lower-cased headers, body); raises OSError / HTTPException when no answer."""
        port = self._port()
        if self.conn is None or self.conn_port != port:
            self.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=self.timeout)
            self.conn_port = port
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            response = self.conn.getresponse()
            data = response.read()
        except BaseException:
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def login(port: int, username: str = TEACHER, password: str = PASSWORD) -> str:
    from urllib.parse import urlencode

    client = Client(lambda: port)
    try:
        status, _, body = client.request(
            "POST",
            "/api/v1/auth/token",
            urlencode({"username": username, "password": password}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
    finally:
        client.close()
    assert status == 200, body
    return str(json.loads(body)["access_token"])
