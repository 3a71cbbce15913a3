"""An event stored in an older shape still loads after its class gained a field."""

from __future__ import annotations

import json
from datetime import date

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from api.bootstrap import Services
from domain.actors import Actor
from domain.ids import journal_id
from domain.journal import StudentJournal

TEACHER = Actor("t1", "teacher", "sght")


def test_mark_recorded_v1_loads_through_every_upcaster(services: Services, clock) -> None:
    app = services.journal
    journal = StudentJournal.open(
        org_id="sght", year_id="2026-2027", student_id="s01", actor=TEACHER, at=clock.now()
    )
    app.save(journal)
    # The version-1 shape: no `reason`, no `class_version` key, as first stored.
    v1_state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": clock.now().isoformat()},
        "actor_id": "t1",
        "actor_role": "teacher",
        "mark_id": "m-old",
        "subject_id": "math",
        "lesson_date": {"_type_": "date_iso", "_data_": "2026-09-02"},
        "lesson_no": 2,
        "work_kind": "oral",
        "value": 4,
        "weight": 1,
        "comment": None,
    }
    app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=journal_id("sght", "2026-2027", "s01"),
                originator_version=2,
                topic=get_topic(StudentJournal.MarkRecorded),
                state=json.dumps(v1_state).encode(),
            )
        ]
    )
    # The class as it is now: v2 added `reason`, v3 added `late`.
    assert StudentJournal.MarkRecorded.class_version == 3
    events = list(app.events.get(journal.id))
    assert events[1].reason is None and events[1].late is False  # upcasts filled them
    loaded = app.repository.get(journal.id)
    mark = loaded.marks["m-old"]
    assert (mark.value, mark.lesson_date, mark.lesson_no) == (4, date(2026, 9, 2), 2)
    assert mark.versions[0].reason is None and mark.versions[0].late is False
