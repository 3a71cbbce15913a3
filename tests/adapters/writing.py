"""A teacher's mark through the application, for the write-path tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.actors import Actor

TEACHER = Actor("t1", "teacher", "sght", frozenset({"teacher"}))


def record(app: Any, student_id: str, value: int = 5) -> Any:
    """A mark for the student (math, oral, 2 September 2026) as teacher t1 records it."""
    return app.record_mark(
        TEACHER,
        student_id=student_id,
        subject_id="math",
        lesson_date=date(2026, 9, 2),
        work_kind="oral",
        value=value,
    )
