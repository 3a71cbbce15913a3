"""Request and response bodies exactly as API.md names them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from adapters.text import Ident, Reason, SaneDate, Text
from domain.journal import Absence, AbsenceNotice, Attestation, Mark
from domain.lessons import Lesson

WorkKind = Literal[
    "oral", "written", "test", "control", "lab", "practical", "homework", "monitoring"
]
AbsenceCode = Literal["Н", "НУ", "НН", "Б"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MarkIn(_In):
    student_id: Ident
    subject_id: Ident
    lesson_date: SaneDate
    work_kind: WorkKind
    value: int = Field(strict=True)
    lesson_no: int | None = Field(default=None, ge=1, le=20)
    comment: Text | None = Field(default=None, max_length=1000)
    reason: Reason | None = None


class EntryMarkIn(_In):
    student_id: Ident
    value: int = Field(strict=True)
    work_kind: WorkKind | None = None
    comment: Text | None = Field(default=None, max_length=1000)


class EntryAbsenceIn(_In):
    student_id: Ident
    code: AbsenceCode
    reason: Reason | None = None


class EntriesIn(_In):
    """A lesson's marks and absences, all recorded or none (up to 100 items)."""

    group_id: Ident
    subject_id: Ident
    lesson_date: SaneDate
    lesson_no: int | None = Field(default=None, ge=1, le=20)
    work_kind: WorkKind | None = Field(default=None, description="Вид работы по умолчанию")
    marks: list[EntryMarkIn] = Field(default_factory=list, max_length=100)
    absences: list[EntryAbsenceIn] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _sized(self) -> EntriesIn:
        if not self.marks and not self.absences:
            raise PydanticCustomError("entries_empty", "Нужна хотя бы одна отметка или пропуск")
        if len(self.marks) + len(self.absences) > 100:
            raise PydanticCustomError("entries_too_many", "Не больше 100 записей за один запрос")
        for i, mark in enumerate(self.marks):
            if mark.work_kind is None and self.work_kind is None:
                raise PydanticCustomError(
                    "entries_kind", "Отметка {i}: нужен вид работы (work_kind)", {"i": i}
                )
        return self


class CorrectionIn(_In):
    value: int = Field(strict=True)
    reason: Reason


class ReasonIn(_In):
    reason: Reason


class AbsenceIn(_In):
    student_id: Ident
    subject_id: Ident
    lesson_date: SaneDate
    code: AbsenceCode
    lesson_no: int | None = Field(default=None, ge=1, le=20)
    reason: Reason | None = None


class MarkOut(BaseModel):
    mark_id: str
    student_id: str
    subject_id: str
    lesson_date: dt.date
    lesson_no: int | None
    work_kind: str
    value: int
    status: Literal["active", "cancelled"]
    weight: int
    recorded_by: str
    recorded_at: dt.datetime
    corrected: bool
    comment: str | None = None
    position: int | None = Field(default=None, description="Позиция записи в журнале событий")

    @classmethod
    def of(cls, student_id: str, m: Mark, position: int | None = None) -> MarkOut:
        return cls(
            mark_id=m.mark_id,
            student_id=student_id,
            subject_id=m.subject_id,
            lesson_date=m.lesson_date,
            lesson_no=m.lesson_no,
            work_kind=m.work_kind,
            value=m.value,
            status=cast(Any, m.status),
            weight=m.weight,
            recorded_by=m.recorded_by,
            recorded_at=m.recorded_at,
            corrected=m.corrected,
            comment=m.comment,
            position=position,
        )


class LessonRef(BaseModel):
    subject_id: str
    lesson_no: int | None


class AbsenceOut(BaseModel):
    absence_id: str
    student_id: str
    subject_id: str | None = Field(
        description="Предмет; null — уведомление родителя на все уроки дня"
    )
    lesson_date: dt.date
    lesson_no: int | None
    code: str
    reason: str | None
    status: Literal["active", "withdrawn"]
    source: Literal["teacher", "curator", "parent_notice"]
    recorded_by: str
    recorded_at: dt.datetime
    present_at: list[LessonRef] = Field(
        default_factory=list, description="Уроки дня уведомления, где обучающийся был"
    )
    position: int | None = None

    @classmethod
    def of(cls, student_id: str, a: Absence, position: int | None = None) -> AbsenceOut:
        return cls(
            absence_id=a.absence_id,
            student_id=student_id,
            subject_id=a.subject_id,
            lesson_date=a.lesson_date,
            lesson_no=a.lesson_no,
            code=a.code,
            reason=a.reason,
            status=cast(Any, a.status),
            source=cast(Any, a.source),
            recorded_by=a.recorded_by,
            recorded_at=a.recorded_at,
            present_at=[LessonRef(subject_id=sub, lesson_no=no) for sub, no in a.present_at],
            position=position,
        )


ATTESTATION_RESULT_DOC = "Результат: 5, 4, 3, зачёт, а/з, н/а, НПА (2 и 1 недопустимы)"


class AttestationOut(BaseModel):
    attestation_id: str
    student_id: str
    subject_id: str
    period_id: str
    result: str
    debt: Literal["open", "cleared"] | None = Field(
        description="Академическая задолженность: open — не ликвидирована, cleared — ликвидирована"
    )
    recorded_by: str
    recorded_at: dt.datetime
    corrected: bool
    position: int | None = None

    @classmethod
    def of(cls, student_id: str, t: Attestation, position: int | None = None) -> AttestationOut:
        return cls(
            attestation_id=t.attestation_id,
            student_id=student_id,
            subject_id=t.subject_id,
            period_id=t.period_id,
            result=t.result,
            debt=cast(Any, t.debt),
            recorded_by=t.recorded_by,
            recorded_at=t.recorded_at,
            corrected=len(t.versions) > 1,
            position=position,
        )


class JournalOut(BaseModel):
    student_id: str
    year_id: str
    as_of: dt.datetime | None = None
    marks: list[MarkOut]
    absences: list[AbsenceOut]
    attestations: list[AttestationOut] = Field(default_factory=list)


class MarkVersionOut(BaseModel):
    value: int
    status: str
    actor_id: str
    actor_role: str
    occurred_at: dt.datetime
    reason: str | None
    late: bool = Field(description="Изменение после срока, разрешённое заместителем директора")


class MarkHistoryOut(BaseModel):
    mark_id: str
    versions: list[MarkVersionOut]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class ImportOut(BaseModel):
    organization_id: str
    year_id: str
    events: int = Field(description="Сколько событий записано (0 — ничего не изменилось)")
    position: int | None
    people: int


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, object]] | None = None


class AbsenceReasonIn(_In):
    code: AbsenceCode
    reason: Reason


class WithdrawalIn(_In):
    reason: Reason
    subject_id: Ident | None = Field(
        default=None, description="Для уведомления родителя: предмет урока, где обучающийся был"
    )
    lesson_no: int | None = Field(default=None, ge=1, le=20)


class AbsenceVersionOut(BaseModel):
    action: Literal["recorded", "reason_set", "withdrawn"]
    code: str
    reason: str | None
    status: str
    actor_id: str
    actor_role: str
    occurred_at: dt.datetime
    late: bool


class AbsenceHistoryOut(BaseModel):
    absence_id: str
    versions: list[AbsenceVersionOut]


class NoticeIn(_In):
    student_id: Ident
    from_date: SaneDate
    to_date: SaneDate
    reason: Reason


class NoticeOut(BaseModel):
    notice_id: str
    student_id: str
    from_date: dt.date
    to_date: dt.date
    reason: str
    filed_by: str
    filed_at: dt.datetime
    absence_ids: list[str] = Field(description="Пропуски НУ, созданные на дни уведомления")
    position: int

    @classmethod
    def of(
        cls, student_id: str, n: AbsenceNotice, absence_ids: list[str], position: int
    ) -> NoticeOut:
        return cls(
            notice_id=n.notice_id,
            student_id=student_id,
            from_date=n.from_date,
            to_date=n.to_date,
            reason=n.reason,
            filed_by=n.filed_by,
            filed_at=n.filed_at,
            absence_ids=absence_ids,
            position=position,
        )


class AttestationIn(_In):
    student_id: Ident
    subject_id: Ident
    period_id: Ident
    result: Text = Field(min_length=1, max_length=10, description=ATTESTATION_RESULT_DOC)
    reason: Reason | None = None
    year_id: Ident | None = Field(default=None, description="Учебный год; по умолчанию текущий")


class AttestationCorrectionIn(_In):
    result: Text = Field(min_length=1, max_length=10, description=ATTESTATION_RESULT_DOC)
    reason: Reason


class AttestationVersionOut(BaseModel):
    result: str
    actor_id: str
    actor_role: str
    occurred_at: dt.datetime
    reason: str | None
    late: bool


class AttestationHistoryOut(BaseModel):
    attestation_id: str
    student_id: str
    versions: list[AttestationVersionOut]


class DebtOut(BaseModel):
    student_id: str
    full_name: str | None
    attestation_id: str
    subject_id: str
    period_id: str
    status: Literal["open", "cleared"]
    result: str
    history: list[AttestationVersionOut]


class DebtsOut(BaseModel):
    year_id: str
    group_id: str
    items: list[DebtOut]


class LessonIn(_In):
    group_id: Ident
    subject_id: Ident
    lesson_date: SaneDate
    lesson_no: int = Field(ge=1, le=20)
    topic: Text | None = Field(default=None, max_length=2000)
    homework: Text | None = Field(default=None, max_length=4000)
    substitute_teacher_id: Ident | None = Field(
        default=None, description="Замещающий преподаватель (назначает заместитель директора)"
    )
    reason: Reason | None = None


class LessonChangeIn(_In):
    topic: Text | None = Field(default=None, max_length=2000)
    homework: Text | None = Field(default=None, max_length=4000)
    reason: Reason | None = None


class SubstitutionIn(_In):
    teacher_id: Ident | None = Field(description="Кто замещает; null — отменить замену")
    reason: Reason


class LessonOut(BaseModel):
    lesson_id: str
    group_id: str
    subject_id: str
    lesson_date: dt.date
    lesson_no: int
    topic: str | None
    homework: str | None
    substitute_teacher_id: str | None
    status: Literal["active", "cancelled"]
    recorded_by: str
    recorded_at: dt.datetime
    position: int | None = None

    @classmethod
    def of(
        cls, group_id: str, subject_id: str, les: Lesson, position: int | None = None
    ) -> LessonOut:
        return cls(
            lesson_id=les.lesson_id,
            group_id=group_id,
            subject_id=subject_id,
            lesson_date=les.lesson_date,
            lesson_no=les.lesson_no,
            topic=les.topic,
            homework=les.homework,
            substitute_teacher_id=les.substitute_id,
            status=cast(Any, les.status),
            recorded_by=les.recorded_by,
            recorded_at=les.recorded_at,
            position=position,
        )


class LessonsOut(BaseModel):
    group_id: str
    subject_id: str
    lessons: list[LessonOut]


class YearCloseOut(BaseModel):
    year_id: str
    closed_at: dt.datetime
    closed_by: str
    event_count: int = Field(description="Сколько событий записано в этом учебном году")
    position: int
    manifest: dict[str, Any] = Field(description="Подписанный манифест архива года")
    signature: str = Field(description="Подпись Ed25519 манифеста, base64")


class GradebookRowOut(BaseModel):
    student_id: str
    full_name: str | None
    marks: list[dict[str, Any]]
    average: float | None = Field(description="Среднее арифметическое, 2 знака (half up)")
    weighted_average: float | None
    absences: list[dict[str, Any]]
    attestation: dict[str, Any] | None


class GradebookOut(BaseModel):
    group_id: str
    subject_id: str
    period_id: str
    year_id: str
    as_of: dt.datetime | None
    position: int = Field(description="Позиция журнала событий, учтённая отчётом")
    complete: bool = Field(description="false: min_position не достигнута за 2 с")
    columns: list[dict[str, Any]] = Field(description="Уроки периода: даты и номера")
    rows: list[GradebookRowOut]


class AttendanceRowOut(BaseModel):
    student_id: str
    full_name: str | None
    absent_lessons: int
    by_code: dict[str, int]
    by_source: dict[str, int]


class AttendanceOut(BaseModel):
    group_id: str
    from_date: dt.date
    to_date: dt.date
    position: int
    complete: bool
    rows: list[AttendanceRowOut]
    unexplained: list[dict[str, Any]] = Field(
        description="Пропуски с кодом «Н» (причина неизвестна) старше unexplained_days дней"
    )


class SummaryRowOut(BaseModel):
    student_id: str
    full_name: str | None
    results: dict[str, str | None] = Field(description="Итоговая отметка по предмету")
    periods: dict[str, list[dict[str, Any]]] = Field(
        description="По периодам: результат, computed (среднее текущих), объяснение"
    )


class SummarySheetOut(BaseModel):
    year_id: str
    group_id: str
    position: int
    complete: bool
    subjects: dict[str, str]
    rows: list[SummaryRowOut]


class MonitoringOut(BaseModel):
    group_id: str
    from_date: dt.date
    to_date: dt.date
    position: int
    complete: bool
    teachers_assigned: int
    teachers_working: int
    teachers_working_share: float | None
    teachers_not_working: list[str]
    students: int
    students_without_marks: int
    students_without_marks_share: float | None
    students_with_one_mark: int
    students_with_one_mark_share: float | None
    lessons: int
    lessons_with_topic_share: float | None
    lessons_with_homework_share: float | None
    open_academic_debts: int
    parents: int
    parents_acknowledged: int
    parents_acknowledged_share: float | None
