"""Hypothesis strategies for the academic rules: attestation command sequences, deadline
situations and transfers between groups.

Like tests/strategies.py, commands are frozen dataclasses (readable when a property fails)
drawn from small pools, so that sequences often hit the same result twice, and from both valid
and invalid values (including the forbidden "2" and "1") so that rejections are exercised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hypothesis import strategies as st

from domain.actors import Actor, Role
from domain.journal import StudentJournal
from domain.rules import ATTESTATION_RESULTS, UNSATISFACTORY_RESULTS, WORK_KINDS, JournalRules
from tests.strategies import ORG, moments, reasons, weighted

ATTESTATION_IDS = ("at1", "at2", "at3")
ATT_SUBJECTS = ("math", "rus")
ATT_PERIODS = ("s1", "s2")

# --- attestation commands ---------------------------------------------------------------------

attestation_actors = st.builds(
    Actor,
    id=st.sampled_from(["t-sokolova", "t-petrov", "d-orlova"]),
    role=st.sampled_from([Role.TEACHER.value, Role.DEPUTY.value]),
    org_id=st.just(ORG),
)

# Valid results, the unsatisfactory ones (R-ATT-2) often, and a little garbage.
attestation_results: st.SearchStrategy[str] = weighted(
    (5, st.sampled_from(ATTESTATION_RESULTS)),
    (3, st.sampled_from(sorted(UNSATISFACTORY_RESULTS))),
    (1, st.sampled_from(["", "0", "6", "зачет", " 2", "2 ", "н/а ", "неуд"])),
)


@dataclass(frozen=True)
class RecordAttestation:
    attestation_id: str
    subject_id: str
    period_id: str
    result: str
    reason: str | None
    late: bool
    actor: Actor
    at: datetime

    def run(self, journal: StudentJournal) -> None:
        journal.record_attestation(
            attestation_id=self.attestation_id,
            subject_id=self.subject_id,
            period_id=self.period_id,
            result=self.result,
            actor=self.actor,
            at=self.at,
            reason=self.reason,
            late=self.late,
        )


@dataclass(frozen=True)
class CorrectAttestation:
    attestation_id: str
    result: str
    reason: str | None
    late: bool
    actor: Actor
    at: datetime

    def run(self, journal: StudentJournal) -> None:
        journal.correct_attestation(
            attestation_id=self.attestation_id,
            result=self.result,
            reason=self.reason,
            actor=self.actor,
            at=self.at,
            late=self.late,
        )


AttestationCommand = RecordAttestation | CorrectAttestation

record_attestations = st.builds(
    RecordAttestation,
    attestation_id=st.sampled_from(ATTESTATION_IDS),
    subject_id=st.sampled_from(ATT_SUBJECTS),
    period_id=st.sampled_from(ATT_PERIODS),
    result=attestation_results,
    reason=st.one_of(st.none(), reasons),
    late=st.booleans(),
    actor=attestation_actors,
    at=moments,
)

correct_attestations = st.builds(
    CorrectAttestation,
    attestation_id=st.sampled_from(ATTESTATION_IDS),
    result=attestation_results,
    reason=reasons,
    late=st.booleans(),
    actor=attestation_actors,
    at=moments,
)

# A couple of recordings first so that corrections usually find their result.
attestation_sequences: st.SearchStrategy[list[AttestationCommand]] = st.builds(
    lambda first, rest: [*first, *rest],
    st.lists(record_attestations, min_size=1, max_size=3),
    st.lists(weighted((2, record_attestations), (3, correct_attestations)), max_size=20),
)

# --- deadlines --------------------------------------------------------------------------------

NON_DEPUTY_ROLES = (Role.TEACHER.value, Role.SUBSTITUTE.value, Role.CURATOR.value)

deadline_lesson_dates = st.dates(min_value=date(2026, 9, 1), max_value=date(2027, 6, 30))


@dataclass(frozen=True)
class DeadlineCase:
    role: str
    lesson_date: date
    today: date
    current_mark_days: int
    reason: str | None

    @property
    def rules(self) -> JournalRules:
        return JournalRules(current_mark_days=self.current_mark_days)


@st.composite
def deadline_cases(draw: st.DrawFn, roles: tuple[str, ...] = NON_DEPUTY_ROLES) -> DeadlineCase:
    """Lesson date and today: mostly close together (both sides of the deadline), sometimes
    anywhere in the year."""
    lesson_date = draw(deadline_lesson_dates)
    days = draw(st.integers(min_value=0, max_value=14))
    today = draw(
        weighted(
            (
                4,
                st.integers(min_value=-3, max_value=days + 3).map(
                    lambda n: lesson_date + timedelta(days=n)
                ),
            ),
            (1, deadline_lesson_dates),
        )
    )
    return DeadlineCase(
        role=draw(st.sampled_from(roles)),
        lesson_date=lesson_date,
        today=today,
        current_mark_days=days,
        reason=draw(st.one_of(st.none(), reasons)),
    )


# --- transfers (R-MARK-5) ---------------------------------------------------------------------

YEAR_START = date(2026, 9, 1)
YEAR_END = date(2027, 6, 30)


@dataclass(frozen=True)
class EarlyMark:
    mark_id: str
    lesson_date: date
    value: int
    work_kind: str


@dataclass(frozen=True)
class Transfer:
    """The student leaves g1 at the end of `last_day_in_g1` and joins g2 the next day."""

    last_day_in_g1: date
    marks: tuple[EarlyMark, ...]
    later_day: date

    @property
    def first_day_in_g2(self) -> date:
        return self.last_day_in_g1 + timedelta(days=1)


@st.composite
def transfers(draw: st.DrawFn) -> Transfer:
    last = draw(st.dates(min_value=YEAR_START, max_value=YEAR_END - timedelta(days=1)))
    early_dates = st.dates(min_value=YEAR_START, max_value=last)
    count = draw(st.integers(min_value=1, max_value=6))
    marks = tuple(
        EarlyMark(
            mark_id=f"m{i}",
            lesson_date=draw(early_dates),
            value=draw(st.integers(min_value=2, max_value=5)),
            work_kind=draw(st.sampled_from(WORK_KINDS)),
        )
        for i in range(count)
    )
    later = draw(st.dates(min_value=last + timedelta(days=1), max_value=YEAR_END))
    return Transfer(last_day_in_g1=last, marks=marks, later_day=later)
