"""Reports as tables with Russian headers, and their CSV and XLSX files: one rendering for the
API's `format=csv|xlsx` answers and for the year's archive."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from projections.attendance import Attendance
from projections.gradebook import Gradebook
from projections.summary_sheet import SummaryRow

CODES = ("Н", "НУ", "НН", "Б")


class Table:
    def __init__(self, title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.title = title
        self.headers = list(headers)
        self.rows = [list(r) for r in rows]


def lesson_cell(marks: list[dict[str, Any]], absences: list[dict[str, Any]], lesson: Any) -> str:
    """A gradebook cell as on paper: the lesson's marks, or «н» for an absence."""
    key = (lesson["lesson_date"], lesson["lesson_no"])
    values = [str(m["value"]) for m in marks if (m["lesson_date"], m["lesson_no"]) == key]
    if values:
        return " ".join(values)
    absent = any((a["lesson_date"], a.get("lesson_no")) == key for a in absences)
    return "н" if absent else ""


def gradebook_table(book: Gradebook, names: Mapping[str, str]) -> Table:
    headers = [
        "ФИО",
        *(f"{c['lesson_date']} №{c['lesson_no']}" for c in book.columns),
        "Все отметки",
        "Средний балл",
        "Средневзвешенный балл",
        "Пропуски",
        "Аттестация",
    ]
    rows = [
        [
            names.get(r.student_id) or r.student_id,
            *(lesson_cell(r.marks, r.absences, c) for c in book.columns),
            " ".join(str(m["value"]) for m in r.marks),
            r.average,
            r.weighted_average,
            len(r.absences),
            (r.attestation or {}).get("result"),
        ]
        for r in book.rows
    ]
    return Table("Журнал", headers, rows)


def attendance_table(report: Attendance, names: Mapping[str, str]) -> Table:
    headers = ["ФИО", "Пропущено уроков", *CODES, "По уведомлению родителей"]
    rows = [
        [
            names.get(r.student_id) or r.student_id,
            r.absent_lessons,
            *(r.by_code[c] for c in CODES),
            r.by_source["parent_notice"],
        ]
        for r in report.rows
    ]
    return Table("Посещаемость", headers, rows)


def summary_table(
    rows: Sequence[SummaryRow], subjects: Mapping[str, str], names: Mapping[str, str]
) -> Table:
    """`subjects`: subject id → its name, in column order."""
    headers = ["ФИО", *subjects.values()]
    body = [
        [names.get(r.student_id) or r.student_id, *(r.results.get(s) for s in subjects)]
        for r in rows
    ]
    return Table("Сводная ведомость", headers, body)


def csv_bytes(table: Table) -> bytes:
    """Semicolon-separated UTF-8 with a BOM, so spreadsheet programs read the Cyrillic."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([_csv_cell(h) for h in table.headers])
    writer.writerows([[_csv_cell(v) for v in row] for row in table.rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(table: Table) -> bytes:
    from openpyxl import Workbook  # on demand: most answers are JSON
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.title[:31]
    sheet.append(table.headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([_cell(v) for v in row])
    for cells in sheet.iter_rows():
        for cell in cells:
            if is_formula_like(cell.value):
                # Kept as typed, but as text: an inline string, never an <f> formula, with
                # Excel's quote prefix so that editing the cell does not turn it into one.
                cell.data_type = "s"
                cell.quotePrefix = True
    sheet.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# Characters that make a spreadsheet program read a text cell as a formula (OWASP "CSV
# Injection"): a student or subject named `=HYPERLINK(...)` must stay a name.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: Any) -> bool:
    """Only text can be neutralised: numbers (a negative one too) stay numbers."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would read as a formula, with a leading apostrophe (as
    OWASP recommends for CSV); anything else unchanged."""
    return "'" + value if is_formula_like(value) else value


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    return neutralise(float(value) if isinstance(value, Decimal) else value)


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, int | float | str):
        return value
    return float(value) if isinstance(value, Decimal) else str(value)
