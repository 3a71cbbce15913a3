"""One queue for every writer of a SQLite file, across threads and processes (ADR 13).

SQLite lets one writer in at a time and makes the others retry with sleeps that grow to
100 ms, so under load some writers starve while others get in: seconds of tail latency.
Every writer of ours (event saves, read-model batches, accounts, the security log) first
passes this gate: a lock per process, then an exclusive `flock` on `<database>.write.lock`
polled finely. SQLite's own lock is then almost never contended. A writer that cannot pass
within the busy time gets `sqlite3.OperationalError` (answered `503 store-busy`).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_POLL_SECONDS = 0.0005
_gates: dict[str, WriteGate] = {}
_gates_lock = threading.Lock()


class WriteGate:
    def __init__(self, path: str) -> None:
        self.path = path
        self._thread_lock = threading.RLock()
        self._fd: int | None = None
        self._depth = 0

    @contextmanager
    def passage(self, timeout: float) -> Iterator[None]:
        deadline = time.monotonic() + timeout
        if not self._thread_lock.acquire(timeout=timeout):
            raise sqlite3.OperationalError("database is locked (writers' queue)")
        try:
            if self._depth == 0:
                self._lock_file(deadline)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def _lock_file(self, deadline: float) -> None:
        if self._fd is None:
            self._fd = os.open(f"{self.path}.write.lock", os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise sqlite3.OperationalError(
                        "database is locked (another process writes)"
                    ) from None
                time.sleep(_POLL_SECONDS)


def gate_for(path: str) -> WriteGate | None:
    """The process's gate for a SQLite file (None for an in-memory database)."""
    if not path or path == ":memory:" or "mode=memory" in path:
        return None
    key = os.path.realpath(path)
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = WriteGate(key)
        return gate
