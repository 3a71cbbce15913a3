"""Read models on both stores: rebuilt from zero equals built incrementally, and both equal
a naive in-memory replay of the events — now and as of any recorded moment."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.bootstrap import Services
from domain.actors import Actor
from domain.errors import RuleViolation
from domain.ids import journal_id
from projections.gradebook import gradebook
from projections.queries import mean, round_half

TEACHER = Actor("t1", "teacher", "sght", frozenset({"teacher"}))
DEPUTY = Actor("dep1", "deputy", "sght", frozenset({"deputy"}))
PARENT = Actor("p01", "parent", "sght", frozenset({"parent"}))
STUDENTS = ["s01", "s02", "s03"]
S1 = (date(2026, 9, 1), date(2026, 12, 30))

command = st.one_of(
    st.tuples(
        st.just("mark"),
        st.sampled_from(STUDENTS),
        st.integers(0, 4),
        st.integers(2, 5),
        st.sampled_from(["oral", "control"]),
    ),
    st.tuples(st.just("correct"), st.integers(0, 50), st.integers(2, 5), st.none(), st.none()),
    st.tuples(st.just("cancel"), st.integers(0, 50), st.none(), st.none(), st.none()),
    st.tuples(
        st.just("absence"),
        st.sampled_from(STUDENTS),
        st.integers(0, 4),
        st.sampled_from(["Н", "Б"]),
        st.none(),
    ),
    st.tuples(st.just("lesson"), st.integers(0, 4), st.integers(1, 3), st.none(), st.none()),
)

_runs = itertools.count()


def dump(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    tables = {}
    with services.db.read() as cur:
        for table in (
            "rm_marks",
            "rm_absences",
            "rm_attestations",
            "rm_lessons",
            "rm_memberships",
            "rm_streams",
        ):
            cur.execute(f"SELECT * FROM {table}")
            tables[table] = sorted(tuple(str(v) for v in row) for row in cur.fetchall())
    return tables


def naive_gradebook(services: Services, as_of: datetime | None) -> dict[str, Any]:
    """Averages straight from the aggregates, replayed up to `as_of`."""
    app = services.journal
    out = {}
    for student in STUDENTS:
        journal = app.journal_as_of(journal_id("sght", "2026-2027", student), as_of)
        marks = sorted(
            (
                (m.lesson_date.isoformat(), m.lesson_no, m.mark_id, m.value, m.weight)
                for m in (journal.marks.values() if journal else [])
                if m.status == "active"
                and m.subject_id == "math"
                and S1[0] <= m.lesson_date <= S1[1]
            ),
        )
        values = [m[3] for m in marks]
        average = mean(values)
        weighted = mean(values, [m[4] for m in marks])
        out[student] = (
            [m[2] for m in marks],
            round_half(average, "0.01") if average is not None else None,
            round_half(weighted, "0.01") if weighted is not None else None,
        )
    return out


def model_gradebook(services: Services, as_of: datetime | None) -> dict[str, Any]:
    with services.db.read() as cur:
        book = gradebook(
            cur,
            org_id="sght",
            year_id="2026-2027",
            group_id="g1",
            subject_id="math",
            period_id="S1",
            starts_on=S1[0],
            ends_on=S1[1],
            as_of=as_of,
        )
    return {
        row.student_id: (sorted(m["mark_id"] for m in row.marks), row.average, row.weighted_average)
        for row in book.rows
        if row.student_id in STUDENTS
    }


def normalised(book: dict[str, Any]) -> dict[str, Any]:
    return {k: (sorted(v[0]), v[1], v[2]) for k, v in book.items()}


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(commands=st.lists(command, min_size=3, max_size=25))
def test_rebuilt_equals_incremental_equals_replay(imported: Services, clock, commands) -> None:
    app = imported.journal
    base = date(2026, 9, 1) + timedelta(days=7 * next(_runs))  # a fresh week per example
    clock.set(
        datetime(base.year, base.month, base.day, 12, tzinfo=clock.now().tzinfo) + timedelta(days=5)
    )
    marks: list[str] = []
    moments: list[datetime] = []
    for kind, a, b, c, d in commands:
        clock.advance(minutes=3)
        try:
            if kind == "mark":
                marks.append(
                    app.record_mark(
                        TEACHER,
                        student_id=a,
                        subject_id="math",
                        lesson_date=base + timedelta(days=b),
                        work_kind=d,
                        value=c,
                    ).record.mark_id
                )
            elif kind == "correct" and marks:
                app.correct_mark(DEPUTY, marks[a % len(marks)], value=b, reason="исправление")
            elif kind == "cancel" and marks:
                app.cancel_mark(DEPUTY, marks[a % len(marks)], reason="ошибка")
            elif kind == "absence":
                app.record_absence(
                    TEACHER,
                    student_id=a,
                    subject_id="math",
                    lesson_date=base + timedelta(days=b),
                    code=c,
                )
            elif kind == "lesson":
                app.record_lesson(
                    TEACHER,
                    group_id="g1",
                    subject_id="math",
                    lesson_date=base + timedelta(days=a),
                    lesson_no=b,
                    topic="тема",
                )
        except RuleViolation:
            pass
        moments.append(clock.now())
        if len(moments) % 4 == 0:
            app.read_models.catch_up()  # incremental, in uneven steps
    app.read_models.catch_up()
    incremental = dump(imported)
    now_model = normalised(model_gradebook(imported, None))
    past_models = [normalised(model_gradebook(imported, m)) for m in moments]

    assert now_model == normalised(naive_gradebook(imported, None))
    for moment, past in zip(moments, past_models, strict=True):
        assert past == normalised(naive_gradebook(imported, moment)), moment

    app.read_models.batch_size = 5
    for name in app.read_models.projections:
        app.read_models.rebuild(name)
    app.read_models.batch_size = 1000
    assert dump(imported) == incremental
    assert normalised(model_gradebook(imported, None)) == now_model


def test_a_correction_changes_the_present_and_not_the_past(imported: Services, clock) -> None:
    app = imported.journal
    w = app.record_mark(
        TEACHER,
        student_id="s01",
        subject_id="math",
        lesson_date=date(2026, 9, 2),
        work_kind="control",
        value=5,
    )
    before = clock.now()
    clock.advance(hours=2)
    app.correct_mark(TEACHER, w.record.mark_id, value=3, reason="пересчёт")
    app.read_models.catch_up()
    now = model_gradebook(imported, None)["s01"]
    then = model_gradebook(imported, before)["s01"]
    assert now[1] == Decimal("3.00") and then[1] == Decimal("5.00")
    # Before the roster was imported the group had nobody in it.
    assert model_gradebook(imported, before - timedelta(seconds=1)) == {}
