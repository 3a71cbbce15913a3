"""A call's waits for the store share one budget; dead pooled connections are found at once.

The pools are psycopg_pool's own, on a real server: the shared PostgreSQL for connections
that break, a port nobody listens on for a store that is down.
"""

from __future__ import annotations

import contextvars
import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg_pool import ConnectionPool, PoolTimeout

from adapters.store_waits import (
    LEAST_WAIT_SECONDS,
    bound_waits,
    budget_from,
    call_started,
    wait_left,
)
from tests.adapters.live_server import free_port
from tests.conftest import POSTGRES_URL, require_postgres

pytestmark = pytest.mark.serial  # wait times measured: run alone (Makefile)


def test_without_a_budget_a_wait_has_the_whole_timeout() -> None:
    assert contextvars.Context().run(wait_left, 5.0) == 5.0


def test_a_budget_counts_from_the_call_s_start() -> None:
    def left() -> float:
        call_started(at=time.monotonic() - 2.0)
        return wait_left(5.0)

    assert 2.9 <= contextvars.Context().run(left) <= 3.0


def test_a_spent_budget_still_takes_a_ready_connection() -> None:
    with budget_from(time.monotonic() - 60):
        assert wait_left(5.0) == LEAST_WAIT_SECONDS
    assert wait_left(5.0) == 5.0  # the budget ends with its block


@pytest.fixture
def pool_of_a_store_that_is_down() -> Iterator[ConnectionPool]:
    pool = ConnectionPool(
        f"host=127.0.0.1 port={free_port()} user=postgres connect_timeout=1",  # refused
        min_size=1,
        timeout=3.0,
        open=True,
    )
    bound_waits(pool, 3.0)
    try:
        yield pool
    finally:
        pool.close(timeout=1)


def test_a_call_that_has_waited_waits_only_what_is_left(
    pool_of_a_store_that_is_down: ConnectionPool,
) -> None:
    pool = pool_of_a_store_that_is_down
    started = time.monotonic()
    with budget_from(started - 2.5), pytest.raises(PoolTimeout):  # 0.5 s of 3 left
        pool.connection().__enter__()
    took = time.monotonic() - started
    assert took < 1.5, f"waited {took:.2f} s: the pool's whole timeout, not the call's rest"


def test_a_wait_outside_any_call_has_the_pool_s_timeout(
    pool_of_a_store_that_is_down: ConnectionPool,
) -> None:
    pool = pool_of_a_store_that_is_down
    started = time.monotonic()
    with pytest.raises(PoolTimeout):
        pool.getconn()
    assert time.monotonic() - started >= 2.9


def test_reconnecting_gives_up_after_the_busy_time(
    pool_of_a_store_that_is_down: ConnectionPool,
) -> None:
    # psycopg_pool's default: five minutes of backoff (1, 2, 4 … 64 s between attempts).
    assert pool_of_a_store_that_is_down.reconnect_timeout == 3.0


@pytest.mark.postgres
def test_a_broken_connection_has_the_pool_replace_the_dead_ones() -> None:
    """A server restart kills every idle connection; the first request to meet one fails
    (`503`), the others then get live ones."""
    require_postgres()
    name = f"ejournal_waits_{uuid.uuid4().hex[:8]}"
    pool = ConnectionPool(
        POSTGRES_URL, min_size=3, max_size=3, kwargs={"application_name": name}, open=True
    )
    try:
        pool.wait(timeout=10)
        bound_waits(pool, 5.0)
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (name,),
            ).fetchone()
        assert killed == (3,)

        with pytest.raises(psycopg.OperationalError), pool.connection() as conn:
            conn.execute("SELECT 1")
        for thread in threading.enumerate():
            if thread.name == "pool-check":
                thread.join(timeout=10)
        pool.wait(timeout=10)  # the replacements are in

        assert pool.get_stats()["connections_lost"] == 2  # the idle two, found by the check
        held = [pool.getconn(timeout=5) for _ in range(3)]
        try:
            for conn in held:
                assert conn.execute("SELECT 1").fetchone() == (1,)
        finally:
            for conn in held:
                pool.putconn(conn)
    finally:
        pool.close(timeout=1)
