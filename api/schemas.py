"""Request and response bodies exactly as API.md names them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from domain.journal import Absence, Mark

WorkKind = Literal[
    "oral", "written", "test", "control", "lab", "practical", "homework", "monitoring"
]
AbsenceCode = Literal["Н", "НУ", "НН", "Б"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MarkIn(_In):
    student_id: str = Field(min_length=1)
    subject_id: str = Field(min_length=1)
    lesson_date: dt.date
    work_kind: WorkKind
    value: int = Field(strict=True)
    lesson_no: int | None = Field(default=None, ge=1, le=20)
    comment: str | None = Field(default=None, max_length=1000)
    reason: str | None = Field(default=None, max_length=1000)


class CorrectionIn(_In):
    value: int = Field(strict=True)
    reason: str = Field(min_length=1, max_length=1000)


class ReasonIn(_In):
    reason: str = Field(min_length=1, max_length=1000)


class AbsenceIn(_In):
    student_id: str = Field(min_length=1)
    subject_id: str = Field(min_length=1)
    lesson_date: dt.date
    code: AbsenceCode
    lesson_no: int | None = Field(default=None, ge=1, le=20)
    reason: str | None = Field(default=None, max_length=1000)


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


class AbsenceOut(BaseModel):
    absence_id: str
    student_id: str
    subject_id: str
    lesson_date: dt.date
    lesson_no: int | None
    code: str
    reason: str | None
    status: Literal["active", "withdrawn"]
    source: Literal["teacher", "curator", "parent_notice"]
    recorded_by: str
    recorded_at: dt.datetime
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
            position=position,
        )


class JournalOut(BaseModel):
    student_id: str
    year_id: str
    as_of: dt.datetime | None = None
    marks: list[MarkOut]
    absences: list[AbsenceOut]
    attestations: list[dict[str, object]] = Field(default_factory=list)


class MarkVersionOut(BaseModel):
    value: int
    status: str
    actor_id: str
    actor_role: str
    occurred_at: dt.datetime
    reason: str | None


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
