"""One worker of `ejournal serve --workers N` (started by api/supervisor.py): serves the
listening socket it inherited, holding the store while it does.

The socket is re-made from its descriptor with the protocol read from it (TCP), so asyncio
sets TCP_NODELAY on every accepted connection (uvicorn issue #3149: a socket with proto 0
made each keep-alive request wait ~40 ms for a delayed ACK). The event loop accepts one
waiting connection per turn (api/fair_accept.py). A worker whose supervisor is gone stops
(its parent changes): no orphan keeps the port or the store."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from typing import Any


def _stop_when_orphaned(supervisor: int) -> None:
    while os.getppid() == supervisor:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful shutdown


def main(argv: list[str]) -> int:
    supervisor, fd, host, port = int(argv[0]), int(argv[1]), argv[2], int(argv[3])
    import uvicorn

    from adapters.backup import BackupError, hold_store
    from adapters.settings import Settings

    sock = socket.socket(fileno=fd)
    try:
        held = hold_store(Settings())
        held.__enter__()
    except BackupError as e:
        print(f"ejournal: {e}", file=sys.stderr, flush=True)
        return 3  # the supervisor stops: it would fail again at once
    # The supervisor as it named itself, not the parent found now (it may be gone already).
    threading.Thread(target=_stop_when_orphaned, args=(supervisor,), daemon=True).start()
    try:
        uvicorn.Server(config(host, port)).run(sockets=[sock])
    finally:
        held.__exit__(None, None, None)
    return 0


def config(host: str, port: int) -> Any:
    import uvicorn

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
