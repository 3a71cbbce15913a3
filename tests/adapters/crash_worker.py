"""A projection process that kills itself (SIGKILL) after N applied events, mid-batch.

Run as `python -m tests.adapters.crash_worker N`; the store comes from EJOURNAL_* settings.
N = 0 runs to the end. Used by test_projection_crash.py.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from adapters.settings import Settings
from api.bootstrap import Services
from projections import facts as facts_module


def main() -> None:
    limit = int(sys.argv[1])
    services = Services.build(Settings())
    runner = services.journal.read_models
    runner.batch_size = 7
    applied = 0

    def counting(handler: Any) -> Any:
        def handle(projection: Any, cur: Any, event: Any, position: int) -> None:
            nonlocal applied
            handler(projection, cur, event, position)
            applied += 1
            if limit and applied >= limit:
                os.kill(os.getpid(), signal.SIGKILL)  # no commit, no cleanup: a real crash

        return handle

    for kind, handler in list(facts_module._HANDLERS.items()):
        facts_module._HANDLERS[kind] = counting(handler)
    runner.catch_up()
    services.close()


if __name__ == "__main__":
    main()
