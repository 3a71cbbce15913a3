"""The write path remembers the chain heads it committed (adapters/recorders.py,
CommittedHeads): the next event of a stream this process wrote is chained without reading its
predecessor's hash, and nothing else changes — a rolled-back transaction remembers nothing,
and another process's write makes the remembered head stale, so it is read as stored (on
PostgreSQL the unit reads its streams' stored heads with its first round trip, so no read of
its own is needed). Both stores; `verify_store` after each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.clock import Clock
from adapters.integrity import verify_store
from adapters.recorders import InlineWriter
from api.bootstrap import Services
from domain.ids import journal_id
from projections.chain import HashChain
from tests.adapters.writing import record
from tests.conftest import make_settings

mark = record


def stream(student_id: str) -> str:
    return str(journal_id("sght", "2026-2027", student_id))


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, int]]]:
    """The predecessors each batch reads as stored (stream → version)."""
    seen: list[dict[str, int]] = []
    original = HashChain._stored_heads

    def recording(cur: Any, wanted: dict[str, int]) -> Any:
        seen.append(dict(wanted))
        return original(cur, wanted)

    monkeypatch.setattr(HashChain, "_stored_heads", staticmethod(recording))
    yield seen


def read_streams(seen: list[dict[str, int]]) -> set[str]:
    return {s for wanted in seen for s in wanted}


def test_the_next_event_of_a_stream_written_here_reads_no_predecessor(
    imported: Services, reads: list[dict[str, int]]
) -> None:
    app = imported.journal
    mark(app, "s01")  # the journal's first events here: its predecessor as stored
    reads.clear()
    mark(app, "s01", value=4)
    mark(app, "s01", value=3)
    assert stream("s01") not in read_streams(reads)
    assert verify_store(app).ok


def test_a_rolled_back_transaction_remembers_nothing(
    imported: Services, reads: list[dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = imported.journal
    writer = app.recorder.writer
    mark(app, "s01")
    remembered = writer.heads.get(stream("s01"))
    assert remembered is not None

    write = InlineWriter.write
    failed: list[bool] = []

    def failing(self: InlineWriter, cur: Any, stored: Any, ids: Any, *rest: Any) -> None:
        write(self, cur, stored, ids, *rest)  # the hashes computed and written, then a fault
        if not failed:
            failed.append(True)
            raise RuntimeError("injected fault after the hash rows")

    monkeypatch.setattr(InlineWriter, "write", failing)
    with pytest.raises(RuntimeError, match="injected"):
        mark(app, "s01", value=2)
    assert writer.heads.get(stream("s01")) == remembered
    mark(app, "s01", value=4)
    assert writer.heads.get(stream("s01"))[0] == remembered[0] + 1
    assert verify_store(app).ok


def test_another_process_write_makes_the_remembered_head_stale(
    imported: Services,
    store: dict[str, Any],
    tmp_path: Path,
    clock: Clock,
    reads: list[dict[str, int]],
) -> None:
    here = imported.journal
    other = Services.build(make_settings(store, tmp_path), clock)  # a second server process
    try:
        mark(here, "s01")
        mark(other.journal, "s01", value=4)  # after ours: our remembered head is one behind
        reads.clear()
        mark(here, "s01", value=3)
        # The stale head is not used: SQLite reads the stored one; PostgreSQL has it already,
        # read under the stream's lock with the news (a wrong one would fail verify below).
        read_here = stream("s01") in read_streams(reads)
        assert read_here == ("postgres_schema" not in store)
        reads.clear()
        mark(here, "s01", value=2)  # remembered again, as this process committed it
        assert stream("s01") not in read_streams(reads)
        mark(other.journal, "s01", value=5)
        assert verify_store(here).ok
        assert verify_store(other.journal).ok
    finally:
        other.close()
