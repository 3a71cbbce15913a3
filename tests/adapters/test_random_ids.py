"""Random ids from a pool of the OS's random bytes (adapters/random_ids.py)."""

from __future__ import annotations

import os
import uuid

import pytest

from adapters import random_ids
from adapters.random_ids import RandomIds


def test_ids_are_version_4_uuids_unique_and_drawn_a_pool_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    real = os.urandom
    monkeypatch.setattr(random_ids.os, "urandom", lambda n: calls.append(n) or real(n))
    ids = RandomIds(pool_ids=100)
    made = [ids() for _ in range(1000)]
    assert len(set(made)) == 1000
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in made)
    assert calls == [1600] * 10  # ten system calls, not a thousand


def test_a_forked_child_never_hands_out_its_parents_bytes() -> None:
    ids = random_ids.random_uuid
    ids()  # the pool is filled
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the ids it makes next
        try:
            os.write(write, b"".join(ids().bytes for _ in range(5)))
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 80)
    os.close(read)
    os.waitpid(pid, 0)
    parent = b"".join(ids().bytes for _ in range(5))
    assert len(child) == 80
    assert {child[i : i + 16] for i in range(0, 80, 16)}.isdisjoint(
        {parent[i : i + 16] for i in range(0, 80, 16)}
    )
