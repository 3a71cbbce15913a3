"""Properties of StudentJournal over random sequences of commands, valid and invalid.

Each sequence runs on a fresh journal; a command that breaks a rule raises `RuleViolation`,
which is caught and checked, and the sequence goes on.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass, field
from typing import Any

from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from domain.errors import RuleViolation
from domain.journal import StudentJournal
from domain.rules import HIGHEST_MARK, JournalRules
from tests.domain.builders import ORG, STUDENT, SYSTEM, T0, YEAR
from tests.domain.gwt import replay
from tests.strategies import (
    CorrectMark,
    JournalCommand,
    RecordMark,
    command_sequences,
    journal_rules,
)

PROPERTY = settings(max_examples=150, deadline=None)


@dataclass
class Step:
    command: JournalCommand
    events: list[Any]
    error: RuleViolation | None
    marks_before: int
    marks_after: int


@dataclass
class Run:
    journal: StudentJournal
    events: list[Any] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


def open_journal() -> StudentJournal:
    return StudentJournal.open(org_id=ORG, year_id=YEAR, student_id=STUDENT, actor=SYSTEM, at=T0)


def run(rules: JournalRules, commands: list[JournalCommand]) -> Run:
    """Apply the commands one by one; a rejected one must leave nothing behind."""
    journal = open_journal()
    result = Run(journal, list(journal.collect_events()))
    for command in commands:
        marks, absences = copy.deepcopy(journal.marks), copy.deepcopy(journal.absences)
        version, before = journal.version, len(journal.marks)
        try:
            command.run(journal, rules)
            error = None
        except RuleViolation as e:
            error = e
            # (c) a rejected command leaves no event behind and does not change state.
            assert journal.pending_events == []
            assert journal.version == version
            assert journal.marks == marks
            assert journal.absences == absences
        new = list(journal.collect_events())
        result.events.extend(new)
        result.steps.append(Step(command, new, error, before, len(journal.marks)))
    return result


scenarios = st.tuples(journal_rules, command_sequences)


@PROPERTY
@given(scenarios)
def test_replaying_the_events_rebuilds_the_live_journal(scenario: Any) -> None:
    rules, commands = scenario
    live = run(rules, commands)
    rebuilt = replay(live.events)
    assert rebuilt.marks == live.journal.marks
    assert rebuilt.absences == live.journal.absences
    assert rebuilt.version == live.journal.version == len(live.events)
    assert rebuilt.id == live.journal.id
    assert rebuilt.pending_events == []


@PROPERTY
@given(scenarios)
def test_corrections_never_change_the_number_of_marks(scenario: Any) -> None:
    rules, commands = scenario
    result = run(rules, commands)
    for step in result.steps:
        if isinstance(step.command, RecordMark) and step.error is None:
            assert step.marks_after == step.marks_before + 1
        else:
            assert step.marks_after == step.marks_before
    recorded = sum(isinstance(e, StudentJournal.MarkRecorded) for e in result.events)
    assert len(result.journal.marks) == recorded


@PROPERTY
@given(scenarios)
def test_a_rejected_command_records_nothing(scenario: Any) -> None:
    rules, commands = scenario
    result = run(rules, commands)  # `run` checks state and pending events on every rejection
    for step in result.steps:
        if step.error is not None:
            assert step.events == []
        else:
            assert len(step.events) == 1


@PROPERTY
@given(scenarios)
def test_every_mark_stays_within_the_scale(scenario: Any) -> None:
    rules, commands = scenario
    journal = open_journal()
    for command in commands:
        with contextlib.suppress(RuleViolation):
            command.run(journal, rules)
        for mark in journal.marks.values():
            for value in [mark.value, *(v.value for v in mark.versions)]:
                assert type(value) is int
                assert rules.lowest_mark <= value <= HIGHEST_MARK


@PROPERTY
@given(scenarios)
def test_every_event_carries_the_given_time_and_its_author(scenario: Any) -> None:
    rules, commands = scenario
    result = run(rules, commands)
    opened = result.events[0]
    assert (opened.timestamp, opened.actor_id) == (T0, SYSTEM.id)
    for step in result.steps:
        for event in step.events:
            assert event.timestamp == step.command.at
            assert event.timestamp.tzinfo is not None
            assert event.actor_id
            assert event.actor_id == step.command.actor.id
            assert event.actor_role == step.command.actor.role


@PROPERTY
@given(scenarios)
def test_a_mark_history_is_one_version_per_event_on_it(scenario: Any) -> None:
    rules, commands = scenario
    result = run(rules, commands)
    for mark_id, mark in result.journal.marks.items():
        on_mark = [e for e in result.events if getattr(e, "mark_id", None) == mark_id]
        assert len(mark.versions) == len(on_mark)
        assert mark.versions[-1].value == mark.value
        assert mark.versions[-1].status == mark.status
        corrections = [e for e in on_mark if isinstance(e, StudentJournal.MarkCorrected)]
        for correction in corrections:
            assert correction.previous_value != correction.value
            assert correction.reason == correction.reason.strip() != ""


def test_the_strategies_reach_successful_corrections() -> None:
    """Guard against a strategy that only ever produces rejections."""

    def corrected_twice(scenario: Any) -> bool:
        rules, commands = scenario
        result = run(rules, commands)
        ok = [s for s in result.steps if isinstance(s.command, CorrectMark) and s.error is None]
        return len(ok) >= 2

    # Generation only: shrinking the example found would take far longer and tell nothing.
    once = settings(max_examples=300, deadline=None, database=None, phases=[Phase.generate])
    find(scenarios, corrected_twice, settings=once)
