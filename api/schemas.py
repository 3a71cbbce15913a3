"""Request and response bodies exactly as API.md names them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, cast

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from adapters.text import Ident, Reason, SaneDate, Text
from domain.journal import Absence, AbsenceNotice, Attestation, Mark
from domain.lessons import Lesson

WorkKind = Literal[
    "oral", "written", "test", "control", "lab", "practical", "homework", "monitoring"
]
AbsenceCode = Literal["Н", "НУ", "НН", "Б"]

# Descriptions shared by many fields (the OpenAPI shows them in Russian).
_ACTOR_ID = "Кто сделал изменение (идентификатор человека)"
_ACTOR_ROLE = "В какой роли действовал: teacher, curator, substitute, deputy и др."
_CODE = (
    "Код пропуска: Н — причина ещё не известна, НУ — по уважительной причине, "
    "НН — без уважительной причины, Б — по болезни"
)
_CODE_OUT = "Код пропуска: Н, НУ, НН или Б"
_COMMENT = "Комментарий к отметке, до 1000 символов"
_COMPLETE = "false: min_position не достигнута за 2 с, отчёт может не учитывать последние записи"
_FROM_DATE = "Начало периода (включительно)"
_FULL_NAME = "ФИО обучающегося; null — нет в справочнике персональных данных"
_GROUP_ID = "Идентификатор группы (класса)"
_LATE = "Изменение после срока, разрешённое заместителем директора"
_LESSON_DATE = "Дата урока (ГГГГ-ММ-ДД, по дню организации); урок не может быть в будущем"
_LESSON_DATE_OUT = "Дата урока"
_LESSON_NO = "Номер урока в дне (1–20); необязателен"
_LESSON_NO_OUT = "Номер урока в дне; null — не указан"
_OCCURRED = "Когда сделано изменение (момент со смещением)"
_PERIOD_ID = "Идентификатор учебного периода (четверть, триместр, полугодие)"
_POSITION = "Позиция записи в журнале событий (для min_position в отчётах)"
_POSITION_READ = "Позиция журнала событий, учтённая отчётом (для min_position)"
_REASON = "Причина изменения (1–1000 символов, хотя бы одна буква или цифра); попадает в аудит"
_REASON_OPT = (
    "Причина записи; обязательна для заместителя директора после срока (иначе 422), 1–1000 символов"
)
_REASON_OUT = "Причина, указанная при записи или изменении; null — не указана"
_RECORDED_AT = "Когда записано (момент со смещением)"
_RECORDED_BY = "Кто записал (идентификатор человека)"
_STUDENT_ID = "Идентификатор обучающегося"
_SUBJECT_ID = "Идентификатор предмета"
_TO_DATE = "Конец периода (включительно)"
_VALUE = "Отметка: целое число в шкале организации (от нижней границы правил года до 5)"
_YEAR_ID = "Идентификатор учебного года"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MarkIn(_In):
    student_id: Ident = Field(description=_STUDENT_ID)
    subject_id: Ident = Field(description=_SUBJECT_ID)
    lesson_date: SaneDate = Field(description=_LESSON_DATE)
    work_kind: WorkKind = Field(
        description="Вид работы: oral — устный ответ, written — письменная, test — тест, control "
        "— контрольная, lab — лабораторная, practical — практическая, homework — домашняя, "
        "monitoring — мониторинг; от вида зависит вес отметки"
    )
    value: int = Field(strict=True, description=_VALUE)
    lesson_no: int | None = Field(default=None, ge=1, le=20, description=_LESSON_NO)
    comment: Text | None = Field(default=None, max_length=1000, description=_COMMENT)
    reason: Reason | None = Field(default=None, description=_REASON_OPT)


class EntryMarkIn(_In):
    student_id: Ident = Field(description=_STUDENT_ID)
    value: int = Field(strict=True, description=_VALUE)
    work_kind: WorkKind | None = Field(
        default=None, description="Вид работы этой отметки; пусто — work_kind запроса"
    )
    comment: Text | None = Field(default=None, max_length=1000, description=_COMMENT)


class EntryAbsenceIn(_In):
    student_id: Ident = Field(description=_STUDENT_ID)
    code: AbsenceCode = Field(description=_CODE)
    reason: Reason | None = Field(default=None, description=_REASON_OPT)


class EntriesIn(_In):
    """A lesson's marks and absences, all recorded or none (up to 100 items)."""

    group_id: Ident = Field(description=_GROUP_ID)
    subject_id: Ident = Field(description=_SUBJECT_ID)
    lesson_date: SaneDate = Field(description=_LESSON_DATE)
    lesson_no: int | None = Field(default=None, ge=1, le=20, description=_LESSON_NO)
    work_kind: WorkKind | None = Field(default=None, description="Вид работы по умолчанию")
    marks: list[EntryMarkIn] = Field(
        default_factory=list,
        max_length=100,
        description="Отметки урока (до 100 вместе с пропусками)",
    )
    absences: list[EntryAbsenceIn] = Field(
        default_factory=list,
        max_length=100,
        description="Пропуски урока (до 100 вместе с отметками)",
    )

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
    value: int = Field(
        strict=True, description="Новое значение отметки (целое, в шкале организации)"
    )
    reason: Reason = Field(description=_REASON)


class ReasonIn(_In):
    reason: Reason = Field(description=_REASON)


class AbsenceIn(_In):
    student_id: Ident = Field(description=_STUDENT_ID)
    subject_id: Ident = Field(description=_SUBJECT_ID)
    lesson_date: SaneDate = Field(description=_LESSON_DATE)
    code: AbsenceCode = Field(description=_CODE)
    lesson_no: int | None = Field(default=None, ge=1, le=20, description=_LESSON_NO)
    reason: Reason | None = Field(default=None, description=_REASON_OPT)


class MarkOut(BaseModel):
    mark_id: str = Field(description="Идентификатор отметки")
    student_id: str = Field(description=_STUDENT_ID)
    subject_id: str = Field(description=_SUBJECT_ID)
    lesson_date: dt.date = Field(description=_LESSON_DATE_OUT)
    lesson_no: int | None = Field(description=_LESSON_NO_OUT)
    work_kind: str = Field(
        description="Вид работы (oral, written, test, control, lab, practical, homework, "
        "monitoring)"
    )
    value: int = Field(description="Отметка (последняя версия)")
    status: Literal["active", "cancelled"] = Field(
        description="active — действует, cancelled — аннулирована"
    )
    weight: int = Field(
        description="Вес отметки для средневзвешенного, по виду работы из правил года"
    )
    recorded_by: str = Field(description=_RECORDED_BY)
    recorded_at: dt.datetime = Field(description=_RECORDED_AT)
    corrected: bool = Field(
        description="Отметку исправляли (история — GET /marks/{mark_id}/history)"
    )
    comment: str | None = Field(default=None, description="Комментарий; null — нет")
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
    subject_id: str = Field(description=_SUBJECT_ID)
    lesson_no: int | None = Field(description=_LESSON_NO_OUT)


class AbsenceOut(BaseModel):
    absence_id: str = Field(description="Идентификатор пропуска")
    student_id: str = Field(description=_STUDENT_ID)
    subject_id: str | None = Field(
        description="Предмет; null — уведомление родителя на все уроки дня"
    )
    lesson_date: dt.date = Field(description=_LESSON_DATE_OUT)
    lesson_no: int | None = Field(description=_LESSON_NO_OUT)
    code: str = Field(description=_CODE_OUT)
    reason: str | None = Field(description=_REASON_OUT)
    status: Literal["active", "withdrawn"] = Field(
        description="active — действует, withdrawn — снят"
    )
    source: Literal["teacher", "curator", "parent_notice"] = Field(
        description="Кто отметил: teacher — преподаватель, curator — куратор, parent_notice — "
        "уведомление родителя"
    )
    recorded_by: str = Field(description=_RECORDED_BY)
    recorded_at: dt.datetime = Field(description=_RECORDED_AT)
    present_at: list[LessonRef] = Field(
        default_factory=list, description="Уроки дня уведомления, где обучающийся был"
    )
    position: int | None = Field(default=None, description=_POSITION)

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
    attestation_id: str = Field(description="Идентификатор результата аттестации")
    student_id: str = Field(description=_STUDENT_ID)
    subject_id: str = Field(description=_SUBJECT_ID)
    period_id: str = Field(description=_PERIOD_ID)
    result: str = Field(description="Результат: 5, 4, 3, зачёт, а/з, н/а, НПА")
    debt: Literal["open", "cleared"] | None = Field(
        description="Академическая задолженность: open — не ликвидирована, cleared — ликвидирована"
    )
    recorded_by: str = Field(description=_RECORDED_BY)
    recorded_at: dt.datetime = Field(description=_RECORDED_AT)
    corrected: bool = Field(description="Результат исправляли (история — …/history)")
    position: int | None = Field(default=None, description=_POSITION)

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
    student_id: str = Field(description=_STUDENT_ID)
    year_id: str = Field(description=_YEAR_ID)
    as_of: dt.datetime | None = Field(
        default=None, description="Момент, на который показан журнал; null — сейчас"
    )
    marks: list[MarkOut] = Field(description="Текущие отметки, включая аннулированные")
    absences: list[AbsenceOut] = Field(description="Пропуски, включая снятые")
    attestations: list[AttestationOut] = Field(
        default_factory=list, description="Результаты промежуточной аттестации"
    )


class MarkVersionOut(BaseModel):
    value: int = Field(description="Отметка в этой версии")
    status: str = Field(description="active или cancelled в этой версии")
    actor_id: str = Field(description=_ACTOR_ID)
    actor_role: str = Field(description=_ACTOR_ROLE)
    occurred_at: dt.datetime = Field(description=_OCCURRED)
    reason: str | None = Field(description="Причина изменения; null у первой записи")
    late: bool = Field(description="Изменение после срока, разрешённое заместителем директора")


class MarkHistoryOut(BaseModel):
    mark_id: str = Field(description="Идентификатор отметки")
    versions: list[MarkVersionOut] = Field(
        description="Все версии отметки, от первой записи к последней"
    )


class TokenOut(BaseModel):
    access_token: str = Field(
        description="Токен доступа (JWT): передавайте в заголовке Authorization: Bearer"
    )
    token_type: Literal["bearer"] = Field(default="bearer", description="Тип токена: всегда bearer")
    expires_in: int = Field(description="Через сколько секунд токен перестанет действовать")


class ImportOut(BaseModel):
    organization_id: str = Field(description="Идентификатор организации из документа")
    year_id: str = Field(description=_YEAR_ID)
    events: int = Field(description="Сколько событий записано (0 — ничего не изменилось)")
    position: int | None = Field(
        description="Позиция последнего записанного события; null — ничего не записано"
    )
    people: int = Field(description="Сколько людей в документе")


class Problem(BaseModel):
    type: str = Field(description="URI вида ошибки (https://ejournal.local/problems/<code>)")
    title: str = Field(description="Заголовок ошибки на русском")
    status: int = Field(description="HTTP-статус ответа")
    detail: str = Field(description="Пояснение на русском: что не так и что сделать")
    code: str = Field(
        description="Постоянный код ошибки: validation-error, forbidden, not-found, year-closed, "
        "store-busy, payload-too-large и др."
    )
    errors: list[dict[str, object]] | None = Field(
        default=None,
        description="Ошибки по полям: [{field, message}], сообщение на русском; null — ошибка не "
        "про поля",
    )


class AbsenceReasonIn(_In):
    code: AbsenceCode = Field(description="Новый код пропуска: Н, НУ, НН или Б")
    reason: Reason = Field(description=_REASON)


class WithdrawalIn(_In):
    reason: Reason = Field(description=_REASON)
    subject_id: Ident | None = Field(
        default=None, description="Для уведомления родителя: предмет урока, где обучающийся был"
    )
    lesson_no: int | None = Field(
        default=None,
        ge=1,
        le=20,
        description="Для уведомления родителя: номер урока, где обучающийся был",
    )


class AbsenceVersionOut(BaseModel):
    action: Literal["recorded", "reason_set", "withdrawn"] = Field(
        description="Что сделано: recorded — отмечен, reason_set — указана причина, withdrawn — "
        "снят"
    )
    code: str = Field(description=_CODE_OUT)
    reason: str | None = Field(description=_REASON_OUT)
    status: str = Field(description="active или withdrawn после этого изменения")
    actor_id: str = Field(description=_ACTOR_ID)
    actor_role: str = Field(description=_ACTOR_ROLE)
    occurred_at: dt.datetime = Field(description=_OCCURRED)
    late: bool = Field(description=_LATE)


class AbsenceHistoryOut(BaseModel):
    absence_id: str = Field(description="Идентификатор пропуска")
    versions: list[AbsenceVersionOut] = Field(description="Все изменения пропуска по порядку")


class NoticeIn(_In):
    student_id: Ident = Field(
        description="Идентификатор своего ребёнка (или доверенного обучающегося)"
    )
    from_date: SaneDate = Field(description="Первый день отсутствия")
    to_date: SaneDate = Field(description="Последний день отсутствия (не раньше первого)")
    reason: Reason = Field(description="Причина отсутствия (1–1000 символов)")


class NoticeOut(BaseModel):
    notice_id: str = Field(description="Идентификатор уведомления")
    student_id: str = Field(description=_STUDENT_ID)
    from_date: dt.date = Field(description="Первый день отсутствия")
    to_date: dt.date = Field(description="Последний день отсутствия")
    reason: str = Field(description="Причина отсутствия")
    filed_by: str = Field(description="Кто подал (родитель или доверенное лицо)")
    filed_at: dt.datetime = Field(description="Когда подано")
    absence_ids: list[str] = Field(description="Пропуски НУ, созданные на дни уведомления")
    position: int = Field(description=_POSITION)

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
    student_id: Ident = Field(description=_STUDENT_ID)
    subject_id: Ident = Field(description=_SUBJECT_ID)
    period_id: Ident = Field(description=_PERIOD_ID)
    result: Text = Field(min_length=1, max_length=10, description=ATTESTATION_RESULT_DOC)
    reason: Reason | None = Field(default=None, description=_REASON_OPT)
    year_id: Ident | None = Field(default=None, description="Учебный год; по умолчанию текущий")


class AttestationCorrectionIn(_In):
    result: Text = Field(min_length=1, max_length=10, description=ATTESTATION_RESULT_DOC)
    reason: Reason = Field(description=_REASON)


class AttestationVersionOut(BaseModel):
    result: str = Field(description="Результат в этой версии")
    actor_id: str = Field(description=_ACTOR_ID)
    actor_role: str = Field(description=_ACTOR_ROLE)
    occurred_at: dt.datetime = Field(description=_OCCURRED)
    reason: str | None = Field(description="Причина изменения; null у первой записи")
    late: bool = Field(description=_LATE)


class AttestationHistoryOut(BaseModel):
    attestation_id: str = Field(description="Идентификатор результата аттестации")
    student_id: str = Field(description=_STUDENT_ID)
    versions: list[AttestationVersionOut] = Field(description="Все версии результата по порядку")


class DebtOut(BaseModel):
    student_id: str = Field(description=_STUDENT_ID)
    full_name: str | None = Field(description=_FULL_NAME)
    attestation_id: str = Field(description="Результат аттестации, давший задолженность")
    subject_id: str = Field(description=_SUBJECT_ID)
    period_id: str = Field(description=_PERIOD_ID)
    status: Literal["open", "cleared"] = Field(
        description="open — не ликвидирована, cleared — ликвидирована"
    )
    result: str = Field(description="Текущий результат аттестации")
    history: list[AttestationVersionOut] = Field(
        description="Версии результата: как задолженность возникла и ликвидировалась"
    )


class DebtsOut(BaseModel):
    year_id: str = Field(description=_YEAR_ID)
    group_id: str = Field(description=_GROUP_ID)
    items: list[DebtOut] = Field(description="Задолженности обучающихся группы")


class LessonIn(_In):
    group_id: Ident = Field(description=_GROUP_ID)
    subject_id: Ident = Field(description=_SUBJECT_ID)
    lesson_date: SaneDate = Field(description="Дата урока (ГГГГ-ММ-ДД)")
    lesson_no: int = Field(ge=1, le=20, description="Номер урока в дне (1–20)")
    topic: Text | None = Field(
        default=None, max_length=2000, description="Тема урока, до 2000 символов"
    )
    homework: Text | None = Field(
        default=None, max_length=4000, description="Домашнее задание, до 4000 символов"
    )
    substitute_teacher_id: Ident | None = Field(
        default=None, description="Замещающий преподаватель (назначает заместитель директора)"
    )
    reason: Reason | None = Field(default=None, description=_REASON_OPT)


class LessonChangeIn(_In):
    topic: Text | None = Field(
        default=None,
        max_length=2000,
        description="Новая тема урока, до 2000 символов; пусто — не менять",
    )
    homework: Text | None = Field(
        default=None,
        max_length=4000,
        description="Новое домашнее задание, до 4000 символов; пусто — не менять",
    )
    reason: Reason | None = Field(default=None, description=_REASON_OPT)


class SubstitutionIn(_In):
    teacher_id: Ident | None = Field(description="Кто замещает; null — отменить замену")
    reason: Reason = Field(description=_REASON)


class LessonOut(BaseModel):
    lesson_id: str = Field(description="Идентификатор урока")
    group_id: str = Field(description=_GROUP_ID)
    subject_id: str = Field(description=_SUBJECT_ID)
    lesson_date: dt.date = Field(description=_LESSON_DATE_OUT)
    lesson_no: int = Field(description="Номер урока в дне")
    topic: str | None = Field(description="Тема урока; null — не записана")
    homework: str | None = Field(description="Домашнее задание; null — не задано")
    substitute_teacher_id: str | None = Field(
        description="Замещающий преподаватель; null — замены нет"
    )
    status: Literal["active", "cancelled"] = Field(
        description="active — проводится, cancelled — отменён"
    )
    recorded_by: str = Field(description=_RECORDED_BY)
    recorded_at: dt.datetime = Field(description=_RECORDED_AT)
    position: int | None = Field(default=None, description=_POSITION)

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
    group_id: str = Field(description=_GROUP_ID)
    subject_id: str = Field(description=_SUBJECT_ID)
    lessons: list[LessonOut] = Field(description="Уроки по дате и номеру")


class YearCloseOut(BaseModel):
    year_id: str = Field(description=_YEAR_ID)
    closed_at: dt.datetime = Field(description="Когда год закрыт")
    closed_by: str = Field(description="Кто закрыл (идентификатор человека)")
    event_count: int = Field(description="Сколько событий записано в этом учебном году")
    position: int = Field(description="Позиция события закрытия в журнале событий")
    manifest: dict[str, Any] = Field(description="Подписанный манифест архива года")
    signature: str = Field(description="Подпись Ed25519 манифеста, base64")


class GradebookRowOut(BaseModel):
    student_id: str = Field(description=_STUDENT_ID)
    full_name: str | None = Field(description=_FULL_NAME)
    marks: list[dict[str, Any]] = Field(description="Отметки обучающегося по урокам периода")
    average: float | None = Field(description="Среднее арифметическое, 2 знака (half up)")
    weighted_average: float | None = Field(
        description="Средневзвешенное (веса по видам работ), 2 знака"
    )
    absences: list[dict[str, Any]] = Field(description="Пропуски обучающегося по урокам периода")
    attestation: dict[str, Any] | None = Field(
        description="Результат аттестации за период; null — нет"
    )


class GradebookOut(BaseModel):
    group_id: str = Field(description=_GROUP_ID)
    subject_id: str = Field(description=_SUBJECT_ID)
    period_id: str = Field(description=_PERIOD_ID)
    year_id: str = Field(description=_YEAR_ID)
    as_of: dt.datetime | None = Field(
        description="Момент, на который построен отчёт; null — сейчас"
    )
    position: int = Field(description="Позиция журнала событий, учтённая отчётом")
    complete: bool = Field(description="false: min_position не достигнута за 2 с")
    columns: list[dict[str, Any]] = Field(description="Уроки периода: даты и номера")
    rows: list[GradebookRowOut] = Field(description="Строки журнала: по одной на обучающегося")


class AttendanceRowOut(BaseModel):
    student_id: str = Field(description=_STUDENT_ID)
    full_name: str | None = Field(description=_FULL_NAME)
    absent_lessons: int = Field(description="Сколько уроков пропущено за период")
    by_code: dict[str, int] = Field(description="Пропущено уроков по кодам (Н, НУ, НН, Б)")
    by_source: dict[str, int] = Field(
        description="Пропущено уроков по источникам (teacher, curator, parent_notice)"
    )


class AttendanceOut(BaseModel):
    group_id: str = Field(description=_GROUP_ID)
    from_date: dt.date = Field(description=_FROM_DATE)
    to_date: dt.date = Field(description=_TO_DATE)
    position: int = Field(description=_POSITION_READ)
    complete: bool = Field(description=_COMPLETE)
    rows: list[AttendanceRowOut] = Field(description="Посещаемость: по строке на обучающегося")
    unexplained: list[dict[str, Any]] = Field(
        description="Пропуски с кодом «Н» (причина неизвестна) старше unexplained_days дней"
    )


class SummaryRowOut(BaseModel):
    student_id: str = Field(description=_STUDENT_ID)
    full_name: str | None = Field(description=_FULL_NAME)
    results: dict[str, str | None] = Field(description="Итоговая отметка по предмету")
    periods: dict[str, list[dict[str, Any]]] = Field(
        description="По периодам: результат, computed (среднее текущих), объяснение"
    )


class SummarySheetOut(BaseModel):
    year_id: str = Field(description=_YEAR_ID)
    group_id: str = Field(description=_GROUP_ID)
    position: int = Field(description=_POSITION_READ)
    complete: bool = Field(description=_COMPLETE)
    subjects: dict[str, str] = Field(
        description="Предметы группы в порядке списков (roster): идентификатор → название"
    )
    rows: list[SummaryRowOut] = Field(description="Итоговые отметки: по строке на обучающегося")


class MonitoringOut(BaseModel):
    group_id: str = Field(description=_GROUP_ID)
    from_date: dt.date = Field(description=_FROM_DATE)
    to_date: dt.date = Field(description=_TO_DATE)
    position: int = Field(description=_POSITION_READ)
    complete: bool = Field(description=_COMPLETE)
    teachers_assigned: int = Field(description="Сколько преподавателей назначено на группу")
    teachers_working: int = Field(description="Сколько из них вели журнал за период")
    teachers_working_share: float | None = Field(
        description="Доля ведущих журнал преподавателей (0–1); null — нет назначенных"
    )
    teachers_not_working: list[str] = Field(
        description="Преподаватели, не вносившие записей за период"
    )
    students: int = Field(description="Сколько обучающихся в группе")
    students_without_marks: int = Field(description="Обучающиеся без отметок за период")
    students_without_marks_share: float | None = Field(
        description="Доля обучающихся без отметок (0–1); null — нет обучающихся"
    )
    students_with_one_mark: int = Field(description="Обучающиеся с одной отметкой за период")
    students_with_one_mark_share: float | None = Field(
        description="Доля обучающихся с одной отметкой (0–1)"
    )
    lessons: int = Field(description="Сколько уроков записано за период")
    lessons_with_topic_share: float | None = Field(
        description="Доля уроков с темой (0–1); null — уроков нет"
    )
    lessons_with_homework_share: float | None = Field(
        description="Доля уроков с домашним заданием (0–1); null — уроков нет"
    )
    open_academic_debts: int = Field(
        description="Сколько академических задолженностей не ликвидировано"
    )
    parents: int = Field(description="Сколько родителей у обучающихся группы")
    parents_acknowledged: int = Field(description="Сколько родителей подтвердили просмотр дневника")
    parents_acknowledged_share: float | None = Field(
        description="Доля подтвердивших родителей (0–1); null — родителей нет"
    )


def json_answer(body: bytes, status: int = 200) -> Response:
    """An answer already serialised by its model (`model_dump_json`): FastAPI sends it as it
    is, without validating and serialising the model again (`response_model` still documents
    it)."""
    return Response(body, status_code=status, media_type="application/json")
