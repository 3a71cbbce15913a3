"""Properties of the academic rules over random inputs (hypothesis).

(a) no sequence of attestation commands ever leaves an unsatisfactory result (R-ATT-2);
(b) no teacher, substitute or curator write lands past its deadline (R-MARK-2);
(c) a transfer between groups never moves or loses earlier entries (R-MARK-5, R-REL-2).
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import Phase, find, given, settings

from domain.actors import Actor, Role
from domain.deadlines import current_entry_is_late
from domain.errors import (
    DeadlinePassed,
    LessonInFuture,
    NotEnrolled,
    RuleViolation,
    UnsatisfactoryAttestation,
)
from domain.journal import StudentJournal
from domain.policy import authorise_journal_write
from domain.reference import AcademicYear, GroupInfo, Membership
from domain.rules import UNSATISFACTORY_RESULTS, JournalRules
from tests.domain.builders import ORG, STUDENT, SYSTEM, T0, YEAR, at
from tests.domain.gwt import replay
from tests.domain.rule_strategies import (
    YEAR_END,
    YEAR_START,
    AttestationCommand,
    CorrectAttestation,
    DeadlineCase,
    RecordAttestation,
    Transfer,
    attestation_sequences,
    deadline_cases,
    transfers,
)

PROPERTY = settings(max_examples=150, deadline=None)


def open_journal() -> StudentJournal:
    return StudentJournal.open(org_id=ORG, year_id=YEAR, student_id=STUDENT, actor=SYSTEM, at=T0)


# --- (a) attestation results are never unsatisfactory ------------------------------------------


def run_attestations(
    commands: list[AttestationCommand],
) -> tuple[StudentJournal, list[Any], list[tuple[AttestationCommand, RuleViolation | None]]]:
    journal = open_journal()
    events = list(journal.collect_events())
    steps: list[tuple[AttestationCommand, RuleViolation | None]] = []
    for command in commands:
        before = copy.deepcopy(journal.attestations)
        try:
            command.run(journal)
            error = None
        except RuleViolation as e:
            error = e
            assert journal.pending_events == []
            assert journal.attestations == before
        events.extend(journal.collect_events())
        steps.append((command, error))
    return journal, events, steps


def every_result(journal: StudentJournal) -> list[str]:
    return [
        result
        for attestation in journal.attestations.values()
        for result in [attestation.result, *(v.result for v in attestation.versions)]
    ]


@PROPERTY
@given(attestation_sequences)
def test_no_attestation_sequence_leaves_a_2_or_a_1(commands: list[AttestationCommand]) -> None:
    journal = open_journal()
    for command in commands:
        try:
            command.run(journal)
        except UnsatisfactoryAttestation as e:
            assert command.result in UNSATISFACTORY_RESULTS
            assert e.code == "unsatisfactory-attestation"
        except RuleViolation:
            pass
        assert not set(every_result(journal)) & UNSATISFACTORY_RESULTS
    # Nor in the recorded history, nor after a replay.
    events = list(journal.collect_events())
    for event in events:
        assert getattr(event, "result", None) not in UNSATISFACTORY_RESULTS
        assert getattr(event, "previous_result", None) not in UNSATISFACTORY_RESULTS
    assert not set(every_result(replay(events))) & UNSATISFACTORY_RESULTS


@PROPERTY
@given(attestation_sequences)
def test_an_unsatisfactory_result_is_always_refused(commands: list[AttestationCommand]) -> None:
    journal, events, steps = run_attestations(commands)
    for command, error in steps:
        if command.result in UNSATISFACTORY_RESULTS:
            assert error is not None
        if isinstance(command, RecordAttestation) and command.result in UNSATISFACTORY_RESULTS:
            # Recording checks the result first: the refusal names the real problem.
            assert isinstance(error, UnsatisfactoryAttestation)
    rebuilt = replay(events)
    assert rebuilt.attestations == journal.attestations
    assert rebuilt.version == journal.version == len(events)
    # One result per subject and period.
    keys = [(a.subject_id, a.period_id) for a in journal.attestations.values()]
    assert len(keys) == len(set(keys))


def test_the_attestation_strategy_reaches_successful_corrections() -> None:
    """Guard against a strategy that only ever produces rejections."""

    def corrected_twice(commands: list[AttestationCommand]) -> bool:
        _, _, steps = run_attestations(commands)
        return sum(isinstance(c, CorrectAttestation) and e is None for c, e in steps) >= 2

    once = settings(max_examples=300, deadline=None, database=None, phases=[Phase.generate])
    find(attestation_sequences, corrected_twice, settings=once)


# --- (b) no teacher write lands past its deadline -------------------------------------------------


def decide(case: DeadlineCase) -> bool | RuleViolation:
    try:
        return current_entry_is_late(
            role=case.role,
            lesson_date=case.lesson_date,
            today=case.today,
            rules=case.rules,
            reason=case.reason,
        )
    except RuleViolation as e:
        return e


@PROPERTY
@given(deadline_cases())
def test_a_teacher_write_is_on_time_or_refused_never_late(case: DeadlineCase) -> None:
    decision = decide(case)
    on_time = (
        case.lesson_date <= case.today <= case.lesson_date + timedelta(days=case.current_mark_days)
    )
    # Either it raises or it returns False: never a late write by a non-deputy.
    assert decision is False or isinstance(decision, RuleViolation)
    assert (decision is False) == on_time
    if case.today < case.lesson_date:
        assert type(decision) is LessonInFuture
    elif not on_time:
        assert type(decision) is DeadlinePassed
        assert decision.code == "deadline-passed"


@PROPERTY
@given(deadline_cases(roles=(Role.DEPUTY.value,)))
def test_a_deputy_is_late_exactly_past_the_deadline_with_a_reason(case: DeadlineCase) -> None:
    decision = decide(case)
    deadline = case.lesson_date + timedelta(days=case.current_mark_days)
    if case.today < case.lesson_date:
        assert type(decision) is LessonInFuture
    elif case.today <= deadline:
        assert decision is False
    elif (case.reason or "").strip():
        assert decision is True
    else:
        assert type(decision) is RuleViolation
        assert decision.field == "reason"


# --- (c) a transfer never moves or loses earlier entries ------------------------------------------

G1, G2 = "g1", "g2"
T_G1 = Actor("t-g1", Role.TEACHER, ORG, frozenset({Role.TEACHER}))
T_G2 = Actor("t-g2", Role.TEACHER, ORG, frozenset({Role.TEACHER}))
TRANSFER_GROUPS = {G1: GroupInfo("7 «А»", None, True), G2: GroupInfo("7 «Б»", None, True)}
TRANSFER_LOAD = {("t-g1", G1, "math"), ("t-g2", G2, "math")}
RULES = JournalRules()


def year_with(memberships: dict[tuple[str, str], Membership]) -> AcademicYear:
    year = AcademicYear.open(
        org_id=ORG, year_id=YEAR, starts_on=YEAR_START, ends_on=YEAR_END, actor=SYSTEM, at=T0
    )
    sync(year, memberships, 1)
    return year


def sync(year: AcademicYear, memberships: dict[tuple[str, str], Membership], minutes: int) -> None:
    year.sync(
        starts_on=YEAR_START,
        ends_on=YEAR_END,
        periods=[],
        rules=RULES,
        groups=TRANSFER_GROUPS,
        memberships=memberships,
        assignments=set(TRANSFER_LOAD),
        actor=SYSTEM,
        at=at(minutes),
    )


def write_role(who: Actor, year: AcademicYear, day: Any) -> str:
    return authorise_journal_write(who, year, STUDENT, "math", day, is_mark=True)


def refused_not_enrolled(who: Actor, year: AcademicYear, day: Any) -> None:
    with pytest.raises(NotEnrolled):
        write_role(who, year, day)


@settings(max_examples=80, deadline=None)
@given(transfers())
def test_a_transfer_never_moves_or_loses_earlier_entries(transfer: Transfer) -> None:
    # Given the student in g1 from the start of the year, and marks by the g1 teacher.
    year = year_with({(G1, STUDENT): Membership(YEAR_START, None)})
    journal = open_journal()
    for n, mark in enumerate(transfer.marks):
        role = write_role(T_G1, year, mark.lesson_date)
        assert role == "teacher"
        journal.record_mark(
            mark_id=mark.mark_id,
            subject_id="math",
            lesson_date=mark.lesson_date,
            work_kind=mark.work_kind,
            value=mark.value,
            rules=RULES,
            actor=Actor(T_G1.id, role, ORG, T_G1.roles),
            at=at(10 + n),
        )
    journal_events = list(journal.collect_events())
    before = copy.deepcopy(journal.marks)
    year_events = list(year.collect_events())

    # When the roster moves them: out of g1 after the last day, into g2 the next day.
    sync(
        year,
        {
            (G1, STUDENT): Membership(YEAR_START, transfer.last_day_in_g1),
            (G2, STUDENT): Membership(transfer.first_day_in_g2, None),
        },
        100,
    )
    transfer_events = list(year.collect_events())
    assert {type(e) for e in transfer_events} == {AcademicYear.MembershipChanged}

    # Then the journal, replayed from its own events, holds every mark unchanged...
    rebuilt = replay(journal_events)
    assert rebuilt.marks == before
    for mark in transfer.marks:
        kept = rebuilt.marks[mark.mark_id]
        assert (kept.subject_id, kept.lesson_date, kept.value, kept.work_kind) == (
            "math",
            mark.lesson_date,
            mark.value,
            mark.work_kind,
        )
        assert kept.recorded_by == T_G1.id
        assert len(kept.versions) == 1

    # ...and each teacher writes on their own side of the transfer only, in the live and in
    # the replayed year alike.
    for y in (year, replay(year_events + transfer_events)):
        for mark in transfer.marks:
            assert write_role(T_G1, y, mark.lesson_date) == "teacher"
            refused_not_enrolled(T_G2, y, mark.lesson_date)
        assert write_role(T_G1, y, transfer.last_day_in_g1) == "teacher"
        refused_not_enrolled(T_G2, y, transfer.last_day_in_g1)
        for later in (transfer.first_day_in_g2, transfer.later_day):
            assert write_role(T_G2, y, later) == "teacher"
            refused_not_enrolled(T_G1, y, later)
