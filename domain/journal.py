"""The student's journal for one academic year: marks, absences, notices and attestation
results as immutable events.

Commands (`record_mark`, `correct_mark`, ...) check the rules and record an event; each
event's `apply` only assigns state, so replaying old events never re-runs today's rules.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, TypeVar
from uuid import UUID

from domain.actors import Actor
from domain.base import Audited, require_reason
from domain.errors import (
    AlreadyCancelled,
    AlreadyWithdrawn,
    InvalidMark,
    RecordNotFound,
    RuleViolation,
    UnsatisfactoryAttestation,
)
from domain.ids import journal_id
from domain.rules import (
    ABSENCE_CODES,
    ABSENCE_SOURCES,
    ATTESTATION_RESULTS,
    DEBT_RESULTS,
    HIGHEST_MARK,
    PASSING_RESULTS,
    UNSATISFACTORY_RESULTS,
    WORK_KINDS,
    JournalRules,
)

ACTIVE = "active"
CANCELLED = "cancelled"
WITHDRAWN = "withdrawn"


S = TypeVar("S", str, None)


def _s(text: S) -> S:
    """One shared copy of a string that repeats across a journal's records (ids of subjects
    and people, kinds, codes): a cached journal holds thousands of records, and each decoded
    event brings its own copies. A `str` subclass (a role enum member) is one object already."""
    return sys.intern(text) if type(text) is str else text


@lru_cache(maxsize=4096)
def _day(day: date) -> date:
    """One shared date object a calendar day (the first seen; dates are immutable)."""
    return day


@dataclass(slots=True)
class MarkVersion:
    value: int
    status: str
    actor_id: str
    actor_role: str
    occurred_at: datetime
    reason: str | None
    late: bool = False


@dataclass(slots=True)
class Mark:
    mark_id: str
    subject_id: str
    lesson_date: date
    lesson_no: int | None
    work_kind: str
    value: int
    weight: int
    comment: str | None
    status: str
    recorded_by: str
    recorded_at: datetime
    versions: list[MarkVersion] = field(default_factory=list)

    @property
    def corrected(self) -> bool:
        return len(self.versions) > 1


@dataclass(slots=True)
class Absence:
    absence_id: str
    subject_id: str | None  # None: a parent's notice covering every lesson of the day
    lesson_date: date
    lesson_no: int | None
    code: str
    reason: str | None
    status: str
    source: str
    recorded_by: str
    recorded_at: datetime
    # Lessons (subject, lesson_no) a teacher found the student present at, for notice days.
    present_at: list[tuple[str, int | None]] = field(default_factory=list)
    history: list[AbsenceVersion] = field(default_factory=list)


@dataclass(slots=True)
class AbsenceVersion:
    action: str
    code: str
    reason: str | None
    status: str
    actor_id: str
    actor_role: str
    occurred_at: datetime
    late: bool = False


@dataclass(slots=True)
class AttestationVersion:
    result: str
    actor_id: str
    actor_role: str
    occurred_at: datetime
    reason: str | None
    late: bool = False


@dataclass(slots=True)
class Attestation:
    attestation_id: str
    subject_id: str
    period_id: str
    result: str
    recorded_by: str
    recorded_at: datetime
    versions: list[AttestationVersion] = field(default_factory=list)

    @property
    def debt(self) -> Literal["open", "cleared"] | None:
        """ "open" while the result is а/з or н/а, "cleared" once a debt was passed, else None."""
        return debt_status(self.result, any(v.result in DEBT_RESULTS for v in self.versions))


@dataclass(slots=True)
class AbsenceNotice:
    notice_id: str
    from_date: date
    to_date: date
    reason: str
    filed_by: str
    filed_at: datetime


class StudentJournal(Audited):
    """One student's journal in one academic year of one organisation."""

    @staticmethod
    def create_id(org_id: str, year_id: str, student_id: str) -> UUID:
        return journal_id(org_id, year_id, student_id)

    class Opened(Audited.Created):
        org_id: str
        year_id: str
        student_id: str

    def __init__(
        self, org_id: str, year_id: str, student_id: str, actor_id: str, actor_role: str
    ) -> None:
        self.org_id = org_id
        self.year_id = year_id
        self.student_id = student_id
        self.marks: dict[str, Mark] = {}
        self.absences: dict[str, Absence] = {}
        self.attestations: dict[str, Attestation] = {}
        self.notices: dict[str, AbsenceNotice] = {}
        # (parent id, when) of each "I have read the diary" (R-MON-3).
        self.acknowledgements: list[tuple[str, datetime]] = []

    @classmethod
    def open(
        cls, *, org_id: str, year_id: str, student_id: str, actor: Actor, at: datetime
    ) -> StudentJournal:
        return cls._create(
            cls.Opened,
            id=journal_id(org_id, year_id, student_id),
            timestamp=at,
            org_id=org_id,
            year_id=year_id,
            student_id=student_id,
            actor_id=actor.id,
            actor_role=actor.role,
        )

    # --- marks -------------------------------------------------------------------------

    class MarkRecorded(Audited.Event):
        """v2 added `reason`; v3 added `late` (a deputy's authorised late change, R-MARK-4)."""

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reason"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["late"] = False

        mark_id: str
        subject_id: str
        lesson_date: date
        lesson_no: int | None
        work_kind: str
        value: int
        weight: int
        comment: str | None
        reason: str | None
        late: bool

        def apply(self, journal: StudentJournal) -> None:
            journal.marks[self.mark_id] = Mark(
                mark_id=self.mark_id,
                subject_id=_s(self.subject_id),
                lesson_date=_day(self.lesson_date),
                lesson_no=self.lesson_no,
                work_kind=_s(self.work_kind),
                value=self.value,
                weight=self.weight,
                comment=self.comment,
                status=ACTIVE,
                recorded_by=_s(self.actor_id),
                recorded_at=self.timestamp,
                versions=[
                    MarkVersion(
                        self.value,
                        ACTIVE,
                        _s(self.actor_id),
                        _s(self.actor_role),
                        self.timestamp,
                        self.reason,
                        self.late,
                    )
                ],
            )

    class MarkCorrected(Audited.Event):
        """v2 added `late`."""

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["late"] = False

        mark_id: str
        value: int
        previous_value: int
        reason: str
        late: bool

        def apply(self, journal: StudentJournal) -> None:
            # Records are replaced, never changed in place: a copy handed out earlier
            # (an answer being written) never sees a later change.
            mark = journal.marks[self.mark_id]
            version = MarkVersion(
                self.value,
                mark.status,
                _s(self.actor_id),
                _s(self.actor_role),
                self.timestamp,
                self.reason,
                self.late,
            )
            journal.marks[self.mark_id] = _revised(mark, version, value=self.value)

    class MarkCancelled(Audited.Event):
        """v2 added `late`."""

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["late"] = False

        mark_id: str
        reason: str
        late: bool

        def apply(self, journal: StudentJournal) -> None:
            mark = journal.marks[self.mark_id]
            version = MarkVersion(
                mark.value,
                CANCELLED,
                _s(self.actor_id),
                _s(self.actor_role),
                self.timestamp,
                self.reason,
                self.late,
            )
            journal.marks[self.mark_id] = _revised(mark, version, status=CANCELLED)

    def record_mark(
        self,
        *,
        mark_id: str,
        subject_id: str,
        lesson_date: date,
        work_kind: str,
        value: int,
        rules: JournalRules,
        actor: Actor,
        at: datetime,
        lesson_no: int | None = None,
        comment: str | None = None,
        reason: str | None = None,
        late: bool = False,
    ) -> None:
        """Record a current mark (R-MARK-1); the weight is fixed now from the rules.

        `late` marks a deputy's authorised change past the deadline (R-MARK-4)."""
        if mark_id in self.marks:
            raise RuleViolation("Отметка с таким идентификатором уже есть", field="mark_id")
        if work_kind not in WORK_KINDS:
            raise RuleViolation(
                f"Неизвестный вид работы «{work_kind}»; допустимы: {', '.join(WORK_KINDS)}",
                field="work_kind",
            )
        _check_value(value, rules)
        self._record(
            self.MarkRecorded,
            actor,
            at,
            mark_id=mark_id,
            subject_id=subject_id,
            lesson_date=lesson_date,
            lesson_no=lesson_no,
            work_kind=work_kind,
            value=value,
            weight=rules.weight_of(work_kind),
            comment=comment or None,
            reason=(reason or "").strip() or None,
            late=late,
        )

    def correct_mark(
        self,
        *,
        mark_id: str,
        value: int,
        reason: str | None,
        rules: JournalRules,
        actor: Actor,
        at: datetime,
        late: bool = False,
    ) -> None:
        """Correct a mark: a new event with author, time and reason (R-MARK-3)."""
        mark = self.active_mark(mark_id)
        text = require_reason(reason)
        _check_value(value, rules)
        if value == mark.value:
            raise RuleViolation("Новая отметка совпадает с текущей", field="value")
        self._record(
            self.MarkCorrected,
            actor,
            at,
            mark_id=mark_id,
            value=value,
            previous_value=mark.value,
            reason=text,
            late=late,
        )

    def cancel_mark(
        self, *, mark_id: str, reason: str | None, actor: Actor, at: datetime, late: bool = False
    ) -> None:
        """Cancel a mark (it stays in the history, no longer counts)."""
        self.active_mark(mark_id)
        self._record(
            self.MarkCancelled,
            actor,
            at,
            mark_id=mark_id,
            reason=require_reason(reason),
            late=late,
        )

    def mark(self, mark_id: str) -> Mark:
        try:
            return self.marks[mark_id]
        except KeyError:
            raise RecordNotFound("Отметка не найдена") from None

    def active_mark(self, mark_id: str) -> Mark:
        mark = self.mark(mark_id)
        if mark.status == CANCELLED:
            raise AlreadyCancelled("Отметка аннулирована, изменить её нельзя")
        return mark

    # --- absences ----------------------------------------------------------------------

    class AbsenceRecorded(Audited.Event):
        """v2 added `late`."""

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["late"] = False

        absence_id: str
        subject_id: str
        lesson_date: date
        lesson_no: int | None
        code: str
        reason: str | None
        source: str
        late: bool

        def apply(self, journal: StudentJournal) -> None:
            journal.absences[self.absence_id] = Absence(
                absence_id=self.absence_id,
                subject_id=_s(self.subject_id),
                lesson_date=_day(self.lesson_date),
                lesson_no=self.lesson_no,
                code=_s(self.code),
                reason=self.reason,
                status=ACTIVE,
                source=_s(self.source),
                recorded_by=_s(self.actor_id),
                recorded_at=self.timestamp,
                history=[
                    AbsenceVersion(
                        "recorded",
                        _s(self.code),
                        self.reason,
                        ACTIVE,
                        _s(self.actor_id),
                        _s(self.actor_role),
                        self.timestamp,
                        self.late,
                    )
                ],
            )

    class AbsenceReasonSet(Audited.Event):
        absence_id: str
        code: str
        reason: str
        previous_code: str
        previous_reason: str | None

        def apply(self, journal: StudentJournal) -> None:
            absence = journal.absences[self.absence_id]
            version = AbsenceVersion(
                "reason_set",
                _s(self.code),
                self.reason,
                absence.status,
                _s(self.actor_id),
                _s(self.actor_role),
                self.timestamp,
            )
            journal.absences[self.absence_id] = replace(
                absence,
                code=_s(self.code),
                reason=self.reason,
                history=[*absence.history, version],
            )

    class AbsenceWithdrawn(Audited.Event):
        """The student was present after all: the whole absence, or one lesson of a notice day."""

        absence_id: str
        reason: str
        subject_id: str | None
        lesson_no: int | None
        late: bool

        def apply(self, journal: StudentJournal) -> None:
            absence = journal.absences[self.absence_id]
            if absence.subject_id is None and self.subject_id is not None:
                absence = replace(
                    absence, present_at=[*absence.present_at, (self.subject_id, self.lesson_no)]
                )
            else:
                absence = replace(absence, status=WITHDRAWN)
            version = AbsenceVersion(
                "withdrawn",
                absence.code,
                self.reason,
                absence.status,
                _s(self.actor_id),
                _s(self.actor_role),
                self.timestamp,
                self.late,
            )
            journal.absences[self.absence_id] = replace(
                absence, history=[*absence.history, version]
            )

    class AbsenceNoticeFiled(Audited.Event):
        """A parent's notice of a planned absence: every lesson of the covered days (R-ABS-3)."""

        notice_id: str
        from_date: date
        to_date: date
        reason: str

        def apply(self, journal: StudentJournal) -> None:
            journal.notices[self.notice_id] = AbsenceNotice(
                self.notice_id,
                self.from_date,
                self.to_date,
                self.reason,
                _s(self.actor_id),
                self.timestamp,
            )
            for day in notice_days(self.from_date, self.to_date):
                absence_id = notice_absence_id(self.notice_id, day)
                journal.absences[absence_id] = Absence(
                    absence_id=absence_id,
                    subject_id=None,
                    lesson_date=_day(day),
                    lesson_no=None,
                    code="НУ",
                    reason=self.reason,
                    status=ACTIVE,
                    source="parent_notice",
                    recorded_by=_s(self.actor_id),
                    recorded_at=self.timestamp,
                    history=[
                        AbsenceVersion(
                            "recorded",
                            "НУ",
                            self.reason,
                            ACTIVE,
                            _s(self.actor_id),
                            _s(self.actor_role),
                            self.timestamp,
                        )
                    ],
                )

    def record_absence(
        self,
        *,
        absence_id: str,
        subject_id: str,
        lesson_date: date,
        code: str,
        actor: Actor,
        at: datetime,
        lesson_no: int | None = None,
        reason: str | None = None,
        source: str = "teacher",
        late: bool = False,
    ) -> None:
        """Record that the student missed a lesson (R-ABS-1)."""
        if absence_id in self.absences:
            raise RuleViolation("Пропуск с таким идентификатором уже есть", field="absence_id")
        _check_code(code)
        if source not in ABSENCE_SOURCES or source == "parent_notice":
            raise RuleViolation("Неизвестный источник отметки о пропуске", field="source")
        self._record(
            self.AbsenceRecorded,
            actor,
            at,
            absence_id=absence_id,
            subject_id=subject_id,
            lesson_date=lesson_date,
            lesson_no=lesson_no,
            code=code,
            reason=(reason or "").strip() or None,
            source=source,
            late=late,
        )

    def set_absence_reason(
        self, *, absence_id: str, code: str, reason: str | None, actor: Actor, at: datetime
    ) -> None:
        """Give the reason of an absence, often later, and its code (R-ABS-2)."""
        absence = self.active_absence(absence_id)
        _check_code(code)
        text = require_reason(reason)
        if (code, text) == (absence.code, absence.reason):
            raise RuleViolation("Код и причина пропуска уже такие", field="code")
        self._record(
            self.AbsenceReasonSet,
            actor,
            at,
            absence_id=absence_id,
            code=code,
            reason=text,
            previous_code=absence.code,
            previous_reason=absence.reason,
        )

    def withdraw_absence(
        self,
        *,
        absence_id: str,
        reason: str | None,
        actor: Actor,
        at: datetime,
        subject_id: str | None = None,
        lesson_no: int | None = None,
        late: bool = False,
    ) -> None:
        """The student was in fact present (R-ABS-3).

        A notice covers whole days, so withdrawing it names the lesson (subject and number)
        the student attended; the notice stays for the day's other lessons."""
        absence = self.active_absence(absence_id)
        text = require_reason(reason)
        if absence.subject_id is None:
            if subject_id is None:
                raise RuleViolation(
                    "Уведомление родителя охватывает весь день: укажите предмет урока",
                    field="subject_id",
                )
            if (subject_id, lesson_no) in absence.present_at:
                raise AlreadyWithdrawn("Для этого урока уведомление уже снято")
        elif subject_id not in (None, absence.subject_id) or lesson_no not in (
            None,
            absence.lesson_no,
        ):
            raise RuleViolation("Пропуск относится к другому уроку", field="subject_id")
        else:
            subject_id, lesson_no = None, None
        self._record(
            self.AbsenceWithdrawn,
            actor,
            at,
            absence_id=absence_id,
            reason=text,
            subject_id=subject_id,
            lesson_no=lesson_no,
            late=late,
        )

    def file_absence_notice(
        self,
        *,
        notice_id: str,
        from_date: date,
        to_date: date,
        reason: str | None,
        today: date,
        actor: Actor,
        at: datetime,
    ) -> None:
        """A parent notifies a planned absence in advance: from today on (R-ABS-3)."""
        text = require_reason(reason)
        if notice_id in self.notices:
            raise RuleViolation("Уведомление с таким идентификатором уже есть", field="notice_id")
        if from_date < today:
            raise RuleViolation(
                "Уведомить можно только о будущем пропуске: с сегодняшнего дня", field="from_date"
            )
        if to_date < from_date:
            raise RuleViolation("Дата окончания раньше даты начала", field="to_date")
        if (to_date - from_date).days > 92:
            raise RuleViolation("Уведомление не может быть длиннее трёх месяцев", field="to_date")
        self._record(
            self.AbsenceNoticeFiled,
            actor,
            at,
            notice_id=notice_id,
            from_date=from_date,
            to_date=to_date,
            reason=text,
        )

    def absence(self, absence_id: str) -> Absence:
        try:
            return self.absences[absence_id]
        except KeyError:
            raise RecordNotFound("Пропуск не найден") from None

    def active_absence(self, absence_id: str) -> Absence:
        absence = self.absence(absence_id)
        if absence.status == WITHDRAWN:
            raise AlreadyWithdrawn("Пропуск снят, изменить его нельзя")
        return absence

    # --- intermediate attestation (R-ATT) ------------------------------------------------

    class AttestationRecorded(Audited.Event):
        attestation_id: str
        subject_id: str
        period_id: str
        result: str
        reason: str | None
        late: bool

        def apply(self, journal: StudentJournal) -> None:
            journal.attestations[self.attestation_id] = Attestation(
                self.attestation_id,
                _s(self.subject_id),
                self.period_id,
                self.result,
                _s(self.actor_id),
                self.timestamp,
                [
                    AttestationVersion(
                        self.result,
                        _s(self.actor_id),
                        _s(self.actor_role),
                        self.timestamp,
                        self.reason,
                        self.late,
                    )
                ],
            )

    class AttestationCorrected(Audited.Event):
        attestation_id: str
        result: str
        previous_result: str
        reason: str
        late: bool

        def apply(self, journal: StudentJournal) -> None:
            attestation = journal.attestations[self.attestation_id]
            version = AttestationVersion(
                self.result,
                _s(self.actor_id),
                _s(self.actor_role),
                self.timestamp,
                self.reason,
                self.late,
            )
            journal.attestations[self.attestation_id] = _revised(
                attestation, version, result=self.result
            )

    def record_attestation(
        self,
        *,
        attestation_id: str,
        subject_id: str,
        period_id: str,
        result: str,
        actor: Actor,
        at: datetime,
        reason: str | None = None,
        late: bool = False,
    ) -> None:
        """Record a period's result for a subject (R-ATT-1, R-ATT-2): one per subject and period."""
        _check_result(result)
        if attestation_id in self.attestations:
            raise RuleViolation(
                "Результат с таким идентификатором уже есть", field="attestation_id"
            )
        existing = self.attestation_for(subject_id, period_id)
        if existing is not None:
            raise RuleViolation(
                "Результат аттестации за этот период уже внесён; исправьте его",
                field="period_id",
            )
        self._record(
            self.AttestationRecorded,
            actor,
            at,
            attestation_id=attestation_id,
            subject_id=subject_id,
            period_id=period_id,
            result=result,
            reason=(reason or "").strip() or None,
            late=late,
        )

    def correct_attestation(
        self,
        *,
        attestation_id: str,
        result: str,
        reason: str | None,
        actor: Actor,
        at: datetime,
        late: bool = False,
    ) -> None:
        """Correct a result; a passing result after "а/з" clears the debt, keeping history."""
        attestation = self.attestation(attestation_id)
        text = require_reason(reason)
        _check_result(result)
        if result == attestation.result:
            raise RuleViolation("Новый результат совпадает с текущим", field="result")
        self._record(
            self.AttestationCorrected,
            actor,
            at,
            attestation_id=attestation_id,
            result=result,
            previous_result=attestation.result,
            reason=text,
            late=late,
        )

    def attestation(self, attestation_id: str) -> Attestation:
        try:
            return self.attestations[attestation_id]
        except KeyError:
            raise RecordNotFound("Результат аттестации не найден") from None

    def attestation_for(self, subject_id: str, period_id: str) -> Attestation | None:
        for attestation in self.attestations.values():
            if (attestation.subject_id, attestation.period_id) == (subject_id, period_id):
                return attestation
        return None

    # --- parents' diary acknowledgements (R-MON-3) ----------------------------------------

    class DiaryAcknowledged(Audited.Event):
        """A parent confirmed having read the child's diary."""

        def apply(self, journal: StudentJournal) -> None:
            journal.acknowledgements.append((_s(self.actor_id), self.timestamp))

    def acknowledge_diary(self, *, actor: Actor, at: datetime) -> None:
        self._record(self.DiaryAcknowledged, actor, at)


def debt_status(result: str, ever_in_debt: bool) -> Literal["open", "cleared"] | None:
    """An academic debt is cleared only by a passing result; until then it stays open."""
    if result in DEBT_RESULTS or (ever_in_debt and result not in PASSING_RESULTS):
        return "open"
    return "cleared" if ever_in_debt else None


def notice_days(from_date: date, to_date: date) -> list[date]:
    """School days a notice covers: every day but Sunday."""
    days = []
    day = from_date
    while day <= to_date:
        if day.weekday() != 6:
            days.append(day)
        day += timedelta(days=1)
    return days


def notice_absence_id(notice_id: str, day: date) -> str:
    return f"{notice_id}-{day.isoformat()}"


def _check_code(code: str) -> None:
    if code not in ABSENCE_CODES:
        raise RuleViolation(
            f"Неизвестный код пропуска «{code}»; допустимы: {', '.join(ABSENCE_CODES)}",
            field="code",
        )


def _check_result(result: str) -> None:
    if result in UNSATISFACTORY_RESULTS:
        raise UnsatisfactoryAttestation(
            "Неудовлетворительная отметка за аттестацию не ставится: при неуспеваемости "
            "вносится «а/з» (академическая задолженность)",
            field="result",
        )
    if result not in ATTESTATION_RESULTS:
        raise RuleViolation(
            f"Недопустимый результат «{result}»; допустимы: {', '.join(ATTESTATION_RESULTS)}",
            field="result",
        )


def _revised(record: Any, version: Any, **changes: Any) -> Any:
    """A new record with one more version: records are replaced, never changed in place."""
    return replace(record, versions=[*record.versions, version], **changes)


def check_mark_value(value: Any, rules: JournalRules) -> None:
    """A current mark's value on the organisation's scale, else InvalidMark."""
    _check_value(value, rules)


def _check_value(value: Any, rules: JournalRules) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidMark("Отметка должна быть целым числом", field="value")
    if not rules.lowest_mark <= value <= HIGHEST_MARK:
        raise InvalidMark(
            f"Отметка {value} вне шкалы организации ({rules.lowest_mark}–{HIGHEST_MARK})",
            field="value",
        )
