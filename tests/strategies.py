"""Hypothesis strategies: journal rules, actors, times and random sequences of journal commands.

Commands are plain data (frozen dataclasses) so that a failing example prints readably;
`run(journal, rules)` applies one to a `StudentJournal`. Arguments are drawn from small pools
so that sequences often hit the same mark twice (corrections, cancellations, duplicates), and
from both valid and invalid values so that rejections are exercised as often as successes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import strategies as st

from domain.actors import Actor, Role
from domain.journal import StudentJournal
from domain.rules import ABSENCE_CODES, ABSENCE_SOURCES, WORK_KINDS, JournalRules

ORG = "sght"
MARK_IDS = ("m1", "m2", "m3")
ABSENCE_IDS = ("a1", "a2", "a3")
SUBJECTS = ("math", "rus", "phys")

# --- building blocks -------------------------------------------------------------------------


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Draw from one of `choices`, each as often as its weight."""
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda strategy: strategy)


actors = st.builds(
    Actor,
    id=st.sampled_from(["t-sokolova", "t-petrov", "d-orlova", "c-ivanova"]),
    role=st.sampled_from([Role.TEACHER.value, Role.DEPUTY.value]),
    org_id=st.just(ORG),
)

# Aware UTC moments within the school year; never the wall clock.
moments = st.datetimes(
    min_value=datetime(2026, 9, 1), max_value=datetime(2027, 6, 30, 23, 59), timezones=st.just(UTC)
)

lesson_dates = st.dates(min_value=date(2026, 9, 1), max_value=date(2027, 6, 30))

journal_rules = st.builds(
    JournalRules,
    lowest_mark=st.sampled_from([1, 2]),
    weights=st.dictionaries(st.sampled_from(WORK_KINDS), st.integers(1, 3), max_size=3),
)

valid_values = st.integers(min_value=1, max_value=5)
invalid_values: st.SearchStrategy[Any] = st.one_of(
    st.integers(min_value=-2, max_value=0),
    st.integers(min_value=6, max_value=9),
    st.booleans(),
    st.sampled_from([4.0, 3.5, "5", None]),
)
# Mostly in range (1 is valid only where the rules allow it), sometimes garbage.
mark_values = weighted((4, valid_values), (1, invalid_values))

work_kinds = weighted((6, st.sampled_from(WORK_KINDS)), (1, st.sampled_from(["exam", "", "Oral"])))

reasons = weighted(
    (4, st.sampled_from(["опечатка", " не тот ученик ", "пересдача"])),
    (1, st.sampled_from([None, "", "   ", "\t"])),
    (1, st.text(max_size=4)),
)

absence_codes = weighted(
    (4, st.sampled_from(ABSENCE_CODES)), (1, st.sampled_from(["H", "н", "", "НН "]))
)
absence_sources = weighted((6, st.sampled_from(ABSENCE_SOURCES)), (1, st.just("parent")))
lesson_numbers = st.one_of(st.none(), st.integers(min_value=1, max_value=8))


# --- commands ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordMark:
    mark_id: str
    subject_id: str
    lesson_date: date
    work_kind: str
    value: Any
    lesson_no: int | None
    comment: str | None
    reason: str | None
    actor: Actor
    at: datetime

    def run(self, journal: StudentJournal, rules: JournalRules) -> None:
        journal.record_mark(
            mark_id=self.mark_id,
            subject_id=self.subject_id,
            lesson_date=self.lesson_date,
            work_kind=self.work_kind,
            value=self.value,
            rules=rules,
            actor=self.actor,
            at=self.at,
            lesson_no=self.lesson_no,
            comment=self.comment,
            reason=self.reason,
        )


@dataclass(frozen=True)
class CorrectMark:
    mark_id: str
    value: Any
    reason: str | None
    actor: Actor
    at: datetime

    def run(self, journal: StudentJournal, rules: JournalRules) -> None:
        journal.correct_mark(
            mark_id=self.mark_id,
            value=self.value,
            reason=self.reason,
            rules=rules,
            actor=self.actor,
            at=self.at,
        )


@dataclass(frozen=True)
class CancelMark:
    mark_id: str
    reason: str | None
    actor: Actor
    at: datetime

    def run(self, journal: StudentJournal, rules: JournalRules) -> None:
        journal.cancel_mark(mark_id=self.mark_id, reason=self.reason, actor=self.actor, at=self.at)


@dataclass(frozen=True)
class RecordAbsence:
    absence_id: str
    subject_id: str
    lesson_date: date
    code: str
    lesson_no: int | None
    reason: str | None
    source: str
    actor: Actor
    at: datetime

    def run(self, journal: StudentJournal, rules: JournalRules) -> None:
        journal.record_absence(
            absence_id=self.absence_id,
            subject_id=self.subject_id,
            lesson_date=self.lesson_date,
            code=self.code,
            actor=self.actor,
            at=self.at,
            lesson_no=self.lesson_no,
            reason=self.reason,
            source=self.source,
        )


JournalCommand = RecordMark | CorrectMark | CancelMark | RecordAbsence

record_marks = st.builds(
    RecordMark,
    mark_id=st.sampled_from(MARK_IDS),
    subject_id=st.sampled_from(SUBJECTS),
    lesson_date=lesson_dates,
    work_kind=work_kinds,
    value=mark_values,
    lesson_no=lesson_numbers,
    comment=st.one_of(st.none(), st.just(""), st.just("к/р")),
    reason=st.one_of(st.none(), reasons),
    actor=actors,
    at=moments,
)

# Recordings that every organisation's rules accept.
valid_record_marks = st.builds(
    RecordMark,
    mark_id=st.sampled_from(MARK_IDS),
    subject_id=st.sampled_from(SUBJECTS),
    lesson_date=lesson_dates,
    work_kind=st.sampled_from(WORK_KINDS),
    value=st.integers(min_value=2, max_value=5),
    lesson_no=lesson_numbers,
    comment=st.none(),
    reason=st.none(),
    actor=actors,
    at=moments,
)

correct_marks = st.builds(
    CorrectMark,
    mark_id=st.sampled_from(MARK_IDS),
    value=mark_values,
    reason=reasons,
    actor=actors,
    at=moments,
)

cancel_marks = st.builds(
    CancelMark, mark_id=st.sampled_from(MARK_IDS), reason=reasons, actor=actors, at=moments
)

record_absences = st.builds(
    RecordAbsence,
    absence_id=st.sampled_from(ABSENCE_IDS),
    subject_id=st.sampled_from(SUBJECTS),
    lesson_date=lesson_dates,
    code=absence_codes,
    lesson_no=lesson_numbers,
    reason=st.one_of(st.none(), reasons),
    source=absence_sources,
    actor=actors,
    at=moments,
)

journal_commands: st.SearchStrategy[JournalCommand] = weighted(
    (3, record_marks), (3, correct_marks), (1, cancel_marks), (2, record_absences)
)

# A few recordings first, so that later corrections and cancellations often find their mark.
command_sequences: st.SearchStrategy[list[JournalCommand]] = st.builds(
    lambda first, rest: [*first, *rest],
    st.lists(valid_record_marks, min_size=1, max_size=len(MARK_IDS), unique_by=lambda c: c.mark_id),
    st.lists(journal_commands, max_size=25),
)
