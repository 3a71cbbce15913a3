"""Reports as tables with Russian headers, and their CSV and XLSX files: one rendering for the
API's `format=csv|xlsx` answers and for the year's archive."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from projections.attendance import Attendance
from projections.gradebook import Gradebook
from projections.summary_sheet import SummaryRow

CODES = ("Н", "НУ", "НН", "Б")
DATE_FORMAT = "DD.MM.YYYY"
DATETIME_FORMAT = "DD.MM.YYYY HH:MM"


class Marks(str):
    """Several marks in one table cell: the text «5 4» (CSV, the console, the PDF), and in an
    XLSX each mark a number in its own cell."""

    values: tuple[int, ...]

    def __new__(cls, values: Sequence[Any]) -> Marks:
        marks = super().__new__(cls, " ".join(str(v) for v in values))
        marks.values = tuple(values)
        return marks


class Table:
    """`caption`, when given, is the XLSX's title row (organisation, group, subject, period);
    CSV files keep their header on the first line."""

    def __init__(
        self,
        title: str,
        headers: Sequence[str],
        rows: Sequence[Sequence[Any]],
        caption: str | None = None,
    ) -> None:
        self.title = title
        self.headers = list(headers)
        self.rows = [list(r) for r in rows]
        self.caption = caption


def table_caption(
    organisation: str | None,
    group: str | None,
    subject: str | None = None,
    period: str | None = None,
) -> str:
    """A table's title row: «Организация — группа ХТ-21 — Химия — 1 семестр»."""
    parts = [organisation, f"группа {group}" if group else None, subject, period]
    return " — ".join(p for p in parts if p)


def ru_date(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def lesson_cell(marks: list[dict[str, Any]], absences: list[dict[str, Any]], lesson: Any) -> str:
    """A gradebook cell as on paper: the lesson's marks, or «н» for an absence."""
    key = (lesson["lesson_date"], lesson["lesson_no"])
    values = [m["value"] for m in marks if (m["lesson_date"], m["lesson_no"]) == key]
    if values:
        return Marks(values)
    absent = any((a["lesson_date"], a.get("lesson_no")) == key for a in absences)
    return "н" if absent else ""


def lesson_header(lesson: Mapping[str, Any]) -> str:
    """«02.09.2026 №1»; «02.09.2026» for a day without a lesson number."""
    day = lesson["lesson_date"]
    shown = ru_date(date.fromisoformat(day)) if isinstance(day, str) else ru_date(day)
    return shown if lesson["lesson_no"] is None else f"{shown} №{lesson['lesson_no']}"


def journal_columns(book: Gradebook) -> list[dict[str, Any]]:
    """The journal's lesson columns: the recorded lessons, and a (date, lesson number) of every
    mark or absence that no lesson record has (marks recorded without a lesson), all by date
    and number."""
    columns = list(book.columns)
    known = {(c["lesson_date"], c["lesson_no"]) for c in columns}
    for row in book.rows:
        for entry in [*row.marks, *row.absences]:
            key = (entry["lesson_date"], entry.get("lesson_no"))
            if key not in known:
                known.add(key)
                columns.append({"lesson_date": key[0], "lesson_no": key[1]})
    if len(columns) == len(book.columns):
        return columns
    return sorted(
        columns,
        key=lambda c: (str(c["lesson_date"]), c["lesson_no"] is not None, c["lesson_no"] or 0),
    )


def gradebook_table(book: Gradebook, names: Mapping[str, str], caption: str | None = None) -> Table:
    """The gradebook page as a table: a column per lesson, also for the days of marks and
    absences that have no lesson record (`journal_columns`), as the printed journal."""
    columns = journal_columns(book)
    headers = [
        "ФИО",
        *(lesson_header(c) for c in columns),
        "Все отметки",
        "Средний балл",
        "Средневзвешенный балл",
        "Пропуски",
        "Аттестация",
    ]
    rows = [
        [
            names.get(r.student_id) or r.student_id,
            *(lesson_cell(r.marks, r.absences, c) for c in columns),
            Marks([m["value"] for m in r.marks]),
            r.average,
            r.weighted_average,
            len(r.absences),
            _number_or_text((r.attestation or {}).get("result")),
        ]
        for r in book.rows
    ]
    return Table("Журнал", headers, rows, caption)


def attendance_table(
    report: Attendance, names: Mapping[str, str], caption: str | None = None
) -> Table:
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
    return Table("Посещаемость", headers, rows, caption)


def summary_table(
    rows: Sequence[SummaryRow],
    subjects: Mapping[str, str],
    names: Mapping[str, str],
    caption: str | None = None,
) -> Table:
    """`subjects`: subject id → its name, in column order. A mark is a number, «зачтено» or
    «н/а» stay text."""
    headers = ["ФИО", *subjects.values()]
    body = [
        [
            names.get(r.student_id) or r.student_id,
            *(_number_or_text(r.results.get(s)) for s in subjects),
        ]
        for r in rows
    ]
    return Table("Сводная ведомость", headers, body, caption)


def _number_or_text(value: Any) -> Any:
    """A mark written as text («5») as the number it is; anything else unchanged."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return value


def csv_bytes(table: Table) -> bytes:
    """Semicolon-separated UTF-8 with a BOM, so spreadsheet programs read the Cyrillic; as
    Russian Excel reads them: decimals with a comma (4,5), dates as ДД.ММ.ГГГГ."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([_csv_cell(h) for h in table.headers])
    writer.writerows([[_csv_cell(v) for v in row] for row in table.rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(table: Table, *, at: datetime | None = None) -> bytes:
    """The table as a workbook: a title row (`table.caption`), a bold frozen header, numbers as
    numbers, dates as dates, each of several marks in its own cell, borders and fitting
    column widths. `at` (the year's close time for the archive) is every date inside the
    file (document properties, zip entries): with the same `at` the bytes are the same."""
    from openpyxl import Workbook  # on demand: most answers are JSON
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    moment = datetime.now(UTC) if at is None else at
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.title[:31]
    spans = [
        max([1, *(len(row[j].values) for row in table.rows if isinstance(row[j], Marks))])
        for j in range(len(table.headers))
    ]
    starts = [sum(spans[:j]) + 1 for j in range(len(spans))]
    total = sum(spans)
    header_row = 1
    if table.caption:
        sheet.cell(1, 1, table.caption).font = Font(bold=True, size=12)
        if total > 1:
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=total)
        header_row = 2
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    fill = PatternFill("solid", fgColor="E6E6E6")
    for j, text in enumerate(table.headers):
        sheet.cell(header_row, starts[j], text)
        if spans[j] > 1:
            sheet.merge_cells(
                start_row=header_row,
                start_column=starts[j],
                end_row=header_row,
                end_column=starts[j] + spans[j] - 1,
            )
    for column in range(1, total + 1):
        cell = sheet.cell(header_row, column)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.border = border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    widths = [0.0] * (total + 1)
    for i, row in enumerate(table.rows, start=header_row + 1):
        for j, value in enumerate(row):
            values = value.values if isinstance(value, Marks) else (value,)
            for k, item in enumerate(values):
                cell = sheet.cell(i, starts[j] + k, _cell(item))
                if isinstance(item, datetime):
                    cell.number_format = DATETIME_FORMAT
                elif isinstance(item, date):
                    cell.number_format = DATE_FORMAT
                widths[starts[j] + k] = max(widths[starts[j] + k], _shown_width(item))
        for column in range(1, total + 1):
            sheet.cell(i, column).border = border
    for j, text in enumerate(table.headers):
        # The header wraps at spaces: its longest word (or a line of 24) must fit.
        longest = max((len(w) for w in str(text).split()), default=0)
        share = max(longest, min(len(str(text)), 24)) / spans[j]
        for column in range(starts[j], starts[j] + spans[j]):
            wanted = max(widths[column], share)
            sheet.column_dimensions[get_column_letter(column)].width = min(60.0, wanted + 2)
    for cells in sheet.iter_rows():
        for cell in cells:
            if is_formula_like(cell.value):
                # Kept as typed, but as text: an inline string, never an <f> formula, with
                # Excel's quote prefix so that editing the cell does not turn it into one.
                cell.data_type = "s"
                cell.quotePrefix = True
    sheet.freeze_panes = f"B{header_row + 1}"
    book.properties.creator = "ejournal"
    utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    book.properties.created = book.properties.modified = utc.replace(tzinfo=None, microsecond=0)
    return _save_fixed(book, moment)


def _save_fixed(book: Any, moment: datetime) -> bytes:
    """The workbook's zip with every entry dated `moment` as its own clock reads (zip times
    have no zone; a closed year's close time in the organisation's zone, as the archive's
    own members); openpyxl's `save` would date the properties and the entries now."""
    from openpyxl.writer.excel import ExcelWriter

    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()
    stamp = (max(1980, moment.year), *moment.timetuple()[1:6])
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            info.create_system = 3
            target.writestr(info, source.read(entry.filename))
    return out.getvalue()


def _shown_width(value: Any) -> float:
    """About how many characters wide a value shows in a cell."""
    if value is None:
        return 0.0
    if isinstance(value, datetime):
        return 16.0
    if isinstance(value, date):
        return 10.0
    return float(min(60, len(str(value))))


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
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal | float):
        return _comma(value)
    if isinstance(value, datetime):
        return f"{value:%d.%m.%Y %H:%M}"
    if isinstance(value, date):
        return ru_date(value)
    if isinstance(value, Marks):
        return str(value)
    return neutralise(value)


def _comma(value: Decimal | float) -> str:
    """4.50 → «4,5»; 5.0 → «5»: as the number reads, with the comma Russian spreadsheet
    programs expect."""
    number = Decimal(str(value)) if isinstance(value, float) else value
    return format(number.normalize(), "f").replace(".", ",")


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        # Spreadsheets hold no time zone: the moment as it reads on the wall clock.
        return value.replace(tzinfo=None)
    if isinstance(value, bool | int | float | date):
        return value
    if isinstance(value, Marks):
        return str(value)
    if isinstance(value, str):
        return value
    return float(value) if isinstance(value, Decimal) else str(value)
