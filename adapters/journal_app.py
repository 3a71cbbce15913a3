"""The service layer: one method per use case. Get aggregates, call a command, save.

Every method takes the acting `Actor`; time comes from the injected clock; "today" is the
organisation's day. The use cases live in `adapters/service/`, one module per subject.
"""

from __future__ import annotations

from adapters.service.absences import AbsenceUseCases
from adapters.service.attestations import AttestationUseCases, Debt
from adapters.service.class_journal import ClassJournalUseCases
from adapters.service.core import Conflict, Written, read_copy
from adapters.service.entries import EntryUseCases
from adapters.service.lessons import LessonUseCases
from adapters.service.people import PeopleUseCases
from adapters.service.reading import JournalView, ReadingUseCases
from adapters.service.reports import AuditUseCases, Report, ReportUseCases
from adapters.service.years import YearClosing, YearUseCases

__all__ = [
    "Conflict",
    "Debt",
    "EJournal",
    "JournalView",
    "Report",
    "Written",
    "YearClosing",
    "read_copy",
]


class EJournal(
    ClassJournalUseCases,
    EntryUseCases,
    AbsenceUseCases,
    AttestationUseCases,
    LessonUseCases,
    YearUseCases,
    ReadingUseCases,
    ReportUseCases,
    PeopleUseCases,
    AuditUseCases,
):
    """The ejournal application (the library's `Application`): all use cases."""
