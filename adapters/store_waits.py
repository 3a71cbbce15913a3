"""How long a call waits for a PostgreSQL store that is down, and how soon it is used again.

Three things a pool of psycopg_pool does not bound on its own (ADR 19):

- A call's waits add up. The committer runs its calls one after another, each waiting up to
  the pool's timeout: behind two calls that each waited five seconds the third answered after
  fifteen. A call now has one budget, the pool's timeout counted from when it was submitted
  (`call_started`), shared by every connection it asks for, so a busy or unreachable store
  answers `503 store-busy` within about one busy time.
- Connections idle in the pool through a restart are dead and look alive: each would fail
  one request after the store came back. The first broken one returned has the pool check
  the others (`ConnectionPool.check`, in the background).
- Reconnection backs off (1, 2, 4, 8 … s, for five minutes): after a longer outage the pool
  came back up to a minute after the store. Attempts now give up after the busy time, and the
  next call that finds the pool empty starts a new one: while calls wait, the store is tried
  at least every two seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import structlog

# The least a connection is waited for, even by a call whose budget is spent: one that is
# ready in the pool is still taken (a call that queued long is late, not failed).
LEAST_WAIT_SECONDS = 0.05

_started: ContextVar[float | None] = ContextVar("store_call_started", default=None)


def call_started(at: float | None = None) -> None:
    """The current call's budget starts now (or `at`, a `time.monotonic()` reading)."""
    _started.set(time.monotonic() if at is None else at)


def started_at() -> float | None:
    """When the current call's budget started, or None when it has none."""
    return _started.get()


@contextmanager
def budget_from(at: float | None) -> Iterator[None]:
    """Waits inside count from `at` (None: each wait has the pool's whole timeout)."""
    token = _started.set(at)
    try:
        yield
    finally:
        _started.reset(token)


def wait_left(timeout: float) -> float:
    """What is left of a budget of `timeout` seconds for the current call."""
    started = _started.get()
    if started is None:
        return timeout
    return max(LEAST_WAIT_SECONDS, timeout - (time.monotonic() - started))


def bound_waits(pool: Any, busy_seconds: float) -> None:
    """Bound a psycopg_pool `ConnectionPool`'s waits as the module says (before or after it
    opens). Its `getconn` and `putconn` are wrapped on the instance: the library's pool is
    made inside its datastore, so its class is not ours to choose. Once per pool."""
    if getattr(pool, "_waits_bounded", False):
        return
    pool._waits_bounded = True
    pool.reconnect_timeout = busy_seconds
    take: Callable[..., Any] = pool.getconn
    give: Callable[[Any], None] = pool.putconn
    checking = threading.Lock()

    def getconn(timeout: float | None = None) -> Any:
        return take(wait_left(pool.timeout) if timeout is None else timeout)

    def putconn(conn: Any) -> None:
        broken = bool(getattr(conn, "broken", False))
        give(conn)
        if broken and checking.acquire(blocking=False):
            threading.Thread(
                target=_check, args=(pool, checking), name="pool-check", daemon=True
            ).start()

    pool.getconn = getconn
    pool.putconn = putconn


def _check(pool: Any, checking: threading.Lock) -> None:
    """The pool's idle connections tried, the dead ones replaced (one check at a time)."""
    try:
        pool.check()
    except Exception as e:  # a closed pool, say: the next broken connection tries again
        structlog.get_logger("ejournal.store").warning("pool.check_failed", error=type(e).__name__)
    finally:
        checking.release()
