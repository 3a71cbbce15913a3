"""Record ids that name their journal (domain/ids.py, issue 10): a new mark's or absence's id
finds its journal without the record locator, which stores no row for it; ids of the older
form are found through the locator as before; an id naming a journal that does not hold the
record is not found, before anything else is told."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from api.bootstrap import Services
from domain import ids
from domain.errors import RecordNotFound
from tests.adapters.test_projection_runner import locator_rows
from tests.adapters.writing import TEACHER, record

pytestmark = pytest.mark.usefixtures("imported")


def test_a_new_mark_and_absence_name_their_journal_and_need_no_locator_row(
    imported: Services,
) -> None:
    app = imported.journal
    mark = record(app, "s01")
    absence = app.record_absence(
        TEACHER, student_id="s02", subject_id="math", lesson_date=date(2026, 9, 1), code="Н"
    )
    mark_id, absence_id = mark.record.mark_id, absence.record.absence_id
    s01 = ids.journal_id("sght", "2026-2027", "s01")
    s02 = ids.journal_id("sght", "2026-2027", "s02")
    assert ids.journal_of_record(mark_id, "mark") == s01
    assert ids.journal_of_record(absence_id, "absence") == s02
    assert ids.journal_of_record(mark_id, "absence") is None  # another kind's id
    assert locator_rows(imported) == []
    assert app.located_journal(mark_id, "mark", TEACHER).marks[mark_id].value == 5
    assert app.mark_history(TEACHER, mark_id).mark_id == mark_id
    with pytest.raises(RecordNotFound):
        app.located_journal(mark_id, "absence", TEACHER)


def test_an_id_naming_a_journal_without_the_record_is_not_found(imported: Services) -> None:
    app = imported.journal
    record(app, "s01")
    made_up = ids.journal_record_id(
        "mark", ids.journal_id("sght", "2026-2027", "s01"), uuid.uuid4()
    )
    with pytest.raises(RecordNotFound):
        app.located_journal(made_up, "mark", TEACHER)
    nobody = ids.journal_record_id("mark", ids.journal_id("sght", "2026-2027", "s99"), uuid.uuid4())
    with pytest.raises(RecordNotFound):
        app.located_journal(nobody, "mark", TEACHER)


def test_ids_of_the_older_form_are_still_found_through_the_locator(
    imported: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = imported.journal
    monkeypatch.setattr(app, "new_record_id", lambda *_: str(uuid.uuid4()))
    old = record(app, "s03").record.mark_id
    assert ids.journal_of_record(old, "mark") is None
    assert [(r[0], r[1]) for r in locator_rows(imported)] == [(old, "mark")]
    assert app.located_journal(old, "mark", TEACHER).student_id == "s03"


@pytest.mark.parametrize(
    "text",
    ["", "m", "m" + "0" * 63, "m" + "0" * 65, "x" + "0" * 64, "m" + "G" * 64, "m" + "A" * 64],
)
def test_what_is_not_a_named_id_names_no_journal(text: str) -> None:
    assert ids.journal_of_record(text, "mark") is None
