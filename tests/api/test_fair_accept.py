"""The workers' event loop accepts one waiting connection per turn (api/fair_accept.py), so
a burst of connections is shared by `serve --workers N` instead of taken whole by the worker
that wakes first. Here one loop and a listening socket with five connections already waiting
(what a burst finds): asyncio's own loop takes all five in one go, ours one per turn — and in
the end all five, none refused or lost."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest

from api.fair_accept import FairAcceptLoop, new_loop

pytestmark = pytest.mark.serial  # how accepts are shared: run alone (Makefile)


class _Counting(socket.socket):
    """The listening socket, counting its accepts."""

    accepted = 0

    def accept(self) -> Any:
        conn = super().accept()
        self.accepted += 1
        return conn


def _probe(base: type[asyncio.SelectorEventLoop]) -> Any:
    class Probe(base):  # type: ignore[misc, valid-type]
        """How many connections each wake-up of the listener accepted."""

        def __init__(self) -> None:
            super().__init__()
            self.per_wake: list[int] = []

        def _accept_connection(self, factory: Any, sock: Any, *args: Any, **kwargs: Any) -> Any:
            before = sock.accepted
            result = super()._accept_connection(factory, sock, *args, **kwargs)
            self.per_wake.append(sock.accepted - before)
            return result

    return Probe()


def _accept_five(loop: Any) -> list[int]:
    listener = _Counting(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    clients = [socket.create_connection(listener.getsockname(), timeout=5) for _ in range(5)]
    transports: list[asyncio.BaseTransport] = []

    class Accepted(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            transports.append(transport)

    async def serve() -> None:
        server = await loop.create_server(Accepted, sock=listener)
        deadline = time.monotonic() + 10
        while listener.accepted < 5 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        server.close()
        for t in transports:
            t.close()

    try:
        loop.run_until_complete(serve())
    finally:
        loop.close()
        for c in clients:
            c.close()
        listener.close()
    assert listener.accepted == 5, f"accepted {listener.accepted} of 5"
    return list(loop.per_wake)


def test_asyncios_own_loop_takes_every_waiting_connection_at_once() -> None:
    assert _accept_five(_probe(asyncio.SelectorEventLoop)) == [5]


def test_ours_takes_one_per_turn_and_in_the_end_all() -> None:
    assert isinstance(new_loop(), FairAcceptLoop)
    assert _accept_five(_probe(FairAcceptLoop)) == [1, 1, 1, 1, 1]
