"""Who may do what to whose journal (R-ROLE, R-SEC-2). Pure: decisions from aggregates' state.

Write checks return the role the actor acts in, which the event records. Where a refusal
would tell a student or parent that a record exists, the answer is "not found".
"""

from __future__ import annotations

from datetime import date

from domain.actors import STAFF_ROLES, Actor, Role
from domain.errors import Forbidden, MarksDisabled, NotEnrolled, RecordNotFound
from domain.reference import AcademicYear

ALL_SUBJECTS = None


def authorise_journal_write(
    actor: Actor,
    year: AcademicYear,
    student_id: str,
    subject_id: str,
    lesson_date: date,
    *,
    is_mark: bool,
) -> str:
    """The role in which `actor` may write this student's subject page on that date."""
    if actor.org_id != year.org_id or not year.ever_in_year(student_id):
        raise RecordNotFound("Обучающийся не найден в этом учебном году")
    groups = year.groups_of(student_id, lesson_date)
    if actor.has(Role.TEACHER):
        for group_id in groups:
            if year.is_assigned(actor.id, group_id, subject_id):
                _check_marks_enabled(year, group_id, is_mark)
                return Role.TEACHER.value
    if actor.has(Role.DEPUTY):
        if not groups:
            raise NotEnrolled("Обучающийся не состоит ни в одной группе на дату урока")
        for group_id in groups:
            _check_marks_enabled(year, group_id, is_mark)
        return Role.DEPUTY.value
    if actor.has(Role.TEACHER):
        if not any(t == actor.id and s == subject_id for t, _, s in year.assignments):
            raise Forbidden("Предмет не закреплён за вами ни в одной группе")
        raise NotEnrolled(
            "Обучающийся не состоит на дату урока в группе, где вы ведёте этот предмет"
        )
    raise Forbidden("Ваша роль не позволяет вносить записи в журнал")


def _check_marks_enabled(year: AcademicYear, group_id: str, is_mark: bool) -> None:
    info = year.groups.get(group_id)
    if is_mark and info is not None and not info.marks_enabled:
        raise MarksDisabled(f"В группе «{info.name}» отметки не выставляются")


def visible_subjects(
    actor: Actor, year: AcademicYear, student_id: str, children: list[str]
) -> frozenset[str] | None:
    """Subjects of this student's journal the actor may read (None: all of them)."""
    if actor.org_id != year.org_id:
        raise RecordNotFound("Журнал не найден")
    if actor.has(Role.STUDENT) and actor.id == student_id:
        return ALL_SUBJECTS
    if actor.has(Role.PARENT) and student_id in children:
        return ALL_SUBJECTS
    if not actor.roles & STAFF_ROLES and actor.role not in STAFF_ROLES:
        # A student or parent is never told that someone else's journal exists.
        raise RecordNotFound("Журнал не найден")
    if actor.has(Role.DEPUTY) or actor.has(Role.DIRECTOR) or actor.has(Role.ADMIN):
        return ALL_SUBJECTS
    student_groups = {g for (g, s) in year.memberships if s == student_id}
    if any(year.groups[g].curator_id == actor.id for g in student_groups if g in year.groups):
        return ALL_SUBJECTS
    if actor.has(Role.TEACHER):
        subjects = frozenset(
            subj for t, g, subj in year.assignments if t == actor.id and g in student_groups
        )
        if subjects:
            return subjects
    raise Forbidden("Нет доступа к журналу этого обучающегося")
