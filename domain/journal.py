"""The student's journal for one academic year: marks and absences as immutable events.

Commands (`record_mark`, `correct_mark`, ...) check the rules and record an event; each
event's `apply` only assigns state, so replaying old events never re-runs today's rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.actors import Actor
from domain.base import Audited, require_reason
from domain.errors import (
    AlreadyCancelled,
    AlreadyWithdrawn,
    InvalidMark,
    RecordNotFound,
    RuleViolation,
)
from domain.ids import journal_id
from domain.rules import ABSENCE_CODES, ABSENCE_SOURCES, HIGHEST_MARK, WORK_KINDS, JournalRules

ACTIVE = "active"
CANCELLED = "cancelled"
WITHDRAWN = "withdrawn"


@dataclass
class MarkVersion:
    value: int
    status: str
    actor_id: str
    actor_role: str
    occurred_at: datetime
    reason: str | None


@dataclass
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


@dataclass
class Absence:
    absence_id: str
    subject_id: str
    lesson_date: date
    lesson_no: int | None
    code: str
    reason: str | None
    status: str
    source: str
    recorded_by: str
    recorded_at: datetime


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
        """Version 2 added `reason` (why a deputy records past the deadline, R-MARK-4)."""

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reason"] = None

        mark_id: str
        subject_id: str
        lesson_date: date
        lesson_no: int | None
        work_kind: str
        value: int
        weight: int
        comment: str | None
        reason: str | None

        def apply(self, journal: StudentJournal) -> None:
            journal.marks[self.mark_id] = Mark(
                mark_id=self.mark_id,
                subject_id=self.subject_id,
                lesson_date=self.lesson_date,
                lesson_no=self.lesson_no,
                work_kind=self.work_kind,
                value=self.value,
                weight=self.weight,
                comment=self.comment,
                status=ACTIVE,
                recorded_by=self.actor_id,
                recorded_at=self.timestamp,
                versions=[
                    MarkVersion(
                        self.value,
                        ACTIVE,
                        self.actor_id,
                        self.actor_role,
                        self.timestamp,
                        self.reason,
                    )
                ],
            )

    class MarkCorrected(Audited.Event):
        mark_id: str
        value: int
        previous_value: int
        reason: str

        def apply(self, journal: StudentJournal) -> None:
            mark = journal.marks[self.mark_id]
            mark.value = self.value
            mark.versions.append(
                MarkVersion(
                    self.value,
                    mark.status,
                    self.actor_id,
                    self.actor_role,
                    self.timestamp,
                    self.reason,
                )
            )

    class MarkCancelled(Audited.Event):
        mark_id: str
        reason: str

        def apply(self, journal: StudentJournal) -> None:
            mark = journal.marks[self.mark_id]
            mark.status = CANCELLED
            mark.versions.append(
                MarkVersion(
                    mark.value,
                    CANCELLED,
                    self.actor_id,
                    self.actor_role,
                    self.timestamp,
                    self.reason,
                )
            )

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
    ) -> None:
        """Record a current mark (R-MARK-1); the weight is fixed now from the rules."""
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
        )

    def cancel_mark(self, *, mark_id: str, reason: str | None, actor: Actor, at: datetime) -> None:
        """Cancel a mark (it stays in the history, no longer counts)."""
        self.active_mark(mark_id)
        self._record(self.MarkCancelled, actor, at, mark_id=mark_id, reason=require_reason(reason))

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
        absence_id: str
        subject_id: str
        lesson_date: date
        lesson_no: int | None
        code: str
        reason: str | None
        source: str

        def apply(self, journal: StudentJournal) -> None:
            journal.absences[self.absence_id] = Absence(
                absence_id=self.absence_id,
                subject_id=self.subject_id,
                lesson_date=self.lesson_date,
                lesson_no=self.lesson_no,
                code=self.code,
                reason=self.reason,
                status=ACTIVE,
                source=self.source,
                recorded_by=self.actor_id,
                recorded_at=self.timestamp,
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
    ) -> None:
        """Record that the student missed a lesson (R-ABS-1)."""
        if absence_id in self.absences:
            raise RuleViolation("Пропуск с таким идентификатором уже есть", field="absence_id")
        if code not in ABSENCE_CODES:
            raise RuleViolation(
                f"Неизвестный код пропуска «{code}»; допустимы: {', '.join(ABSENCE_CODES)}",
                field="code",
            )
        if source not in ABSENCE_SOURCES:
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

    def subjects_of_record(self, record_id: str) -> str:
        if record_id in self.marks:
            return self.marks[record_id].subject_id
        return self.absence(record_id).subject_id


def _check_value(value: Any, rules: JournalRules) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidMark("Отметка должна быть целым числом", field="value")
    if not rules.lowest_mark <= value <= HIGHEST_MARK:
        raise InvalidMark(
            f"Отметка {value} вне шкалы организации ({rules.lowest_mark}–{HIGHEST_MARK})",
            field="value",
        )
