"""A generated school year for benchmarks: 1,000 students in 40 groups, 10 subjects,
about 600,000 events, written straight through the domain and the library in large saves."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from adapters.roster import parse_roster
from adapters.roster_import import import_roster
from api.bootstrap import Services
from domain.actors import Actor, system_actor
from domain.journal import StudentJournal
from domain.lessons import SubjectPage

ORG = "bench"
YEAR = "2026-2027"
SUBJECTS = ["math", "rus", "lit", "hist", "phys", "chem", "bio", "eng", "inf", "pe"]
GROUPS = 40
PER_GROUP = 25
S1 = (date(2026, 9, 1), date(2026, 12, 30))
S2 = (date(2027, 1, 12), date(2027, 6, 30))
PASSWORD = "bench-password-2026"


def roster() -> dict[str, Any]:
    students = [f"s{i:04d}" for i in range(GROUPS * PER_GROUP)]
    teachers = [f"t{i:03d}" for i in range(GROUPS)]
    return {
        "organization": {"id": ORG, "name": "Бенчмарк-колледж"},
        "academic_year": {
            "id": YEAR,
            "starts_on": "2026-09-01",
            "ends_on": "2027-06-30",
            "periods": [
                {
                    "id": "S1",
                    "name": "1 семестр",
                    "starts_on": "2026-09-01",
                    "ends_on": "2026-12-30",
                },
                {
                    "id": "S2",
                    "name": "2 семестр",
                    "starts_on": "2027-01-12",
                    "ends_on": "2027-06-30",
                },
            ],
            "rules": {
                "current_mark_days": 7,
                "attestation_mark_days": 0,
                "lowest_mark": 2,
                "weights": {"control": 2},
            },
        },
        "subjects": [{"id": s, "name": s} for s in SUBJECTS],
        "staff": [
            {
                "id": t,
                "full_name": f"Преподаватель {t}",
                "roles": ["teacher"],
                "username": f"bench.{t}",
                "password": PASSWORD,
            }
            for t in teachers
        ]
        + [
            {
                "id": "dep",
                "full_name": "Заместитель",
                "roles": ["deputy"],
                "username": "bench.deputy",
                "password": PASSWORD,
            }
        ],
        "students": [{"id": s, "full_name": f"Студент {s}"} for s in students],
        "parents": [],
        "groups": [
            {
                "id": f"g{g:02d}",
                "name": f"Группа {g}",
                "curator_id": teachers[g],
                "students": [
                    {"id": s, "from": "2026-09-01", "to": None}
                    for s in students[g * PER_GROUP : (g + 1) * PER_GROUP]
                ],
            }
            for g in range(GROUPS)
        ],
        # Each teacher teaches a quarter of the subjects in a rolling set of groups.
        "assignments": [
            {"teacher_id": teachers[(g + k) % GROUPS], "group_id": f"g{g:02d}", "subject_id": s}
            for g in range(GROUPS)
            for k, s in enumerate(SUBJECTS)
        ],
    }


def lesson_days(span: tuple[date, date], every: int, offset: int) -> list[date]:
    days, day = [], span[0] + timedelta(days=offset)
    while day <= span[1]:
        if day.weekday() < 6:
            days.append(day)
        day += timedelta(days=every)
    return days


def generate(
    services: Services, progress: Callable[[int, int], None] | None = None, seed: int = 7
) -> int:
    """Write the year; returns how many events the store holds."""
    rng = random.Random(seed)
    app = services.journal
    import_roster(app, services.passwords, parse_roster(roster()), system_actor(ORG))
    year = app.year(ORG, YEAR)
    teacher_of = {(g, s): t for t, g, s in year.assignments}
    weights = year.rules
    # Lesson dates per subject: each subject twice a week on its own weekday pattern.
    schedule = {
        s: lesson_days(S1, 3, i % 3) + lesson_days(S2, 3, i % 3) for i, s in enumerate(SUBJECTS)
    }
    groups = sorted(year.groups)
    total_groups = len(groups)
    for gi, group in enumerate(groups):
        students = sorted(s for (g, s) in year.memberships if g == group)
        journals: list[Any] = []
        pages: list[Any] = []
        for subject in SUBJECTS:
            teacher = Actor(teacher_of[(group, subject)], "teacher", ORG)
            page = SubjectPage.open(
                org_id=ORG,
                year_id=YEAR,
                group_id=group,
                subject_id=subject,
                actor=teacher,
                at=_at(schedule[subject][0]),
            )
            for n, day in enumerate(schedule[subject]):
                page.record_lesson(
                    lesson_id=f"{group}-{subject}-{n}",
                    lesson_date=day,
                    lesson_no=1 + n % 4,
                    topic=f"Тема {n + 1}",
                    homework=f"§{n + 1}" if n % 3 else None,
                    actor=teacher,
                    at=_at(day),
                )
            pages.append(page)
        for student in students:
            first = _at(S1[0])
            journal = StudentJournal.open(
                org_id=ORG,
                year_id=YEAR,
                student_id=student,
                actor=Actor("system", "system", ORG),
                at=first,
            )
            # Everything the student's teachers write this year, then applied in time order
            # (a stream's events are in time order, as a real clock makes them).
            entries: list[tuple[datetime, float, Callable[[datetime], None]]] = []
            for subject in SUBJECTS:
                teacher = Actor(teacher_of[(group, subject)], "teacher", ORG)
                days = schedule[subject]
                for day in rng.sample(days, k=min(45, len(days))):
                    entries += _mark(journal, rng, student, subject, day, teacher, weights)
                for day in rng.sample(days, k=8):
                    code = rng.choice(("Н", "НУ", "Б", "НН"))
                    entries.append(
                        (
                            _at(day, 1),
                            len(entries),
                            _absence(
                                journal, f"{student}-{subject}-a-{day}", subject, day, code, teacher
                            ),
                        )
                    )
                result = rng.choice(("3", "4", "5", "зачёт", "а/з"))
                entries.append(
                    (
                        _at(S1[1], 2),
                        len(entries),
                        _attestation(journal, f"{student}-{subject}-S1", subject, result, teacher),
                    )
                )
            for at, _, write in sorted(entries, key=lambda e: (e[0], e[1])):
                write(at)
            journals.append(journal)
        # Save in chunks: one transaction each, events in time order within a stream.
        for chunk in range(0, len(journals), 5):
            app.save(*journals[chunk : chunk + 5])
        app.save(*pages)
        if progress is not None:
            progress(gi + 1, total_groups)
    return int(app.recorder.max_notification_id() or 0)


def _mark(
    journal: StudentJournal,
    rng: random.Random,
    student: str,
    subject: str,
    day: date,
    teacher: Actor,
    rules: Any,
) -> list[tuple[datetime, float, Callable[[datetime], None]]]:
    mark_id = f"{student}-{subject}-{day.isoformat()}"
    kind = rng.choice(("oral", "oral", "written", "test", "control"))
    value = rng.choice((3, 4, 4, 5, 5, 2))

    def record(at: datetime) -> None:
        journal.record_mark(
            mark_id=mark_id,
            subject_id=subject,
            lesson_date=day,
            work_kind=kind,
            value=value,
            rules=rules,
            actor=teacher,
            at=at,
        )

    out: list[tuple[datetime, float, Callable[[datetime], None]]] = [
        (_at(day), rng.random(), record)
    ]
    if rng.random() < 0.03:
        corrected = 5 if value != 5 else 4

        def correct(at: datetime) -> None:
            journal.correct_mark(
                mark_id=mark_id,
                value=corrected,
                reason="исправление ошибки",
                rules=rules,
                actor=teacher,
                at=at,
            )

        out.append((_at(day, 30), rng.random(), correct))
    return out


def _absence(
    journal: StudentJournal, absence_id: str, subject: str, day: date, code: str, teacher: Actor
) -> Callable[[datetime], None]:
    def record(at: datetime) -> None:
        journal.record_absence(
            absence_id=absence_id,
            subject_id=subject,
            lesson_date=day,
            code=code,
            actor=teacher,
            at=at,
        )

    return record


def _attestation(
    journal: StudentJournal, attestation_id: str, subject: str, result: str, teacher: Actor
) -> Callable[[datetime], None]:
    def record(at: datetime) -> None:
        journal.record_attestation(
            attestation_id=attestation_id,
            subject_id=subject,
            period_id="S1",
            result=result,
            actor=teacher,
            at=at,
        )

    return record


def _at(day: date, minutes: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC) + timedelta(minutes=minutes)
