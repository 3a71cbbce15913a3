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
from projections.facts import JournalFacts


def main() -> None:
    limit = int(sys.argv[1])
    services = Services.build(Settings())
    runner = services.journal.read_models
    runner.batch_size = 7
    applied = 0
    facts = runner.projections["journal_facts"]
    original = JournalFacts.apply

    def apply(cur: Any, event: Any, position: int) -> None:
        nonlocal applied
        original(facts, cur, event, position)  # type: ignore[arg-type]
        applied += 1
        if limit and applied >= limit:
            os.kill(os.getpid(), signal.SIGKILL)  # no commit, no cleanup: a real crash

    facts.apply = apply  # type: ignore[method-assign]
    runner.catch_up()
    services.close()


if __name__ == "__main__":
    main()
