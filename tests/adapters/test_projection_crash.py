"""A projection process killed at random points mid-batch, and restarted, ends with exactly
the rows of an uninterrupted run (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import date
from pathlib import Path

from api.bootstrap import Services
from domain.actors import Actor
from tests.adapters.test_read_models import dump

TEACHER = Actor("t1", "teacher", "sght", frozenset({"teacher"}))
DEPUTY = Actor("dep1", "deputy", "sght", frozenset({"deputy"}))
ROOT = Path(__file__).resolve().parents[2]


def worker(store: dict[str, str], tmp_path: Path, kill_after: int) -> int:
    env = dict(os.environ)
    env["EJOURNAL_DATABASE_URL"] = store["database_url"]
    if "postgres_schema" in store:
        env["EJOURNAL_POSTGRES_SCHEMA"] = store["postgres_schema"]
    env["EJOURNAL_VAR_DIR"] = str(tmp_path / "var")
    env["EJOURNAL_SECRET_KEY"] = "crash-test-secret-key-long-enough-for-hs256"
    done = subprocess.run(
        [sys.executable, "-m", "tests.adapters.crash_worker", str(kill_after)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    return done.returncode


def test_killed_and_restarted_projection_ends_with_the_uninterrupted_rows(
    imported: Services, store, tmp_path, clock
) -> None:
    app = imported.journal
    for i in range(12):
        w = app.record_mark(
            TEACHER,
            student_id=f"s{i % 5 + 1:02d}",
            subject_id="math",
            lesson_date=date(2026, 9, 1 + i % 3),
            work_kind="oral",
            value=3,
        )
        if i % 3 == 0:
            app.correct_mark(DEPUTY, w.record.mark_id, value=5, reason="пересмотр")
        app.record_absence(
            TEACHER,
            student_id=f"s{i % 4 + 1:02d}",
            subject_id="math",
            lesson_date=date(2026, 9, 2),
            code="Н",
        )
    app.record_lesson(
        TEACHER,
        group_id="g1",
        subject_id="math",
        lesson_date=date(2026, 9, 2),
        lesson_no=1,
        topic="Введение",
    )
    for name in app.read_models.projections:
        app.read_models.rebuild(name)
    expected = dump(imported)
    with imported.db.transaction() as cur:
        app.read_models.projections["journal_facts"].reset(cur)
        cur.execute("UPDATE projection_positions SET position = 0 WHERE name = 'journal_facts'")

    rng = random.Random(20261123)
    kills = 0
    while True:
        code = worker(store, tmp_path, rng.randint(1, 15))
        if code == 0:
            break
        assert code == -9, f"worker failed otherwise: {code}"
        kills += 1
        assert kills < 60
    assert kills >= 2  # it really was interrupted mid-way, more than once
    assert dump(imported) == expected
    assert app.read_models.caught_up_to(app.read_models.head())
