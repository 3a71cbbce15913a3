"""The class journal page's data (UI.md «The class journal page»): columns, rows, cells,
averages, what may still be written and why not, the journal as it stood (`as_of`)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from adapters.clock import FixedClock
from adapters.service.class_journal import ClassJournal, ClassJournalUseCases, name_key
from adapters.service.entries import MarkEntry
from api.bootstrap import Services
from domain.actors import Actor
from domain.errors import Forbidden, RecordNotFound

TEACHER = Actor("t1", "teacher", "sght", frozenset({"teacher"}))  # math in g1
TEACHER_RUS = Actor("t3", "teacher", "sght", frozenset({"teacher"}))
DEPUTY = Actor("dep1", "deputy", "sght", frozenset({"deputy"}))
DIRECTOR = Actor("dir1", "director", "sght", frozenset({"director"}))
CURATOR = Actor("t2", "teacher", "sght", frozenset({"teacher"}))  # chem in g1, its curator
PERM = timedelta(hours=5)


def build(
    services: Services,
    actor: Actor = TEACHER,
    *,
    period_id: str | None = "S1",
    as_of: datetime | None = None,
    names: dict[str, str] | None = None,
    subject_id: str = "math",
) -> ClassJournal:
    def lookup(student_ids: list[str]) -> dict[str, str]:
        found = services.personal.names(actor.org_id, student_ids)
        return {**found, **{k: v for k, v in (names or {}).items() if k in student_ids}}

    app: Any = services.journal
    if not isinstance(app, ClassJournalUseCases):  # until EJournal has it among its bases
        app.__class__ = type("WithClassJournal", (ClassJournalUseCases, type(app)), {})
    result = app.class_journal(
        actor,
        group_id="g1",
        subject_id=subject_id,
        period_id=period_id,
        as_of=as_of,
        names=lookup,
    )
    assert isinstance(result, ClassJournal)
    return result


def lesson(services: Services, day: date, number: int, topic: str | None = None) -> str:
    _, _, recorded, _ = services.journal.record_lesson(
        TEACHER,
        group_id="g1",
        subject_id="math",
        lesson_date=day,
        lesson_no=number,
        topic=topic,
        homework=f"д/з {number}" if topic else None,
    )
    return recorded.lesson_id


def mark(
    services: Services,
    student_id: str,
    day: date,
    value: int,
    *,
    lesson_no: int | None = None,
    work_kind: str = "oral",
    actor: Actor = TEACHER,
) -> str:
    written = services.journal.record_mark(
        actor,
        student_id=student_id,
        subject_id="math",
        lesson_date=day,
        lesson_no=lesson_no,
        work_kind=work_kind,
        value=value,
    )
    return str(written.record.mark_id)


def row(journal: ClassJournal, student_id: str) -> Any:
    return next(r for r in journal.rows if r.student_id == student_id)


def test_columns_come_from_lessons_and_from_entries_without_a_lesson(imported: Services) -> None:
    lesson(imported, date(2026, 9, 1), 1, topic="Множества")
    lesson(imported, date(2026, 9, 2), 2, topic="Функции")
    lesson(imported, date(2026, 9, 10), 1)  # planned ahead
    mark(imported, "s01", date(2026, 9, 3), 5, work_kind="test")  # no lesson, no number
    mark(imported, "s01", date(2026, 9, 2), 4, lesson_no=2)  # in the lesson's column
    imported.journal.record_absence(
        TEACHER,
        student_id="s02",
        subject_id="math",
        lesson_date=date(2026, 9, 2),
        lesson_no=1,
        code="Н",
    )
    journal = build(imported)
    keys = [c.key for c in journal.columns]
    assert keys == [
        "2026-09-01/1",
        "2026-09-02/1",
        "2026-09-02/2",
        "2026-09-03/-",
        "2026-09-10/1",
    ]
    by_key = {c.key: c for c in journal.columns}
    assert by_key["2026-09-01/1"].topic == "Множества"
    assert by_key["2026-09-01/1"].lesson_id is not None
    assert by_key["2026-09-02/1"].lesson_id is None  # the absence's own column
    assert by_key["2026-09-03/-"].lesson_no is None
    assert by_key["2026-09-03/-"].work_kind == "test"
    assert (journal.group_name, journal.subject_name) == ("ХТ-21", "Математика")
    assert journal.periods == [("S1", "1 семестр"), ("S2", "2 семестр")]
    assert journal.period_id == "S1" and not journal.read_only

    s01, s02 = row(journal, "s01"), row(journal, "s02")
    assert [m.value for m in s01.cells["2026-09-03/-"].marks] == [5]
    assert [m.value for m in s01.cells["2026-09-02/2"].marks] == [4]
    assert s02.cells["2026-09-02/1"].absence.code == "Н"
    assert all(set(r.cells) == set(keys) for r in journal.rows)
    # Today's and past cells are open; a lesson still to come is not.
    assert s01.cells["2026-09-03/-"].writable
    future = s01.cells["2026-09-10/1"]
    assert not future.writable and "ещё не прошёл" in (future.reason_read_only or "")


def test_a_mark_without_a_number_joins_the_days_only_lesson(imported: Services) -> None:
    lesson(imported, date(2026, 9, 2), 3)
    mark(imported, "s01", date(2026, 9, 2), 3)
    journal = build(imported)
    assert [c.key for c in journal.columns] == ["2026-09-02/3"]
    assert [m.value for m in row(journal, "s01").cells["2026-09-02/3"].marks] == [3]


def test_rows_are_alphabetical_with_yo_as_ye(imported: Services) -> None:
    names = {"s01": "Ёлкина Анна", "s02": "Жуков Иван", "s03": "Ежов Пётр", "s04": "Егоров Ян"}
    journal = build(imported, names=names)
    assert len(journal.rows) == 25  # s25 joins in October, inside the semester
    order = [r.student_id for r in journal.rows if r.student_id in names]
    assert order == ["s04", "s03", "s01", "s02"]
    full = [r.full_name for r in journal.rows]
    assert full == sorted(full, key=name_key)
    plain = build(imported)
    assert [r.full_name for r in plain.rows][:2] == [
        "Александров Артём Игоревич",
        "Андреева Полина Сергеевна",
    ]


def test_a_student_not_yet_in_the_group_has_read_only_cells(imported: Services) -> None:
    lesson(imported, date(2026, 9, 2), 1)
    cell = row(build(imported), "s25").cells["2026-09-02/1"]
    assert not cell.writable
    assert cell.reason_read_only == "Обучающийся не состоит в группе «ХТ-21» на 02.09.2026"


def test_a_corrected_mark_shows_its_previous_value(imported: Services, clock: FixedClock) -> None:
    lesson(imported, date(2026, 9, 2), 1)
    mark_id = mark(imported, "s01", date(2026, 9, 2), 4, lesson_no=1)
    clock.advance(minutes=5)
    imported.journal.correct_mark(TEACHER, mark_id, value=5, reason="ошибка ввода")
    second = mark(imported, "s01", date(2026, 9, 2), 3, lesson_no=1)
    cell = row(build(imported), "s01").cells["2026-09-02/1"]
    first, other = cell.marks
    assert (first.mark_id, first.value, first.corrected, first.previous_values) == (
        mark_id,
        5,
        True,
        [4],
    )
    assert (other.mark_id, other.corrected, other.previous_values) == (second, False, [])
    imported.journal.cancel_mark(TEACHER, second, reason="не та работа")
    cell = row(build(imported), "s01").cells["2026-09-02/1"]
    assert [(m.value, m.status) for m in cell.marks] == [(5, "active"), (3, "cancelled")]
    assert row(build(imported), "s01").average == Decimal("5.00")


def test_averages_match_the_gradebook(imported: Services, clock: FixedClock) -> None:
    app = imported.journal
    lesson(imported, date(2026, 9, 1), 1)
    plan = {
        "s01": [(5, "control"), (4, "oral"), (4, "oral")],
        "s02": [(3, "oral"), (5, "monitoring")],
        "s03": [(2, "oral")],
    }
    for student_id, values in plan.items():
        for value, kind in values:
            mark(imported, student_id, date(2026, 9, 1), value, lesson_no=1, work_kind=kind)
    corrected = mark(imported, "s04", date(2026, 9, 2), 2)
    app.correct_mark(TEACHER, corrected, value=3, reason="пересчёт")
    app.read_models.catch_up()
    book = app.gradebook(TEACHER, group_id="g1", subject_id="math", period_id="S1").body
    expected = {r.student_id: (r.average, r.weighted_average) for r in book.rows}
    journal = build(imported)
    got = {r.student_id: (r.average, r.weighted_average) for r in journal.rows}
    assert got == expected
    assert got["s01"] == (Decimal("4.33"), Decimal("4.50"))
    assert got["s04"] == (Decimal("3.00"), Decimal("3.00"))
    assert got["s05"] == (None, None)


def test_a_cell_past_the_deadline_is_read_only_with_a_reason(
    imported: Services, clock: FixedClock
) -> None:
    lesson(imported, date(2026, 9, 1), 1)
    lesson(imported, date(2026, 9, 15), 1)
    mark(imported, "s01", date(2026, 9, 1), 4, lesson_no=1)
    clock.set(datetime(2026, 9, 15, 10, 0, tzinfo=UTC) - PERM)
    journal = build(imported)
    old = row(journal, "s01").cells["2026-09-01/1"]
    assert not old.writable
    assert old.reason_read_only is not None and old.reason_read_only.startswith("Срок")
    assert "заместитель директора" in old.reason_read_only
    assert row(journal, "s01").cells["2026-09-15/1"].writable
    # A deputy may still write it, giving a reason (R-MARK-4).
    deputy_cell = row(build(imported, DEPUTY), "s01").cells["2026-09-01/1"]
    assert deputy_cell.writable and deputy_cell.needs_reason


def test_as_of_shows_the_old_value_and_nothing_is_writable(
    imported: Services, clock: FixedClock
) -> None:
    lesson(imported, date(2026, 9, 3), 1)
    mark_id = mark(imported, "s01", date(2026, 9, 3), 4, lesson_no=1)
    before = clock.now() + timedelta(minutes=30)
    clock.advance(hours=1)
    imported.journal.correct_mark(TEACHER, mark_id, value=5, reason="ошибка ввода")
    lesson(imported, date(2026, 9, 3), 2)  # after the moment: not shown then

    then = build(imported, DEPUTY, as_of=before)
    assert then.read_only and (then.read_only_reason or "").startswith("Журнал на 03.09.2026")
    assert [c.key for c in then.columns] == ["2026-09-03/1"]
    (old,) = row(then, "s01").cells["2026-09-03/1"].marks
    assert (old.value, old.corrected, old.previous_values) == (4, False, [])
    assert all(not c.writable for r in then.rows for c in r.cells.values())
    assert row(then, "s01").average == Decimal("4.00")

    now = build(imported, DEPUTY)
    assert not now.read_only
    (current,) = row(now, "s01").cells["2026-09-03/1"].marks
    assert (current.value, current.corrected, current.previous_values) == (5, True, [4])
    # Before the roster was imported the group had nobody in it.
    assert build(imported, DEPUTY, as_of=clock.now() - timedelta(days=1)).rows == []


def test_who_may_open_it(imported: Services) -> None:
    with pytest.raises(Forbidden):
        build(imported, TEACHER_RUS)  # teaches rus, not math
    with pytest.raises(RecordNotFound):
        build(imported, TEACHER, period_id="S9")
    # The curator and the director read it, but write nothing here.
    for actor in (CURATOR, DIRECTOR):
        journal = build(imported, actor)
        assert journal.read_only and journal.read_only_reason
        assert len(journal.rows) == 25
    # No period named: the one containing today.
    assert build(imported, period_id=None).period_id == "S1"


@pytest.mark.serial  # a time or memory bound: run alone (Makefile)
def test_thirty_students_by_eighty_lessons_build_fast(
    services: Services, roster: dict[str, Any], clock: FixedClock
) -> None:
    from adapters.roster import parse_roster
    from adapters.roster_import import import_roster
    from domain.actors import system_actor

    extra = [f"s{n:02d}" for n in range(26, 31)]
    for n, student_id in enumerate(extra):
        roster["students"].append(
            {
                "id": student_id,
                "full_name": f"Новиков{n} Ёж Ёжевич",
                "username": f"st.extra{n}",
                "password": "demo-password-2025",
            }
        )
        roster["groups"][0]["students"].append({"id": student_id, "from": "2026-09-01", "to": None})
    import_roster(services.journal, services.passwords, parse_roster(roster), system_actor("sght"))
    students = [f"s{n:02d}" for n in range(1, 25)] + extra  # s25 joins in October
    days: list[date] = []
    day = date(2026, 9, 1)
    while len(days) < 40:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    for n, day in enumerate(days):
        clock.set(datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC) - PERM)
        for number in (1, 2):
            lesson(services, day, number, topic=f"Тема {n}.{number}")
            services.journal.record_entries(
                TEACHER,
                group_id="g1",
                subject_id="math",
                lesson_date=day,
                lesson_no=number,
                marks=[MarkEntry(s, 2 + (n + i) % 4, "oral") for i, s in enumerate(students)],
                absences=[],
            )
    cold_started = time.perf_counter()
    journal = build(services)
    cold = time.perf_counter() - cold_started
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        journal = build(services)
        timings.append(time.perf_counter() - started)
    warm = min(timings)
    print(f"\nclass journal 30×80: first {cold * 1000:.1f} ms, then {warm * 1000:.1f} ms")
    assert len(journal.rows) == 30 and len(journal.columns) == 80
    assert sum(len(c.marks) for r in journal.rows for c in r.cells.values()) == 24 * 80 + 5 * 80
    assert warm < 0.3


def test_a_closed_year_is_read_only(imported: Services) -> None:
    lesson(imported, date(2026, 9, 2), 1)
    mark(imported, "s01", date(2026, 9, 2), 5, lesson_no=1)
    imported.journal.close_year(DEPUTY, "2026-2027", reason="реорганизация")
    journal = build(imported)
    assert journal.read_only and "закрыт" in (journal.read_only_reason or "")
    cell = row(journal, "s01").cells["2026-09-02/1"]
    assert [m.value for m in cell.marks] == [5]
    assert not cell.writable and cell.reason_read_only == journal.read_only_reason
