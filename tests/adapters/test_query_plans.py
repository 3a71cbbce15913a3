"""The write path's multi-row lookups on PostgreSQL go through their tables' indexes, whatever
the planner thinks of the tables' sizes: a plain join with `unnest(...)` was planned as a hash
join over a scan of the whole events table (0.7 ms a group at 20,000 events, growing with the
log). Checked on the plans themselves, after ANALYZE, for the lookups of the two tables that
grow with the log: a group's news and the chain's stored heads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.sql import At, array_literal, insert_many
from api.bootstrap import Services
from domain.ids import journal_id
from tests.adapters.writing import record

STUDENTS = [f"s{n:02d}" for n in range(1, 11)]


def scans(plan: Any) -> list[tuple[str, str]]:
    """(node type, relation) of every node of an EXPLAIN (FORMAT JSON) plan."""
    found = [(plan.get("Node Type", ""), plan.get("Relation Name", ""))]
    for child in plan.get("Plans", []):
        found.extend(scans(child))
    return found


def plan_of(services: Services, sql: str, params: Any) -> list[tuple[str, str]]:
    with services.db.transaction() as cur:
        cur.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        raw = cur.fetchone()[0]
    doc = json.loads(raw) if isinstance(raw, str) else raw
    return scans(doc[0]["Plan"])


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_a_groups_lookups_read_by_index(imported: Services) -> None:
    app = imported.journal
    for value in (5, 4, 3):
        for student_id in STUDENTS:
            record(app, student_id, value)
    with imported.db.transaction() as cur:
        cur.execute("ANALYZE")
    streams = [journal_id("sght", "2026-2027", s) for s in STUDENTS]
    recorder = app.recorder
    events_table = recorder.events_table_name

    news = plan_of(
        imported,
        recorder._select_after.replace("%s", "?"),
        (array_literal(streams), array_literal([2 for _ in streams])),
    )
    assert ("Seq Scan", events_table) not in news, news

    heads: list[list[tuple[str, str]]] = []

    class Explaining:
        dialect = "postgresql"

        def __init__(self, cur: Any) -> None:
            self.cur = cur

        def execute(self, sql: str, params: Any) -> None:
            heads.append(plan_of(imported, sql, params))
            self.cur.execute(sql, params)

        def fetchall(self) -> Any:
            return self.cur.fetchall()

    with imported.db.transaction() as cur:
        app.chain._stored_heads(Explaining(cur), {str(s): 1 for s in streams})
    assert heads and ("Seq Scan", "event_hashes") not in heads[0], heads

    # The unit's read of its streams' newest heads (with the news, under their locks).
    newest = plan_of(imported, recorder._stored_heads.replace("%s", "?"), (array_literal(streams),))
    assert ("Seq Scan", "event_hashes") not in newest, newest

    # The inline rows' positions, read from the events just inserted (`At`), by their key.
    class Capturing:
        dialect = "postgresql"
        events = recorder._events

        def __init__(self) -> None:
            self.sql, self.params = "", None

        def execute(self, sql: str, params: Any) -> None:
            self.sql, self.params = sql, params

    captured = Capturing()
    insert_many(
        captured,
        "record_locator",
        ("record_id", "kind", "journal_id", "position"),
        ("text", "text", "text", "bigint"),
        [(f"r{n}", "mark", str(s), At(str(s), 2)) for n, s in enumerate(streams)],
    )
    positions = plan_of(imported, captured.sql, captured.params)
    assert ("Seq Scan", events_table) not in positions, positions
