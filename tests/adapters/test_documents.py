"""What people print and open (issue 14): XLSX and CSV files of the reports, as a spreadsheet
program reads them, and the same bytes for the same close time."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import openpyxl
from openpyxl.cell.cell import MergedCell

from adapters.report_tables import (
    Marks,
    Table,
    csv_bytes,
    gradebook_table,
    journal_columns,
    lesson_cell,
    summary_table,
    table_caption,
    xlsx_bytes,
)
from projections.gradebook import Gradebook, GradebookRow
from projections.summary_sheet import SummaryRow

CLOSED_AT = datetime(2027, 6, 30, 17, 45, 12, tzinfo=timezone(timedelta(hours=5)))
CAPTION = table_caption("ГБПОУ «Техникум»", "ХТ-21", "Химия", "1 семестр")


def book() -> Gradebook:
    columns = [
        {"lesson_date": "2026-09-02", "lesson_no": 1, "topic": "Введение"},
        {"lesson_date": "2026-09-09", "lesson_no": 2, "topic": "Атомы"},
    ]
    marks = [
        {"lesson_date": "2026-09-02", "lesson_no": 1, "value": 5},
        {"lesson_date": "2026-09-02", "lesson_no": 1, "value": 4},
        {"lesson_date": "2026-09-09", "lesson_no": 2, "value": 3},
    ]
    absences = [{"lesson_date": "2026-09-09", "lesson_no": 2}]
    rows = [
        GradebookRow("s01", marks, [], {"result": "4"}, Decimal("4.00"), Decimal("4.20")),
        GradebookRow("s02", [], absences, {"result": "зачтено"}, None, None),
    ]
    return Gradebook(columns=columns, rows=rows)


NAMES = {"s01": "Алексеев Борис Викторович", "s02": "Ёлкина Жанна Зиновьевна"}


def gradebook_xlsx(at: datetime | None = CLOSED_AT) -> bytes:
    return xlsx_bytes(gradebook_table(book(), NAMES, caption=CAPTION), at=at)


def test_caption_names_organisation_group_subject_and_period() -> None:
    assert CAPTION == "ГБПОУ «Техникум» — группа ХТ-21 — Химия — 1 семестр"
    assert table_caption("Техникум", "ХТ-21") == "Техникум — группа ХТ-21"


def test_xlsx_has_a_title_row_a_frozen_header_and_borders() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(gradebook_xlsx())).active
    assert sheet is not None
    assert sheet["A1"].value == CAPTION
    assert sheet["A1"].font.bold
    assert any(str(r).startswith("A1:") for r in sheet.merged_cells.ranges)
    header = [c.value for c in sheet[2]]
    assert header[0] == "ФИО" and "02.09.2026 №1" in header
    assert all(c.font.bold for c in sheet[2] if c.value is not None)
    assert sheet.freeze_panes == "B3"
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if not isinstance(cell, MergedCell):
                assert cell.border.left.style == "thin", cell.coordinate
    # The names' column fits the longest name; no column is left at the default width.
    assert sheet.column_dimensions["A"].width >= len(NAMES["s02"])
    for column in range(1, sheet.max_column + 1):
        letter = openpyxl.utils.get_column_letter(column)
        assert sheet.column_dimensions[letter].width, letter


def test_xlsx_marks_and_averages_are_numbers_each_mark_in_its_own_cell() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(gradebook_xlsx())).active
    assert sheet is not None
    header = [c.value for c in sheet[2]]
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=3)}
    s01, s02 = rows[NAMES["s01"]], rows[NAMES["s02"]]
    first = header.index("02.09.2026 №1")
    second = header.index("09.09.2026 №2")
    # The first lesson had two marks: two cells under one (merged) header.
    assert second == first + 2
    assert sorted(c.value for c in s01[first : first + 2]) == [4, 5]
    assert s01[second].value == 3
    everything = header.index("Все отметки")
    assert [c.value for c in s01[everything : everything + 3]] == [5, 4, 3]
    for cell in [*s01[first : first + 2], s01[second], *s01[everything : everything + 3]]:
        assert cell.data_type == "n", cell.coordinate
    average = s01[header.index("Средний балл")]
    weighted = s01[header.index("Средневзвешенный балл")]
    assert (average.value, weighted.value) == (4, 4.2)
    assert average.data_type == weighted.data_type == "n"
    result = s01[header.index("Аттестация")]
    assert result.value == 4 and result.data_type == "n"
    # An absence and a pass/fail result stay text; an empty average stays empty.
    assert s02[second].value == "н"
    assert s02[header.index("Аттестация")].value == "зачтено"
    assert s02[header.index("Средний балл")].value is None


def test_xlsx_dates_are_dates() -> None:
    table = Table(
        "Журнал изменений",
        ["Когда", "День", "Кто"],
        [[datetime(2026, 9, 2, 10, 30, tzinfo=UTC), date(2026, 9, 2), "Петрова"]],
    )
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(table, at=CLOSED_AT))).active
    assert sheet is not None
    when, day, _ = sheet[2]
    assert when.data_type == day.data_type == "d"
    assert day.number_format == "DD.MM.YYYY"
    assert when.number_format == "DD.MM.YYYY HH:MM"
    assert when.value == datetime(2026, 9, 2, 10, 30)
    assert day.value == datetime(2026, 9, 2)
    # Without a caption the header is the first row (the audit export's layout).
    assert [c.value for c in sheet[1]] == ["Когда", "День", "Кто"]
    assert sheet.freeze_panes == "B2"


def test_summary_marks_are_numbers_and_pass_fail_text() -> None:
    rows = [SummaryRow("s01", {"chem": "5", "pe": "зачтено", "it": None})]
    subjects = {"chem": "Химия", "pe": "Физкультура", "it": "Информатика"}
    table = summary_table(rows, subjects, NAMES, caption="Техникум — группа ХТ-21")
    assert table.rows == [[NAMES["s01"], 5, "зачтено", None]]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(table))).active
    assert sheet is not None
    assert sheet["A1"].value == "Техникум — группа ХТ-21"
    assert [c.data_type for c in sheet[3]][:3] == ["s", "n", "s"]


def test_the_same_close_time_gives_the_same_xlsx() -> None:
    first = gradebook_xlsx()
    time.sleep(2.1)  # zip times have a two-second step
    assert gradebook_xlsx() == first
    assert gradebook_xlsx(CLOSED_AT + timedelta(days=1)) != first
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        assert {i.date_time for i in z.infolist()} == {(2027, 6, 30, 17, 45, 12)}
    props = openpyxl.load_workbook(io.BytesIO(first)).properties
    expected = CLOSED_AT.astimezone(UTC).replace(tzinfo=None)
    assert props.created == props.modified == expected
    assert props.creator == "ejournal"


def test_without_a_close_time_the_xlsx_is_dated_now() -> None:
    before = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    props = openpyxl.load_workbook(io.BytesIO(gradebook_xlsx(None))).properties
    assert props.modified is not None and props.modified >= before


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def test_csv_for_russian_excel_decimal_comma_and_dates() -> None:
    table = Table(
        "t",
        ["Дата", "Момент", "Балл", "Вес", "Целое", "Отметки"],
        [
            [
                date(2026, 9, 2),
                datetime(2026, 9, 2, 10, 30),
                Decimal("4.50"),
                4.67,
                Decimal("5.00"),
                Marks([5, 4]),
            ]
        ],
    )
    [header, row] = read_csv(csv_bytes(table))
    assert header[0] == "Дата"
    assert row == ["02.09.2026", "02.09.2026 10:30", "4,5", "4,67", "5", "5 4"]


def test_csv_gradebook_keeps_a_lessons_marks_together() -> None:
    [header, s01, s02] = read_csv(csv_bytes(gradebook_table(book(), NAMES)))
    lesson = header.index("02.09.2026 №1")
    assert s01[lesson] == "5 4"
    assert s01[header.index("Средневзвешенный балл")] == "4,2"
    assert s02[header.index("09.09.2026 №2")] == "н"


def test_lesson_cell_is_the_printed_text() -> None:
    [s01, _] = book().rows
    cell = lesson_cell(s01.marks, s01.absences, book().columns[0])
    assert cell == "5 4" and cell.split() == ["5", "4"]


def test_journal_columns_add_the_days_of_marks_and_absences_without_lessons() -> None:
    lesson = {"lesson_id": "l1", "lesson_date": "2026-09-03", "lesson_no": 2, "topic": "Тема"}
    row = GradebookRow(
        "s01",
        marks=[
            {"lesson_date": "2026-09-03", "lesson_no": 2, "value": 5},  # the lesson's
            {"lesson_date": "2026-09-10", "lesson_no": 1, "value": 4},
            {"lesson_date": "2026-09-01", "lesson_no": None, "value": 3},
        ],
        absences=[{"lesson_date": "2026-09-10", "lesson_no": 1, "code": "Н"}],
    )
    other = GradebookRow("s02", absences=[{"lesson_date": "2026-09-03", "lesson_no": 1}])
    columns = journal_columns(Gradebook([lesson], [row, other]))
    assert [(c["lesson_date"], c["lesson_no"]) for c in columns] == [
        ("2026-09-01", None),
        ("2026-09-03", 1),
        ("2026-09-03", 2),
        ("2026-09-10", 1),
    ]
    assert columns[2] is lesson
    assert [lesson_cell(row.marks, row.absences, c) for c in columns] == ["3", "", "5", "4"]
    assert journal_columns(Gradebook([lesson], [])) == [lesson]
