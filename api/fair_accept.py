"""An event loop that accepts one waiting connection per turn, so that the workers of
`ejournal serve --workers N` share the connections.

The workers listen on one shared socket. asyncio's loop, woken by a waiting connection,
accepts every connection in the queue at once (up to the listen backlog), so when a burst
arrives — 16 clients opening their connections together, a class of teachers at 8:30 — the
worker that wakes first takes them all and the others sit idle: measured, 16 of 16 keep-alive
connections on one of two workers in about half the runs of `make bench`, and a third less
throughput then. Accepting one connection per turn (nginx's `multi_accept off`) lets every
idle worker take its share: all of them are woken by the same waiting connection, each takes
one and comes back for more only after its next turn, and a busy worker, whose turns are
longer, takes fewer. Connections still wait in the kernel's queue (uvicorn's backlog, 2048),
none is refused.

uvicorn takes the loop factory by its import string (`loop="api.fair_accept:new_loop"`).
The override is of asyncio's private `_accept_connection`, whose signature has been the
same since Python 3.7; without it (another loop implementation) the plain loop is used."""

from __future__ import annotations

import asyncio
from typing import Any

_BASE: Any = asyncio.SelectorEventLoop


class FairAcceptLoop(_BASE):
    def _accept_connection(
        self,
        protocol_factory: Any,
        sock: Any,
        sslcontext: Any = None,
        server: Any = None,
        backlog: int = 100,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        return super()._accept_connection(
            protocol_factory, sock, sslcontext, server, 1, *args, **kwargs
        )


def new_loop() -> asyncio.AbstractEventLoop:
    if not hasattr(_BASE, "_accept_connection"):
        return asyncio.new_event_loop()
    return FairAcceptLoop()
