"""Who may do what to whose journal (R-ROLE, R-SEC-2). Pure: decisions from aggregates' state.

Write checks return the role the actor acts in, which the event records. Where a refusal
would tell a student or parent that a record exists, the answer is "not found".
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from domain.actors import Actor, Role
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
    substitute_lessons: Collection[tuple[str, int]] = (),
    lesson_no: int | None = None,
    allow_curator: bool = False,
) -> str:
    """The role in which `actor` may write this student's subject page on that date.

    `substitute_lessons` are the (group, lesson number) pairs of that subject and date where
    the actor substitutes: a substitute writes for those lessons only (R-LES-2)."""
    if actor.org_id != year.org_id or not year.ever_in_year(student_id):
        raise RecordNotFound("Обучающийся не найден в этом учебном году")
    groups = year.groups_of(student_id, lesson_date)
    if actor.has(Role.TEACHER):
        for group_id in groups:
            if year.is_assigned(actor.id, group_id, subject_id):
                _check_marks_enabled(year, group_id, is_mark)
                return Role.TEACHER.value
        for group_id, number in substitute_lessons:
            if group_id in groups and lesson_no in (None, number):
                _check_marks_enabled(year, group_id, is_mark)
                return Role.SUBSTITUTE.value
    if allow_curator and not is_mark and year.curates(actor.id, student_id, lesson_date):
        return Role.CURATOR.value
    if actor.has(Role.DEPUTY):
        if not groups:
            raise NotEnrolled("Обучающийся не состоит ни в одной группе на эту дату")
        for group_id in groups:
            _check_marks_enabled(year, group_id, is_mark)
        return Role.DEPUTY.value
    if actor.has(Role.TEACHER):
        if not any(t == actor.id and s == subject_id for t, _, s in year.assignments) and not (
            substitute_lessons
        ):
            raise Forbidden("Предмет не закреплён за вами ни в одной группе")
        raise NotEnrolled(
            "Обучающийся не состоит на дату урока в группе, где вы ведёте этот предмет"
        )
    raise Forbidden("Ваша роль не позволяет вносить записи в журнал")


def authorise_own_entry_change(role: str, actor: Actor, recorded_by: str) -> None:
    """A teacher corrects only their own earlier entries (000 §4.2); a deputy any."""
    if role != Role.DEPUTY and recorded_by != actor.id:
        raise Forbidden(
            "Исправлять можно только свои записи; исправление чужой записи организует "
            "заместитель директора"
        )


def authorise_absence_reason(
    actor: Actor, year: AcademicYear, student_id: str, subject_id: str | None, day: date
) -> str:
    """Who gives the reason of an absence (R-ABS-2): its teacher, the curator, a deputy."""
    if actor.org_id != year.org_id or not year.ever_in_year(student_id):
        raise RecordNotFound("Пропуск не найден")
    groups = year.groups_of(student_id, day)
    if actor.has(Role.TEACHER) and any(
        t == actor.id and g in groups and (subject_id is None or s == subject_id)
        for t, g, s in year.assignments
    ):
        return Role.TEACHER.value
    if year.curates(actor.id, student_id, day):
        return Role.CURATOR.value
    if actor.has(Role.DEPUTY):
        return Role.DEPUTY.value
    if actor.is_family():
        raise RecordNotFound("Пропуск не найден")
    raise Forbidden("Причину пропуска указывают преподаватель, куратор группы или заместитель")


def authorise_notice(actor: Actor, year: AcademicYear, student_id: str, children: list[str]) -> str:
    """Only a parent notifies, for their own child (R-ABS-3)."""
    if actor.org_id != year.org_id:
        raise RecordNotFound("Обучающийся не найден")
    if actor.has(Role.PARENT) and student_id in children:
        if not year.ever_in_year(student_id):
            raise RecordNotFound("Обучающийся не найден в этом учебном году")
        return Role.PARENT.value
    if actor.is_family():
        raise RecordNotFound("Обучающийся не найден")
    raise Forbidden("Уведомление о пропуске подаёт родитель (законный представитель)")


def authorise_lesson_write(
    actor: Actor,
    year: AcademicYear,
    group_id: str,
    subject_id: str,
    *,
    substitute_id: str | None = None,
) -> str:
    """Lessons are written by the group's teacher of the subject, its substitute or a deputy."""
    if actor.org_id != year.org_id or group_id not in year.groups:
        raise RecordNotFound("Группа не найдена")
    if actor.has(Role.TEACHER) and year.is_assigned(actor.id, group_id, subject_id):
        return Role.TEACHER.value
    if actor.has(Role.TEACHER) and substitute_id == actor.id:
        return Role.SUBSTITUTE.value
    if actor.has(Role.DEPUTY):
        return Role.DEPUTY.value
    raise Forbidden("Уроки этой группы по предмету ведёт другой преподаватель")


def authorise_substitution(actor: Actor, year: AcademicYear) -> str:
    """Substitutions are recorded by a deputy director (R-ROLE, 004 §3.6)."""
    if actor.org_id != year.org_id:
        raise RecordNotFound("Урок не найден")
    if actor.has(Role.DEPUTY):
        return Role.DEPUTY.value
    raise Forbidden("Замены записывает заместитель директора")


def may_read_group(
    actor: Actor, year: AcademicYear, group_id: str, subject_id: str | None, children: list[str]
) -> None:
    """Who may read a group's pages (lessons, topics, homework)."""
    if actor.org_id != year.org_id or group_id not in year.groups:
        raise RecordNotFound("Группа не найдена")
    if actor.is_administration():
        return
    if year.groups[group_id].curator_id == actor.id:
        return
    if actor.has(Role.TEACHER) and any(
        t == actor.id and g == group_id and (subject_id is None or s == subject_id)
        for t, g, s in year.assignments
    ):
        return
    members = {s for (g, s) in year.memberships if g == group_id}
    if (actor.has(Role.STUDENT) and actor.id in members) or members & set(children):
        return
    if actor.has(Role.ARCHIVIST) and year.closed_at is not None:
        return
    if actor.is_family():
        raise RecordNotFound("Группа не найдена")
    raise Forbidden("Нет доступа к страницам этой группы")


def authorise_year_close(actor: Actor, year: AcademicYear) -> str:
    if actor.org_id != year.org_id:
        raise RecordNotFound("Учебный год не найден")
    for role in (Role.DEPUTY, Role.ADMIN):
        if actor.has(role):
            return role.value
    raise Forbidden("Закрыть учебный год может заместитель директора или администратор")


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
    if student_id in children:  # own children, or delegated to a trusted person
        return ALL_SUBJECTS
    if actor.is_family():
        # A student or parent is never told that someone else's journal exists.
        raise RecordNotFound("Журнал не найден")
    if actor.is_administration():
        return ALL_SUBJECTS
    if actor.has(Role.ARCHIVIST) and year.closed_at is not None:
        return ALL_SUBJECTS  # archivists read closed years only
    student_groups = year.memberships_of(student_id)
    if any(year.groups[g].curator_id == actor.id for g in student_groups if g in year.groups):
        return ALL_SUBJECTS
    if actor.has(Role.TEACHER):
        subjects = frozenset(
            subj for t, g, subj in year.assignments if t == actor.id and g in student_groups
        )
        if subjects:
            return subjects
    raise Forbidden("Нет доступа к журналу этого обучающегося")


def may_read_group_reports(
    actor: Actor,
    year: AcademicYear,
    group_id: str,
    subject_id: str | None = None,
    *,
    staff_only: tuple[str, ...] = (),
) -> None:
    """Group-wide reports (gradebook, attendance, summary sheet, monitoring) are for staff:
    the deputy, director and administrator; the group's curator; the teachers of the group
    (of that subject, where one is named). `staff_only` narrows it to those roles."""
    if actor.org_id != year.org_id or group_id not in year.groups:
        raise RecordNotFound("Группа не найдена")
    if actor.is_administration():
        return
    if actor.has(Role.ARCHIVIST) and year.closed_at is not None:
        return
    curator = year.groups[group_id].curator_id == actor.id
    if curator and (not staff_only or Role.CURATOR in staff_only):
        return
    if (
        (not staff_only or Role.TEACHER in staff_only)
        and actor.has(Role.TEACHER)
        and any(
            t == actor.id and g == group_id and (subject_id is None or s == subject_id)
            for t, g, s in year.assignments
        )
    ):
        return
    raise Forbidden("Сводные данные группы доступны её преподавателям, куратору и администрации")
