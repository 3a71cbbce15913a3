"""Property on real stores: whatever commands ran, the stored log rebuilds the same journal,
and `as_of` at any recorded moment equals a replay of the events up to that moment."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.bootstrap import Services
from domain.actors import Actor
from domain.errors import RuleViolation
from domain.ids import journal_id
from tests.conftest import make_settings

TEACHER = Actor("t1", "teacher", "sght", frozenset({"teacher"}))
DEPUTY = Actor("dep1", "deputy", "sght", frozenset({"deputy"}))

command = st.one_of(
    st.tuples(st.just("record"), st.integers(0, 6), st.sampled_from(["oral", "control", "x"])),
    st.tuples(st.just("correct"), st.integers(0, 9), st.integers(1, 6)),
    st.tuples(st.just("cancel"), st.integers(0, 9), st.sampled_from(["", "ошибка"])),
    st.tuples(st.just("absence"), st.sampled_from(["Н", "Б", "?"]), st.just(None)),
)

_students = itertools.count(1)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(commands=st.lists(command, min_size=1, max_size=12))
def test_stored_log_rebuilds_what_the_service_answered(
    imported: Services, store: dict[str, Any], tmp_path, clock, commands
) -> None:
    app = imported.journal
    student = f"s{(next(_students) % 24) + 1:02d}"
    marks: list[str] = []
    moments = []
    for kind, a, b in commands:
        clock.advance(minutes=7)
        try:
            if kind == "record":
                w = app.record_mark(
                    TEACHER,
                    student_id=student,
                    subject_id="math",
                    lesson_date=date(2026, 9, 1) + timedelta(days=a % 3),
                    work_kind=b,
                    value=a,
                )
                marks.append(w.record.mark_id)
            elif kind == "correct" and marks:
                app.correct_mark(DEPUTY, marks[a % len(marks)], value=b, reason="исправление")
            elif kind == "cancel" and marks:
                app.cancel_mark(TEACHER, marks[a % len(marks)], reason=b)
            elif kind == "absence":
                app.record_absence(
                    TEACHER,
                    student_id=student,
                    subject_id="math",
                    lesson_date=date(2026, 9, 2),
                    code=a,
                )
        except RuleViolation:
            pass
        moments.append(clock.now())

    uuid = journal_id("sght", "2026-2027", student)
    live = app.read_journal(uuid)
    # A second service instance, with an empty cache, reads only what the store holds.
    fresh = Services.build(make_settings(store, tmp_path), clock)
    try:
        stored = fresh.journal.read_journal(uuid)
        events = list(fresh.journal.events.get(uuid))
        if live is None:
            assert stored is None and not events
            return
        assert stored is not None
        assert stored.marks == live.marks and stored.absences == live.absences
        assert set(stored.marks) == set(marks)
        for moment in moments:
            replayed = None
            for event in events:
                if event.timestamp <= moment:
                    replayed = event.mutate(replayed)
            as_of = fresh.journal.journal_as_of(uuid, moment)
            assert (as_of.marks if as_of else None) == (replayed.marks if replayed else None)
    finally:
        fresh.close()
