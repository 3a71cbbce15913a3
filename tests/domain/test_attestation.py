"""Intermediate attestation on StudentJournal (R-ATT-1, R-ATT-2, R-ATT-6): results, corrections
and academic debts, as given-when-then scenarios over the journal's events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from domain.actors import Actor
from domain.errors import RecordNotFound, RuleViolation, UnsatisfactoryAttestation
from domain.journal import StudentJournal
from domain.rules import ATTESTATION_RESULTS
from tests.domain.builders import DEPUTY, TEACHER, at, journal_events
from tests.domain.gwt import given, replay

Recorded = StudentJournal.AttestationRecorded
Corrected = StudentJournal.AttestationCorrected

Command = Any


def attest(
    attestation_id: str = "at1",
    *,
    result: str = "4",
    subject_id: str = "math",
    period_id: str = "s1",
    actor: Actor = TEACHER,
    when: datetime | None = None,
    **extra: Any,
) -> Command:
    def command(j: StudentJournal) -> None:
        j.record_attestation(
            attestation_id=attestation_id,
            subject_id=subject_id,
            period_id=period_id,
            result=result,
            actor=actor,
            at=when or at(10),
            **extra,
        )

    return command


def reattest(
    attestation_id: str = "at1",
    *,
    result: str = "4",
    reason: str | None = "пересдача",
    actor: Actor = TEACHER,
    when: datetime | None = None,
    **extra: Any,
) -> Command:
    def command(j: StudentJournal) -> None:
        j.correct_attestation(
            attestation_id=attestation_id,
            result=result,
            reason=reason,
            actor=actor,
            at=when or at(20),
            **extra,
        )

    return command


def plain_violation(error: RuleViolation, field: str) -> None:
    assert type(error) is RuleViolation
    assert error.code == "validation-error"
    assert error.field == field


# --- recording results (R-ATT-1) ------------------------------------------------------------


@pytest.mark.parametrize("result", ["5", "4", "3", "зачёт", "а/з", "н/а", "НПА"])
def test_every_result_of_the_list_is_accepted(result: str) -> None:
    given(*journal_events()).when(attest(result=result, when=at(15))).then(
        (
            Recorded,
            {
                "attestation_id": "at1",
                "subject_id": "math",
                "period_id": "s1",
                "result": result,
                "reason": None,
                "late": False,
                "actor_id": TEACHER.id,
                "actor_role": "teacher",
                "timestamp": at(15),
            },
        )
    )


def test_the_accepted_results_are_exactly_the_seven_of_the_rules() -> None:
    assert set(ATTESTATION_RESULTS) == {"5", "4", "3", "зачёт", "а/з", "н/а", "НПА"}


def test_a_recorded_result_has_one_version_with_its_author() -> None:
    journal = replay(journal_events(attest(result="зачёт", when=at(15))))
    result = journal.attestations["at1"]
    assert (result.subject_id, result.period_id, result.result) == ("math", "s1", "зачёт")
    assert (result.recorded_by, result.recorded_at) == (TEACHER.id, at(15))
    assert [
        (v.result, v.actor_id, v.actor_role, v.occurred_at, v.reason) for v in result.versions
    ] == [("зачёт", TEACHER.id, "teacher", at(15), None)]
    assert journal.attestation_for("math", "s1") is result
    assert journal.attestation_for("math", "s2") is None


@pytest.mark.parametrize("result", ["2", "1"])
def test_an_unsatisfactory_result_is_refused_when_recorded(result: str) -> None:
    # R-ATT-2: a failure is "а/з", never 2.
    error = (
        given(*journal_events())
        .when(attest(result=result))
        .then_raises(UnsatisfactoryAttestation, "unsatisfactory-attestation")
    )
    assert error.field == "result"


@pytest.mark.parametrize("result", ["2", "1"])
def test_an_unsatisfactory_result_is_refused_when_corrected(result: str) -> None:
    error = (
        given(*journal_events(attest(result="3")))
        .when(reattest(result=result, reason="не сдал"))
        .then_raises(UnsatisfactoryAttestation, "unsatisfactory-attestation")
    )
    assert error.field == "result"


@pytest.mark.parametrize(
    "result", ["", " ", "0", "6", "5 ", " 4", "зачет", "Зачёт", "а/з ", "A/З", "н\\а", "нпа", "отл"]
)
def test_an_unknown_result_is_a_validation_error(result: str) -> None:
    error = given(*journal_events()).when(attest(result=result)).then_raises(RuleViolation)
    plain_violation(error, "result")


@pytest.mark.parametrize("result", ["0", "зачет", "не зачёт"])
def test_an_unknown_result_is_refused_when_corrected(result: str) -> None:
    error = (
        given(*journal_events(attest(result="3")))
        .when(reattest(result=result))
        .then_raises(RuleViolation)
    )
    plain_violation(error, "result")


def test_one_result_per_subject_and_period() -> None:
    error = (
        given(*journal_events(attest("at1", result="4")))
        .when(attest("at2", result="5"))
        .then_raises(RuleViolation)
    )
    plain_violation(error, "period_id")


def test_the_same_id_cannot_be_recorded_twice() -> None:
    error = (
        given(*journal_events(attest("at1", period_id="s1")))
        .when(attest("at1", period_id="s2"))
        .then_raises(RuleViolation)
    )
    plain_violation(error, "attestation_id")


def test_other_periods_and_subjects_take_their_own_result() -> None:
    scenario = given(*journal_events(attest("at1", subject_id="math", period_id="s1")))
    scenario.when(attest("at2", subject_id="math", period_id="s2", when=at(11))).then(
        (Recorded, {"period_id": "s2"})
    )
    scenario.when(attest("at3", subject_id="rus", period_id="s1", when=at(12))).then(
        (Recorded, {"subject_id": "rus"})
    )
    assert len(scenario.aggregate.attestations) == 3


def test_a_reason_on_a_recording_is_kept_trimmed_and_blank_is_none() -> None:
    given(*journal_events()).when(attest("at1", reason="  после срока  ")).then(
        (Recorded, {"reason": "после срока"})
    )
    given(*journal_events()).when(attest("at1", reason="   ")).then((Recorded, {"reason": None}))


# --- correcting results (R-MARK-3 applied to R-ATT) -----------------------------------------


def test_a_correction_records_the_new_and_the_previous_result_with_its_reason() -> None:
    given(*journal_events(attest(result="3"))).when(
        reattest(result="4", reason="  апелляция  ", when=at(25))
    ).then(
        (
            Corrected,
            {
                "attestation_id": "at1",
                "result": "4",
                "previous_result": "3",
                "reason": "апелляция",
                "late": False,
                "actor_id": TEACHER.id,
                "timestamp": at(25),
            },
        )
    )


@pytest.mark.parametrize("reason", [None, "", "   ", "\t"])
def test_a_correction_needs_a_reason(reason: str | None) -> None:
    error = (
        given(*journal_events(attest(result="3")))
        .when(reattest(result="4", reason=reason))
        .then_raises(RuleViolation)
    )
    plain_violation(error, "reason")


@pytest.mark.parametrize("result", ["3", "а/з", "зачёт"])
def test_a_correction_to_the_same_result_is_refused(result: str) -> None:
    error = (
        given(*journal_events(attest(result=result)))
        .when(reattest(result=result))
        .then_raises(RuleViolation)
    )
    plain_violation(error, "result")


def test_correcting_an_unknown_result_is_not_found() -> None:
    given(*journal_events()).when(reattest("nope")).then_raises(RecordNotFound, "not-found")


# --- academic debt (R-ATT-6) ------------------------------------------------------------------


@pytest.mark.parametrize("result", ["а/з", "н/а"])
def test_a_debt_result_opens_a_debt(result: str) -> None:
    journal = replay(journal_events(attest(result=result)))
    assert journal.attestations["at1"].debt == "open"


@pytest.mark.parametrize("result", ["5", "4", "3", "зачёт", "НПА"])
def test_a_result_without_debt_has_none(result: str) -> None:
    journal = replay(journal_events(attest(result=result)))
    assert journal.attestations["at1"].debt is None


def test_a_debt_cleared_by_a_correction_keeps_both_versions() -> None:
    scenario = given(*journal_events(attest(result="а/з", when=at(10))))
    scenario.when(reattest(result="4", reason="ликвидирована задолженность", when=at(90))).then(
        (Corrected, {"result": "4", "previous_result": "а/з"})
    )
    result = scenario.aggregate.attestations["at1"]
    assert result.result == "4"
    assert result.debt == "cleared"
    assert [(v.result, v.occurred_at, v.reason) for v in result.versions] == [
        ("а/з", at(10), None),
        ("4", at(90), "ликвидирована задолженность"),
    ]


@pytest.mark.parametrize("passed", ["3", "5", "зачёт"])
def test_any_passing_result_after_a_debt_clears_it(passed: str) -> None:
    journal = replay(journal_events(attest(result="а/з"), reattest(result=passed)))
    assert journal.attestations["at1"].debt == "cleared"


def test_a_debt_not_cleared_in_time_stays_open() -> None:
    # а/з, then н/а (art. 58 p. 9): the debt is still open.
    journal = replay(journal_events(attest(result="а/з"), reattest(result="н/а")))
    result = journal.attestations["at1"]
    assert result.debt == "open"
    assert [v.result for v in result.versions] == ["а/з", "н/а"]


def test_a_not_attested_result_cleared_later_is_cleared() -> None:
    journal = replay(
        journal_events(
            attest(result="а/з"),
            reattest(result="н/а", when=at(20)),
            reattest(result="зачёт", when=at(30)),
        )
    )
    assert journal.attestations["at1"].debt == "cleared"
    assert [v.result for v in journal.attestations["at1"].versions] == ["а/з", "н/а", "зачёт"]


def test_a_passing_result_corrected_to_a_debt_opens_it() -> None:
    journal = replay(journal_events(attest(result="3"), reattest(result="а/з")))
    assert journal.attestations["at1"].debt == "open"


# Regression: at f47a42d `debt` answered "cleared" for а/з then НПА, which is not a pass.
def test_a_debt_followed_by_not_passed_for_a_valid_reason_is_not_cleared() -> None:
    journal = replay(journal_events(attest(result="а/з"), reattest(result="НПА")))
    assert journal.attestations["at1"].debt == "open"


# --- late flag (R-ATT-4 via a deputy, R-MARK-4) -----------------------------------------------


def test_a_late_recording_by_a_deputy_is_flagged_on_the_event_and_version() -> None:
    scenario = given(*journal_events())
    scenario.when(attest(actor=DEPUTY, late=True, reason="служебная записка")).then(
        (Recorded, {"late": True, "actor_role": "deputy", "reason": "служебная записка"})
    )
    [version] = scenario.aggregate.attestations["at1"].versions
    assert version.late is True
    assert version.actor_role == "deputy"


def test_a_late_correction_is_flagged_on_the_event_and_its_version_only() -> None:
    scenario = given(*journal_events(attest(result="а/з")))
    scenario.when(reattest(result="3", actor=DEPUTY, late=True, reason="пересдача")).then(
        (Corrected, {"late": True, "actor_role": "deputy"})
    )
    assert [v.late for v in scenario.aggregate.attestations["at1"].versions] == [False, True]


def test_replaying_attestation_events_rebuilds_the_live_journal() -> None:
    live = replay(journal_events())
    for command in (
        attest("at1", result="а/з"),
        attest("at2", subject_id="rus", result="5"),
        reattest("at1", result="4", actor=DEPUTY, late=True),
    ):
        command(live)
    events = [*journal_events(), *live.collect_events()]
    rebuilt = replay(events)
    assert rebuilt.attestations == live.attestations
    assert rebuilt.attestations["at1"].debt == "cleared"
    assert rebuilt.version == live.version == len(events)
