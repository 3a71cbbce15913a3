"""Audit trail (R-MARK-3, R-ARC): who changed what and when, with before/after and reason,
for journal entries, lessons and reference data alike. One row per event, newest first."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import orjson

from adapters.sql import Cursor, empty_table, insert_rows, uuid_text
from domain.journal import StudentJournal as J
from domain.lessons import SubjectPage as P
from domain.reference import AcademicYear as Y
from domain.reference import Organisation as Org
from domain.reference import Person
from projections.base import index_statements
from projections.facts import stamp

ACTIONS: dict[type[Any], str] = {
    J.MarkRecorded: "mark.recorded",
    J.MarkCorrected: "mark.corrected",
    J.MarkCancelled: "mark.cancelled",
    J.AbsenceRecorded: "absence.recorded",
    J.AbsenceReasonSet: "absence.reason_set",
    J.AbsenceWithdrawn: "absence.withdrawn",
    J.AbsenceNoticeFiled: "absence.notice_filed",
    J.AttestationRecorded: "attestation.recorded",
    J.AttestationCorrected: "attestation.corrected",
    J.DiaryAcknowledged: "diary.acknowledged",
    P.LessonRecorded: "lesson.recorded",
    P.LessonChanged: "lesson.changed",
    P.SubstituteAssigned: "lesson.substituted",
    P.LessonCancelled: "lesson.cancelled",
    Org.Registered: "organisation.registered",
    Org.Renamed: "organisation.renamed",
    Org.SubjectNamed: "subject.named",
    Org.SubjectsOrdered: "subject.order_changed",
    Org.YearAdded: "organisation.year_added",
    Org.TimezoneChanged: "organisation.timezone_changed",
    Y.Opened: "year.opened",
    Y.DatesChanged: "year.dates_changed",
    Y.PeriodsChanged: "year.periods_changed",
    Y.RulesChanged: "year.rules_changed",
    Y.GroupChanged: "group.changed",
    Y.MembershipChanged: "membership.changed",
    Y.TeacherAssigned: "assignment.added",
    Y.AssignmentWithdrawn: "assignment.withdrawn",
    Y.SubjectScheduleChanged: "schedule.changed",
    Y.Closed: "year.closed",
    Person.Registered: "person.registered",
    Person.RolesChanged: "person.roles_changed",
    Person.ChildrenChanged: "person.children_changed",
    Person.Deactivated: "person.deactivated",
    Person.Reactivated: "person.reactivated",
    Person.DelegationGranted: "delegation.granted",
    Person.DelegationRevoked: "delegation.revoked",
}
OPENED = (J.Opened, P.Opened)
# Events that create a record other events later change.
_FIRSTS = (J.MarkRecorded, J.AbsenceRecorded, J.AttestationRecorded, P.LessonRecorded)
_COLS = [
    "org_id",
    "position",
    "event_id",
    "occurred_at",
    "actor_id",
    "actor_role",
    "action",
    "year_id",
    "student_id",
    "group_id",
    "subject_id",
    "record_id",
    "before",
    "after",
    "reason",
]


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _json_text(value: Any) -> str | None:
    """A change's values as JSON text (orjson: this runs for every event of a rebuild)."""
    if value is None:
        return None
    try:
        return orjson.dumps(value, default=str).decode()
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits
        return json.dumps(value, ensure_ascii=False, default=str)


def _change(e: Any) -> tuple[Any, Any, Any]:
    """(before, after, record id) of an event, in plain JSON values."""
    if isinstance(e, J.MarkRecorded):
        return (
            None,
            {
                "value": e.value,
                "work_kind": e.work_kind,
                "weight": e.weight,
                "lesson_date": _plain(e.lesson_date),
                "late": e.late,
            },
            e.mark_id,
        )
    if isinstance(e, J.MarkCorrected):
        return {"value": e.previous_value}, {"value": e.value, "late": e.late}, e.mark_id
    if isinstance(e, J.MarkCancelled):
        return {"status": "active"}, {"status": "cancelled", "late": e.late}, e.mark_id
    if isinstance(e, J.AbsenceRecorded):
        return (
            None,
            {"code": e.code, "lesson_date": _plain(e.lesson_date), "source": e.source},
            e.absence_id,
        )
    if isinstance(e, J.AbsenceReasonSet):
        return (
            {"code": e.previous_code, "reason": e.previous_reason},
            {"code": e.code, "reason": e.reason},
            e.absence_id,
        )
    if isinstance(e, J.AbsenceWithdrawn):
        withdrawn: dict[str, Any] = (
            {"present_at": [e.subject_id, e.lesson_no]} if e.subject_id else {"status": "withdrawn"}
        )
        return {"status": "active"}, withdrawn, e.absence_id
    if isinstance(e, J.AbsenceNoticeFiled):
        return None, {"from_date": _plain(e.from_date), "to_date": _plain(e.to_date)}, e.notice_id
    if isinstance(e, J.AttestationRecorded):
        return None, {"result": e.result, "period_id": e.period_id}, e.attestation_id
    if isinstance(e, J.AttestationCorrected):
        return {"result": e.previous_result}, {"result": e.result}, e.attestation_id
    if isinstance(e, P.LessonRecorded):
        return (
            None,
            {
                "lesson_date": _plain(e.lesson_date),
                "lesson_no": e.lesson_no,
                "topic": e.topic,
                "homework": e.homework,
            },
            e.lesson_id,
        )
    if isinstance(e, P.SubstituteAssigned):
        return {"substitute_id": e.previous_id}, {"substitute_id": e.teacher_id}, e.lesson_id
    if isinstance(e, P.LessonCancelled):
        return {"status": "active"}, {"status": "cancelled"}, e.lesson_id
    if isinstance(e, Person.DelegationGranted):
        return (
            None,
            {
                "trustee_id": e.trustee_id,
                "children": e.children,
                "expires_at": _plain(e.expires_at),
            },
            e.delegation_id,
        )
    if isinstance(e, Person.DelegationRevoked):
        return None, {"revoked": True}, e.delegation_id
    if isinstance(e, Person.Deactivated):
        # As before v2 (`by_import` shows in the actor and the reason already).
        return None, {"reason": e.reason}, None
    if isinstance(e, Y.Closed):
        # The reason (v2; None when the year was over) goes to the `reason` column; the row
        # of a close stored before v2 stays as it was.
        return None, None, None
    before, after = getattr(e, "before", None), getattr(e, "after", None)
    record = (
        getattr(e, "lesson_id", None)
        or getattr(e, "subject_id", None)
        or getattr(e, "student_id", None)
        or getattr(e, "person", None)
        or getattr(e, "group_id", None)
        or getattr(e, "year_id", None)
    )
    if before is None and after is None:
        fields = {
            k: _plain(v)
            for k, v in vars(e).items()
            if k
            not in (
                "originator_id",
                "originator_version",
                "timestamp",
                "actor_id",
                "actor_role",
                "originator_topic",
            )
        }
        after = fields or None
    return before, after, record


class AuditTrail:
    name: str = "audit"
    handles: tuple[type[Any], ...] = (*OPENED, *ACTIONS)

    def __init__(self) -> None:
        self._streams: dict[str, dict[str, Any]] = {}
        self._subjects: dict[str, str | None] = {}
        self._new_records: list[list[Any]] = []

    def ddl(self) -> list[str]:
        return [
            """CREATE TABLE IF NOT EXISTS audit_streams (
                stream_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, year_id TEXT,
                student_id TEXT, group_id TEXT, subject_id TEXT)""",
            # Subject of each record, so later changes (which name only the record) carry it.
            """CREATE TABLE IF NOT EXISTS audit_records (
                record_id TEXT PRIMARY KEY, subject_id TEXT)""",
            """CREATE TABLE IF NOT EXISTS audit_trail (
                org_id TEXT NOT NULL, position BIGINT NOT NULL, event_id TEXT PRIMARY KEY,
                occurred_at TEXT NOT NULL, actor_id TEXT NOT NULL, actor_role TEXT NOT NULL,
                action TEXT NOT NULL, year_id TEXT, student_id TEXT, group_id TEXT,
                subject_id TEXT, record_id TEXT, before TEXT, after TEXT, reason TEXT)""",
            "CREATE INDEX IF NOT EXISTS audit_by_org ON audit_trail (org_id, position)",
        ]

    def tables(self) -> list[str]:
        return ["audit_streams", "audit_records", "audit_trail"]

    def secondary_indexes(self) -> dict[str, str]:
        return index_statements(self.ddl())

    def reset(self, cur: Cursor) -> None:
        self._streams.clear()
        self._subjects.clear()
        for table in self.tables():
            empty_table(cur, table)

    def _owner(self, cur: Cursor, event: Any) -> dict[str, Any]:
        stream = uuid_text(event.originator_id)
        found = self._streams.get(stream)
        if found is None:
            cur.execute(
                "SELECT org_id, year_id, student_id, group_id, subject_id "
                "FROM audit_streams WHERE stream_id = ?",
                (stream,),
            )
            row = cur.fetchone()
            keys = ("org_id", "year_id", "student_id", "group_id", "subject_id")
            found = dict(zip(keys, row, strict=True)) if row else {}
            self._streams[stream] = found
        return found

    def _subject(self, cur: Cursor, event: Any, record: Any, owner: dict[str, Any]) -> Any:
        """The subject of the record an event touches: named by a first event, else looked up."""
        named = getattr(event, "subject_id", None)
        if isinstance(event, _FIRSTS) and record is not None:
            self._subjects[str(record)] = named or owner.get("subject_id")
            self._new_records.append([str(record), self._subjects[str(record)]])
        if named is not None or record is None:
            return named or owner.get("subject_id")
        if str(record) not in self._subjects:
            cur.execute("SELECT subject_id FROM audit_records WHERE record_id = ?", (str(record),))
            row = cur.fetchone()
            self._subjects[str(record)] = row[0] if row else None
        return self._subjects[str(record)] or owner.get("subject_id")

    def apply_batch(self, cur: Cursor, events: list[tuple[Any, int]]) -> None:
        # Subjects of records are remembered for one batch only (written at its end); later
        # batches read them back, so memory stays bounded in a long-running server.
        self._subjects = {}
        self._new_records = []
        rows = []
        for event, position in events:
            stream = uuid_text(event.originator_id)
            if event.originator_version == 1:
                owner = {
                    "org_id": event.org_id,
                    "year_id": getattr(event, "year_id", None),
                    "student_id": getattr(event, "student_id", None),
                    "group_id": getattr(event, "group_id", None),
                    "subject_id": getattr(event, "subject_id", None),
                }
                self._streams[stream] = owner
                cur.execute(
                    "INSERT INTO audit_streams (stream_id, org_id, year_id, student_id, "
                    "group_id, subject_id) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        stream,
                        owner["org_id"],
                        owner["year_id"],
                        owner["student_id"],
                        owner["group_id"],
                        owner["subject_id"],
                    ),
                )
            action = ACTIONS.get(type(event))
            if action is None:
                continue
            owner = self._owner(cur, event)
            before, after, record = _change(event)
            rows.append(
                [
                    owner.get("org_id"),
                    position,
                    f"{stream}:{event.originator_version}",
                    stamp(event.timestamp),
                    event.actor_id,
                    event.actor_role,
                    action,
                    owner.get("year_id"),
                    owner.get("student_id") or getattr(event, "student_id", None),
                    owner.get("group_id") or getattr(event, "group_id", None),
                    self._subject(cur, event, record, owner),
                    record,
                    _json_text(before),
                    _json_text(after),
                    getattr(event, "reason", None),
                ]
            )
        insert_rows(cur, "audit_records", ["record_id", "subject_id"], self._new_records)
        insert_rows(cur, "audit_trail", _COLS, rows)

    def apply(self, cur: Cursor, event: Any, position: int) -> None:
        self.apply_batch(cur, [(event, position)])


def audit_items(
    cur: Cursor,
    *,
    org_id: str,
    student_id: str | None = None,
    group: tuple[str, list[str]] | None = None,
    actor_id: str | None = None,
    subject_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_position: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Rows newest first. `group` is (group id, its students): the group's pages and the
    journals of everyone who was in it."""
    where: list[str] = ["org_id = ?"]
    params: list[Any] = [org_id]
    if group is not None:
        group_id, students = group
        inside = ", ".join("?" for _ in students) or "NULL"
        where.append(f"(group_id = ? OR student_id IN ({inside}))")
        params += [group_id, *students]
    for column, value in (
        ("student_id", student_id),
        ("actor_id", actor_id),
        ("subject_id", subject_id),
        ("action", action),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if since is not None:
        where.append("occurred_at >= ?")
        params.append(stamp(since))
    if until is not None:
        where.append("occurred_at < ?")
        params.append(stamp(until))
    if before_position is not None:
        where.append("position < ?")
        params.append(before_position)
    cur.execute(
        f"SELECT event_id, occurred_at, actor_id, actor_role, action, student_id, subject_id, "
        f"record_id, before, after, reason, position, group_id FROM audit_trail "
        f"WHERE {' AND '.join(where)} ORDER BY position DESC, event_id DESC LIMIT ?",
        [*params, limit],
    )
    return [
        {
            "event_id": r[0],
            "occurred_at": r[1],
            "actor_id": r[2],
            "actor_role": r[3],
            "action": r[4],
            "student_id": r[5],
            "subject_id": r[6],
            "record_id": r[7],
            "before": json.loads(r[8]) if r[8] else None,
            "after": json.loads(r[9]) if r[9] else None,
            "reason": r[10],
            "position": int(r[11]),
            "group_id": r[12],
        }
        for r in cur.fetchall()
    ]
