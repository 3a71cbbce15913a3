"""Random (version 4) UUIDs drawn from the operating system's generator a few kilobytes at a
time instead of one `os.urandom(16)` call each.

`uuid.uuid4()` makes a system call per id, and each system call lets go of the interpreter's
lock: a busy server thread then waits to get it back (a request of 25 marks spent 6% of its
time there). The bytes are the same kind — `os.urandom`, fit for unguessable ids — and a
forked child starts with a fresh pool, never its parent's."""

from __future__ import annotations

import os
import threading
import uuid

POOL_IDS = 256


class RandomIds:
    def __init__(self, pool_ids: int = POOL_IDS) -> None:
        self._size = 16 * pool_ids
        self._pool = b""
        self._at = 0
        self._lock = threading.Lock()

    def __call__(self) -> uuid.UUID:
        with self._lock:
            if self._at >= len(self._pool):
                self._pool, self._at = os.urandom(self._size), 0
            chunk = self._pool[self._at : self._at + 16]
            self._at += 16
        return uuid.UUID(bytes=chunk, version=4)

    def forget(self) -> None:
        """Drop the unused bytes (a forked child must not hand out its parent's)."""
        with self._lock:
            self._pool, self._at = b"", 0


random_uuid = RandomIds()
os.register_at_fork(after_in_child=random_uuid.forget)
