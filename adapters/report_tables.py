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
    return lesson_cells(marks, absences, [lesson])[0]


def lesson_cells(
    marks: list[dict[str, Any]], absences: list[dict[str, Any]], lessons: Sequence[Any]
) -> list[str]:
    """A student's cell for each lesson (`lesson_cell`), the marks and absences read once."""
    values: dict[tuple[Any, Any], list[Any]] = {}
    for m in marks:
        values.setdefault((m["lesson_date"], m["lesson_no"]), []).append(m["value"])
    absent = {(a["lesson_date"], a.get("lesson_no")) for a in absences}
    cells: list[str] = []
    for lesson in lessons:
        key = (lesson["lesson_date"], lesson["lesson_no"])
        found = values.get(key)
        cells.append(Marks(found) if found else "н" if key in absent else "")
    return cells


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
            *lesson_cells(r.marks, r.absences, columns),
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
    """The table as a workbook (XlsxWriter): a title row (`table.caption`), a bold frozen
    header, numbers as numbers, dates as dates, each of several marks in its own cell,
    borders and fitting column widths. `at` (the year's close time for the archive) is every
    date inside the file (document properties, zip entries): with the same `at` the bytes are
    the same."""
    import xlsxwriter  # imported on demand: a worker that never exports starts smaller

    moment = datetime.now(UTC) if at is None else at
    spans = [
        max([1, *(len(row[j].values) for row in table.rows if isinstance(row[j], Marks))])
        for j in range(len(table.headers))
    ]
    starts = [sum(spans[:j]) for j in range(len(spans))]
    total = sum(spans)
    utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    book.set_properties({"created": utc.replace(tzinfo=None), "author": "ejournal"})
    styles = _Styles(book)
    sheet = book.add_worksheet(table.title[:31])
    top = 0
    if table.caption:
        title = styles.of(table.caption, "title")
        if total > 1:
            sheet.merge_range(0, 0, 0, total - 1, table.caption, title)
        else:
            sheet.write_string(0, 0, table.caption, title)
        top = 1
    for j, text in enumerate(table.headers):
        style = styles.of(text, "header")
        if spans[j] > 1:
            sheet.merge_range(top, starts[j], top, starts[j] + spans[j] - 1, str(text), style)
        else:
            sheet.write_string(top, starts[j], str(text), style)
    sheet.freeze_panes(top + 1, 1)  # the names' column and the rows down to the header
    widths = [0.0] * total
    for r, row in enumerate(table.rows, start=top + 1):
        for column in range(total):
            sheet.write_blank(r, column, None, styles.cell)
        for j, value in enumerate(row):
            values = value.values if isinstance(value, Marks) else (value,)
            for k, item in enumerate(values):
                column = starts[j] + k
                styles.write(sheet, r, column, _cell(item))
                widths[column] = max(widths[column], _shown_width(item))
    for j, text in enumerate(table.headers):
        # The header wraps at spaces: its longest word (or a line of 24) must fit.
        longest = max((len(w) for w in str(text).split()), default=0)
        share = max(longest, min(len(str(text)), 24)) / spans[j]
        for column in range(starts[j], starts[j] + spans[j]):
            sheet.set_column(column, column, min(60.0, max(widths[column], share) + 2))
    book.close()
    # A closed year's close time in the organisation's zone, as the archive's own members.
    return _restamped(out.getvalue(), moment)


_BORDER: dict[str, Any] = {"border": 1}
_HEADER: dict[str, Any] = {
    **_BORDER,
    "bold": True,
    "bg_color": "#E6E6E6",
    "align": "center",
    "valign": "vcenter",
    "text_wrap": True,
}
_TITLE: dict[str, Any] = {"bold": True, "font_size": 12}


class _Styles:
    """A workbook's cell formats: the title, the header and a bordered cell, each also with
    Excel's quote prefix (text a spreadsheet would read as a formula stays text when edited);
    a bordered date, and date and time."""

    def __init__(self, book: Any) -> None:
        kinds: dict[str, dict[str, Any]] = {"title": _TITLE, "header": _HEADER, "cell": _BORDER}
        self.plain = {kind: book.add_format(spec) for kind, spec in kinds.items()}
        self.quoted = {
            kind: book.add_format({**spec, "quote_prefix": True}) for kind, spec in kinds.items()
        }
        self.cell = self.plain["cell"]
        self.date = book.add_format({**_BORDER, "num_format": DATE_FORMAT})
        self.datetime = book.add_format({**_BORDER, "num_format": DATETIME_FORMAT})

    def of(self, value: Any, kind: str) -> Any:
        return self.quoted[kind] if is_formula_like(value) else self.plain[kind]

    def write(self, sheet: Any, row: int, column: int, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, bool):
            sheet.write_boolean(row, column, value, self.cell)
        elif isinstance(value, int | float):
            sheet.write_number(row, column, value, self.cell)
        elif isinstance(value, datetime):
            sheet.write_datetime(row, column, value, self.datetime)
        elif isinstance(value, date):
            sheet.write_datetime(row, column, value, self.date)
        else:
            sheet.write_string(row, column, value, self.of(value, "cell"))


def _restamped(data: bytes, moment: datetime) -> bytes:
    """The workbook's zip with every entry dated `moment` as its wall clock reads (XlsxWriter
    dates them 1 January 1980)."""
    stamp = (
        max(1980, moment.year),
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
    )
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            info.create_system = 3
            target.writestr(info, source.read(entry))
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
