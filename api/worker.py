"""One worker of `ejournal serve --workers N` (started by api/supervisor.py): serves the
listening socket it inherited, holding the store while it does.

The socket is re-made from its descriptor with the protocol read from it (TCP), so asyncio
sets TCP_NODELAY on every accepted connection (uvicorn issue #3149: a socket with proto 0
made each keep-alive request wait ~40 ms for a delayed ACK). The event loop accepts one
waiting connection per turn (api/fair_accept.py). A worker whose supervisor is gone stops
(its parent changes): no orphan keeps the port or the store. Every second its event loop
writes a byte to the heartbeat pipe the supervisor gave it: a worker whose loop hangs goes
silent, and the supervisor replaces it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

import uvicorn


def _stop_when_orphaned(supervisor: int) -> None:
    while os.getppid() == supervisor:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful shutdown


def main(argv: list[str]) -> int:
    supervisor, fd, beat = int(argv[0]), int(argv[1]), int(argv[2])
    host, port = argv[3], int(argv[4])

    from adapters.backup import RESTORING, BackupError, hold_store
    from adapters.settings import Settings

    sock = socket.socket(fileno=fd)
    lost = threading.Event()

    def stop_serving() -> None:  # a restore took the store while a restart had lost our hold
        print(f"ejournal: {RESTORING}; обработчик остановлен", file=sys.stderr, flush=True)
        lost.set()
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful shutdown

    try:
        held = hold_store(Settings(), on_lost=stop_serving)
        held.__enter__()
    except BackupError as e:
        print(f"ejournal: {e}", file=sys.stderr, flush=True)
        return 3  # the supervisor stops: it would fail again at once
    # The supervisor as it named itself, not the parent found now (it may be gone already).
    threading.Thread(target=_stop_when_orphaned, args=(supervisor,), daemon=True).start()
    try:
        os.set_blocking(beat, False)
        BeatingServer(config(host, port), beat).run(sockets=[sock])
    finally:
        held.__exit__(None, None, None)
    return 3 if lost.is_set() else 0  # 3: the supervisor stops the server


class BeatingServer(uvicorn.Server):
    """uvicorn's server whose event loop beats once a second (`on_tick` runs on it every
    0.1 s): a byte to the supervisor's pipe; a full or closed pipe is passed over."""

    def __init__(self, config: Any, beat: int) -> None:
        super().__init__(config)
        self.beat = beat

    async def on_tick(self, counter: int) -> bool:
        if counter % 10 == 0:
            with contextlib.suppress(OSError):
                os.write(self.beat, b".")
        return bool(await super().on_tick(counter))


def config(host: str, port: int) -> Any:
    return uvicorn.Config(
        "api.app:served_app",
        factory=True,
        host=host,
        port=port,
        log_config=None,
        # X-Forwarded-For is read only from EJOURNAL_TRUSTED_PROXIES (api/client_address.py).
        proxy_headers=False,
        loop="api.fair_accept:new_loop",
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
