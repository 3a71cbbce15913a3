"""Rule errors. Each has a stable English code (API.md) and a Russian message for people."""

from __future__ import annotations


class RuleViolation(Exception):
    """A command broke a rule; nothing was recorded."""

    code = "validation-error"
    title = "Запрос не прошёл проверку"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidMark(RuleViolation):
    code = "invalid-mark"
    title = "Недопустимая отметка"


class AlreadyCancelled(RuleViolation):
    code = "already-cancelled"
    title = "Отметка уже аннулирована"


class AlreadyWithdrawn(RuleViolation):
    code = "already-withdrawn"
    title = "Пропуск уже снят"


class RecordNotFound(RuleViolation):
    code = "not-found"
    title = "Запись не найдена"


class Forbidden(RuleViolation):
    code = "forbidden"
    title = "Недостаточно прав"


class NotEnrolled(RuleViolation):
    code = "not-enrolled"
    title = "Обучающийся не состоит в группе"


class MarksDisabled(RuleViolation):
    code = "marks-disabled"
    title = "В группе отметки не выставляются"


class DeadlinePassed(RuleViolation):
    code = "deadline-passed"
    title = "Срок внесения истёк"


class YearClosed(RuleViolation):
    code = "year-closed"
    title = "Учебный год закрыт"


class UnsatisfactoryAttestation(RuleViolation):
    code = "unsatisfactory-attestation"
    title = "Неудовлетворительная отметка за аттестацию недопустима"


class OutsideAcademicYear(RuleViolation):
    code = "outside-academic-year"
    title = "Дата вне учебного года"


class LessonInFuture(RuleViolation):
    code = "lesson-in-future"
    title = "Дата урока ещё не наступила"


class PeriodNotStarted(RuleViolation):
    code = "period-not-started"
    title = "Период аттестации ещё не начался"
