"""Use case: a lesson's marks and absences in one request, all or nothing (API.md 1.1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from adapters.service.absences import AbsenceUseCases
from domain.actors import Actor, Role
from domain.errors import RuleViolation
from domain.journal import Absence, Mark, StudentJournal, check_mark_value

MAX_ITEMS = 100


@dataclass(frozen=True)
class MarkEntry:
    student_id: str
    value: int
    work_kind: str
    comment: str | None = None


@dataclass(frozen=True)
class AbsenceEntry:
    student_id: str
    code: str
    reason: str | None = None


@dataclass
class EntriesWritten:
    marks: list[tuple[str, Mark]]
    absences: list[tuple[str, Absence]]
    position: int


class EntriesRefused(RuleViolation):
    """Some items broke a rule; each is named by its place in the request. Nothing recorded."""

    title = "Записи урока не приняты"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        codes = {e["code"] for e in errors}
        self.code = codes.pop() if len(codes) == 1 else "validation-error"
        super().__init__(
            f"Не принято записей: {len(errors)}; ничего не записано. "
            + "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        )
        self.errors = errors


class EntryUseCases(AbsenceUseCases):
    def record_entries(
        self,
        actor: Actor,
        *,
        group_id: str,
        subject_id: str,
        lesson_date: date,
        lesson_no: int | None,
        marks: list[MarkEntry],
        absences: list[AbsenceEntry],
    ) -> EntriesWritten:
        """Every item passes the rules of its single call; then all are saved in one
        transaction, or none (a failing item is reported by kind and index)."""
        year = self.year_of_date(actor.org_id, lesson_date)
        year.ensure_open()
        today = self.today(actor.org_id)
        errors: list[dict[str, Any]] = []
        plan: list[tuple[str, int, Any, Actor, bool]] = []
        items: list[tuple[str, int, Any]] = [("marks", i, m) for i, m in enumerate(marks)]
        items += [("absences", i, a) for i, a in enumerate(absences)]
        for kind, index, item in items:
            if kind == "marks":
                try:
                    check_mark_value(item.value, year.rules)
                except RuleViolation as e:
                    errors.append(_error(kind, index, e))
            try:
                if group_id not in year.groups_of(item.student_id, lesson_date):
                    raise RuleViolation(
                        f"Обучающийся {item.student_id} не в группе {group_id} на эту дату",
                        field="student_id",
                    )
                acting, late = self.authorise_entry(
                    actor,
                    year,
                    item.student_id,
                    subject_id,
                    lesson_date,
                    is_mark=kind == "marks",
                    lesson_no=lesson_no,
                    reason=None,
                    allow_curator=kind == "absences",
                    today=today,
                )
            except RuleViolation as e:
                errors.append(_error(kind, index, e))
                continue
            plan.append((kind, index, item, acting, late))
        if errors:
            raise EntriesRefused(errors)
        new_ids = {
            (kind, index): self.new_record_id(
                "mark" if kind == "marks" else "absence",
                actor.org_id,
                year.year_id,
                item.student_id,
            )
            for kind, index, item, *_ in plan
        }
        now = self.clock.now()

        def command(journals: dict[str, StudentJournal]) -> None:
            failed: list[dict[str, Any]] = []
            for kind, index, item, acting, late in plan:
                journal = journals[item.student_id]
                try:
                    if kind == "marks":
                        journal.record_mark(
                            mark_id=new_ids[kind, index],
                            subject_id=subject_id,
                            lesson_date=lesson_date,
                            work_kind=item.work_kind,
                            value=item.value,
                            rules=year.rules,
                            actor=acting,
                            at=now,
                            lesson_no=lesson_no,
                            comment=item.comment,
                            reason=None,
                            late=late,
                        )
                    else:
                        journal.record_absence(
                            absence_id=new_ids[kind, index],
                            subject_id=subject_id,
                            lesson_date=lesson_date,
                            code=item.code,
                            actor=acting,
                            at=now,
                            lesson_no=lesson_no,
                            reason=item.reason,
                            source="curator" if acting.role == Role.CURATOR else "teacher",
                            late=late,
                        )
                except RuleViolation as e:
                    failed.append(_error(kind, index, e))
            if failed:
                raise EntriesRefused(failed)

        students = [item.student_id for _, _, item, _, _ in plan]
        acting_first = plan[0][3] if plan else actor

        def answers(journals: dict[str, StudentJournal]) -> tuple[list[Any], list[Any]]:
            """The new records, taken right after the command (no copy of the journals)."""
            return (
                [
                    (item.student_id, journals[item.student_id].marks[new_ids[kind, index]])
                    for kind, index, item, _, _ in plan
                    if kind == "marks"
                ],
                [
                    (item.student_id, journals[item.student_id].absences[new_ids[kind, index]])
                    for kind, index, item, _, _ in plan
                    if kind == "absences"
                ],
            )

        (marks_written, absences_written), position = self.change_journals(
            actor.org_id, year.year_id, students, acting_first, command, answers
        )
        return EntriesWritten(
            marks=marks_written,
            absences=absences_written,
            position=position,
        )


def _error(kind: str, index: int, e: RuleViolation) -> dict[str, Any]:
    leaf = e.field or ("value" if kind == "marks" else "code")
    return {
        "loc": [kind, index, leaf],
        "field": f"{kind}.{index}.{leaf}",
        "code": e.code,
        "message": e.detail,
    }
