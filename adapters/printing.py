"""Printable PDF documents of a closed school year: the group's summary sheet of final marks,
which is printed, signed by the director and sealed (R-ARC-4), and the group's journal for the
archive (roster, marks, lesson topics, attendance, final marks). Both are PDF/A-2b: the archive
keeps them for decades, so every font is embedded, colours are tied to an sRGB output intent and
the file is validated as written."""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeAlias
from xml.sax.saxutils import escape

import pikepdf
import pikepdf.pdfa
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.tables import CellStyle

__all__ = [
    "AttendanceLine",
    "GroupJournal",
    "Heading",
    "JournalPage",
    "JournalRow",
    "Result",
    "SubjectResults",
    "SummarySheet",
    "group_journal_pdf",
    "summary_sheet_pdf",
]


@dataclass(frozen=True)
class Heading:
    organisation: str
    year: str
    group: str
    closed_at: str
    curator: str | None = None
    director: str | None = None


@dataclass(frozen=True)
class Result:
    """A result on the summary sheet; `computed`: the rounded mean of the period's current
    marks, as there is no attestation result (printed with an asterisk, see the legend)."""

    value: str | None
    computed: bool = False


@dataclass(frozen=True)
class SubjectResults:
    """A student's results in a subject: one per attestation period, in order, and the year's."""

    periods: list[Result]
    year: Result


SheetEntry: TypeAlias = str | Result | SubjectResults | None

COMPUTED_MARK = "*"
COMPUTED_LEGEND = f"{COMPUTED_MARK} — среднее текущих отметок (нет аттестационной отметки)"
YEAR_LABEL = "Год"


@dataclass(frozen=True)
class SummarySheet:
    """`rows`: per student, an entry per subject. `periods`: per subject, its attestation
    periods' names: each subject then has a column per period and one for the year (R-ARC-1/2);
    without `periods`, one column per subject (its final result)."""

    heading: Heading
    subjects: list[str]
    rows: list[tuple[str, Sequence[SheetEntry]]]
    periods: list[list[str]] = field(default_factory=list)


@dataclass(frozen=True)
class JournalRow:
    student: str
    cells: list[str]
    average: str | None
    result: str | None


@dataclass(frozen=True)
class JournalPage:
    subject: str
    period: str
    teachers: list[str]
    columns: list[str]
    topics: list[str]
    rows: list[JournalRow]
    homework: list[str] = field(default_factory=list)  # per lesson, beside its topic

    def is_empty(self) -> bool:
        """No lessons and no marks, averages or results: nothing worth a page."""
        return not self.columns and not any(r.average or r.result for r in self.rows)


@dataclass(frozen=True)
class AttendanceLine:
    student: str
    absent_lessons: int
    by_code: dict[str, int]


@dataclass(frozen=True)
class GroupJournal:
    heading: Heading
    roster: list[tuple[str, str]]
    pages: list[JournalPage]
    attendance: list[AttendanceLine]
    summary: SummarySheet


FONT = "DejaVuSansCondensed"
FONT_BOLD = "DejaVuSansCondensed-Bold"
_FONT_DIR = Path(__file__).resolve().parent / "fonts"
_fonts_lock = threading.Lock()
_fonts_ready = False

PAGE_SIZE = landscape(A4)
_MARGIN = 12 * mm
_BOTTOM_MARGIN = 16 * mm
FRAME_WIDTH = PAGE_SIZE[0] - 2 * _MARGIN
_PAD = 2.0
_BODY_SIZE = 7.0
_MIN_SIZE = 4.5

LESSONS_PER_TABLE = 22
_NUMBER_W = 16.0
_NAME_W = 120.0
_AVERAGE_W = 30.0
_RESULT_W = 38.0
_LESSONS_ROOM = FRAME_WIDTH - _NUMBER_W - _NAME_W - _AVERAGE_W - _RESULT_W
_LESSON_MAX_W = 40.0
_SHEET_NAME_W = 150.0
_SUBJECT_MIN_W = 28.0
_SUBJECT_MAX_W = 70.0
_ATTENDANCE_CODES = ("Н", "НУ", "НН", "Б")


def _register_fonts() -> None:
    global _fonts_ready
    if _fonts_ready:
        return
    with _fonts_lock:
        if _fonts_ready:
            return
        pdfmetrics.registerFont(TTFont(FONT, str(_FONT_DIR / "DejaVuSansCondensed.ttf")))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(_FONT_DIR / "DejaVuSansCondensed-Bold.ttf")))
        pdfmetrics.registerFontFamily(
            FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
        )
        _fonts_ready = True


def _style(name: str, size: float, *, bold: bool = False, align: int = TA_LEFT) -> ParagraphStyle:
    return ParagraphStyle(
        name,
        fontName=FONT_BOLD if bold else FONT,
        fontSize=size,
        leading=size * 1.2,
        alignment=align,
        splitLongWords=1,
    )


_ORGANISATION = _style("organisation", 11, bold=True, align=TA_CENTER)
_TITLE = _style("title", 15, bold=True, align=TA_CENTER)
_SUBTITLE = _style("subtitle", 10, align=TA_CENTER)
_SECTION = _style("section", 12, bold=True)
_LINE = _style("line", 9)
_CAPTION = ParagraphStyle("caption", parent=_style("caption-base", 8, bold=True), keepWithNext=1)
_SIGNATURE = ParagraphStyle("signature", parent=_style("signature-base", 10), leading=22)
_CELL_LEFT = _style("cell-left", _BODY_SIZE)
_CELL_CENTRE = _style("cell-centre", _BODY_SIZE, align=TA_CENTER)
_HEADER_SIZE = 6.5

Cell: TypeAlias = str | Paragraph
_ALIGNED = ("LEFT", "CENTER", "CENTRE")


def _text_width(text: str, font: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(text, font, size))


def _sized(style: ParagraphStyle, size: float) -> ParagraphStyle:
    return ParagraphStyle(f"{style.name}-{size}", parent=style, fontSize=size, leading=size * 1.2)


def _fit(text: str | None, width: float, style: ParagraphStyle, *, shrink: bool) -> Cell:
    """Plain text if it fits the column, else a paragraph that shrinks (marks) or wraps (names)."""
    value = text or ""
    room = width - 2 * _PAD
    if _text_width(value, style.fontName, style.fontSize) <= room:
        return value
    if not shrink:
        return Paragraph(escape(value), style)
    size = style.fontSize
    while size > _MIN_SIZE and _text_width(value, style.fontName, size) > room:
        size -= 0.5
    return Paragraph(escape(value), _sized(style, size))


def _header(text: str, width: float) -> Paragraph:
    room = width - 2 * _PAD
    longest = max((_text_width(w, FONT_BOLD, _HEADER_SIZE) for w in text.split()), default=0.0)
    size = _HEADER_SIZE
    if longest > room:
        size = max(_MIN_SIZE, math.floor(_HEADER_SIZE * room / longest * 2) / 2)
    return Paragraph(escape(text), _style("header", size, bold=True, align=TA_CENTER))


class _Grid(Table):
    """A table whose one-line text cells are drawn together, in one text object after the
    table's own drawing, and whose empty cells draw nothing. reportlab draws each text cell as
    a text object of its own with its font set again (seven operators a cell, most of them a
    journal's marks, and an empty one for each blank cell); drawing them together takes two a
    cell, which is what both drawing and the PDF/A check of the written file spend their time
    on. The page looks the same: the text sits where reportlab would put it."""

    _texts: list[tuple[str, Any, tuple[float, float], tuple[float, float]]]

    def draw(self) -> None:
        self._texts = []
        super().draw()
        if self._texts:
            self._draw_texts()

    def _drawCell(self, cellval: Any, cellstyle: Any, pos: Any, size: Any) -> None:
        one_line = isinstance(cellval, str) and "\n" not in cellval
        if not (one_line and cellstyle.valign == "MIDDLE" and cellstyle.alignment in _ALIGNED):
            super()._drawCell(cellval, cellstyle, pos, size)
        elif cellval:
            self._texts.append((cellval, cellstyle, pos, size))

    def _draw_texts(self) -> None:
        """Each text where reportlab's `_drawCell` puts it: in the middle of the row, after
        the left padding or centred between the paddings."""
        canvas = self.canv
        text = canvas.beginText()
        font: tuple[Any, ...] = ()
        for value, style, (x, y), (width, height) in self._texts:
            if (style.fontname, style.fontsize, style.leading, style.color) != font:
                font = (style.fontname, style.fontsize, style.leading, style.color)
                text.setFont(style.fontname, style.fontsize, style.leading)
                text.setFillColor(style.color)
            if style.alignment == "LEFT":
                x += style.leftPadding
            else:
                shown = canvas.stringWidth(value, style.fontname, style.fontsize)
                x += (width + style.leftPadding - style.rightPadding - shown) / 2
            y += (style.bottomPadding + height - style.topPadding + style.leading) / 2
            text.setTextOrigin(x, y - style.fontsize)
            text.textOut(value)
        canvas.drawText(text)


def _cell_style(alignment: str) -> CellStyle:
    style = CellStyle(alignment)
    style.fontname, style.fontsize, style.leading = FONT, _BODY_SIZE, _BODY_SIZE * 1.2
    style.alignment, style.valign = alignment, "MIDDLE"
    style.leftPadding = style.rightPadding = _PAD
    style.topPadding, style.bottomPadding = 1, 2
    return style


def _grid(
    data: list[list[Any]],
    widths: Sequence[float],
    *,
    centred_from: int | None = None,
    header_rows: int = 1,
    numbered: bool = True,
) -> Table:
    """A ruled table with a grey header; the first column (`numbered`: the row numbers) and
    those from `centred_from` on centred, the others aligned left. The cells share two styles
    (reportlab would make one per cell and apply each style command to each cell)."""
    centre, left = _cell_style("CENTER"), _cell_style("LEFT")
    line = [
        centre
        if (numbered and j == 0) or (centred_from is not None and j >= centred_from)
        else left
        for j in range(len(widths))
    ]
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.Color(0.9, 0.9, 0.9)),
    ]
    return _Grid(
        data,
        colWidths=list(widths),
        repeatRows=header_rows,
        hAlign="LEFT",
        style=TableStyle(commands),
        cellStyles=[list(line) for _ in data],
    )


def _chunks(count: int, limit: int) -> list[range]:
    """Split ``range(count)`` into the fewest nearly equal parts of at most *limit* items."""
    parts = max(1, math.ceil(count / limit))
    size, extra = divmod(count, parts)
    result = []
    start = 0
    for index in range(parts):
        stop = start + size + (1 if index < extra else 0)
        result.append(range(start, stop))
        start = stop
    return result


def _range_caption(what: str, part: range, total: int) -> Paragraph:
    return Paragraph(f"{what} {part.start + 1}–{part.stop} из {total}", _CAPTION)


def _heading_block(heading: Heading, title: str) -> list[Flowable]:
    story: list[Flowable] = [
        Paragraph(escape(heading.organisation), _ORGANISATION),
        Spacer(1, 4 * mm),
        Paragraph(escape(title), _TITLE),
        Spacer(1, 2 * mm),
        Paragraph(f"Группа {escape(heading.group)}", _SUBTITLE),
        Paragraph(f"Учебный год {escape(heading.year)}", _SUBTITLE),
    ]
    if heading.curator:
        story.append(
            Paragraph(f"Классный руководитель (куратор): {escape(heading.curator)}", _SUBTITLE)
        )
    story.append(Spacer(1, 5 * mm))
    return story


def _subject_groups(sizes: Sequence[int], limit: int) -> list[range]:
    """Split subjects (each `sizes[i]` columns wide, never split) into the fewest tables of at
    most *limit* columns (a wider subject alone), as evenly as that allows."""

    def greedy(cap: int) -> list[range]:
        parts: list[range] = []
        start, used = 0, 0
        for index, size in enumerate(sizes):
            if index > start and used + size > cap:
                parts.append(range(start, index))
                start, used = index, 0
            used += size
        parts.append(range(start, len(sizes)))
        return parts

    fewest = greedy(limit)
    total = sum(sizes)
    for cap in range(max(1, math.ceil(total / len(fewest))), limit):
        even = greedy(cap)
        if len(even) == len(fewest):
            return even
    return fewest


def _shown(result: Result | str | None) -> str | None:
    if isinstance(result, Result):
        if result.computed and result.value:
            return f"{result.value}{COMPUTED_MARK}"
        return result.value
    return result


def _subject_cells(entry: SheetEntry, periods: int) -> list[Result | str | None]:
    """The subject's cells in a row: its periods' results, then the year's."""
    if isinstance(entry, SubjectResults):
        if len(entry.periods) != periods:
            raise ValueError(f"{len(entry.periods)} period results for {periods} periods")
        return [*entry.periods, entry.year]
    return [*([None] * periods), entry]


def _summary_tables(sheet: SummarySheet) -> list[Flowable]:
    for name, results in sheet.rows:
        if len(results) != len(sheet.subjects):
            raise ValueError(f"{name}: {len(results)} results for {len(sheet.subjects)} subjects")
    if sheet.periods and len(sheet.periods) != len(sheet.subjects):
        raise ValueError(f"{len(sheet.periods)} period lists for {len(sheet.subjects)} subjects")
    split = bool(sheet.periods)  # a column per period and the year's under each subject
    labels = [[*p, YEAR_LABEL] for p in sheet.periods] if split else [[""] for _ in sheet.subjects]
    cells = [
        [_subject_cells(entry, len(labels[i]) - 1) for i, entry in enumerate(results)]
        for _, results in sheet.rows
    ]
    room = FRAME_WIDTH - _NUMBER_W - _SHEET_NAME_W
    parts = _subject_groups([len(x) for x in labels], max(1, int(room // _SUBJECT_MIN_W)))
    story: list[Flowable] = []
    computed = False
    for part in parts:
        columns = sum(len(labels[i]) for i in part)
        width = min(_SUBJECT_MAX_W, room / columns) if columns else _SUBJECT_MAX_W
        # The names' column takes what the subjects leave: the table spans the page.
        name_w = FRAME_WIDTH - _NUMBER_W - width * columns
        widths = [_NUMBER_W, name_w] + [width] * columns
        top: list[Any] = [_header("№", _NUMBER_W), _header("ФИО обучающегося", name_w)]
        under: list[Any] = ["", ""]
        spans: list[tuple[Any, ...]] = []
        column = 2
        for i in part:
            count = len(labels[i])
            top += [_header(sheet.subjects[i], width * count)] + [""] * (count - 1)
            under += [_header(label, width) for label in labels[i]]
            if count > 1:
                spans.append(("SPAN", (column, 0), (column + count - 1, 0)))
            column += count
        data: list[list[Any]] = [top, under] if split else [top]
        for number, (name, _) in enumerate(sheet.rows, start=1):
            line: list[Any] = [str(number), _fit(name, name_w, _CELL_LEFT, shrink=False)]
            for i in part:
                for result in cells[number - 1][i]:
                    computed = computed or (
                        isinstance(result, Result) and result.computed and bool(result.value)
                    )
                    line.append(_fit(_shown(result), width, _CELL_CENTRE, shrink=True))
            data.append(line)
        if split:
            spans += [("SPAN", (0, 0), (0, 1)), ("SPAN", (1, 0), (1, 1))]
        if len(parts) > 1:
            story.append(_range_caption("Предметы", part, len(sheet.subjects)))
        table = _grid(data, widths, centred_from=2, header_rows=2 if split else 1)
        if spans:
            table.setStyle(TableStyle(spans))
        story.append(table)
        story.append(Spacer(1, 4 * mm))
    if computed:
        story.append(Paragraph(escape(COMPUTED_LEGEND), _LINE))
        story.append(Spacer(1, 2 * mm))
    return story


def _signature_block(heading: Heading) -> Flowable:
    blank = "____________________"
    curator = escape(heading.curator) if heading.curator else blank
    director = escape(heading.director) if heading.director else blank
    return KeepTogether(
        [
            Spacer(1, 6 * mm),
            Paragraph(f"Директор ____________________ / {director} /", _SIGNATURE),
            Paragraph(
                f"Классный руководитель (куратор) ____________________ / {curator} /",
                _SIGNATURE,
            ),
            Paragraph("М.П.", _SIGNATURE),
            Paragraph("Дата: ____________", _SIGNATURE),
        ]
    )


def _marks_tables(page: JournalPage) -> list[Flowable]:
    total = len(page.columns)
    for row in page.rows:
        if len(row.cells) != total:
            raise ValueError(
                f"{page.subject}, {row.student}: {len(row.cells)} cells for {total} lessons"
            )
    parts = _chunks(total, LESSONS_PER_TABLE)
    lesson_w = min(_LESSON_MAX_W, _LESSONS_ROOM / max(1, len(parts[0])))
    story: list[Flowable] = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        widths = [_NUMBER_W, _NAME_W] + [lesson_w] * len(part)
        header: list[Any] = [_header("№", _NUMBER_W), _header("ФИО", _NAME_W)]
        header += [_header(page.columns[i], lesson_w) for i in part]
        if last:
            widths += [_AVERAGE_W, _RESULT_W]
            header += [_header("Ср. балл", _AVERAGE_W), _header("Итог", _RESULT_W)]
        data: list[list[Any]] = [header]
        for number, row in enumerate(page.rows, start=1):
            line: list[Any] = [str(number), _fit(row.student, _NAME_W, _CELL_LEFT, shrink=False)]
            line += [_fit(row.cells[i], lesson_w, _CELL_CENTRE, shrink=True) for i in part]
            if last:
                line += [
                    _fit(row.average, _AVERAGE_W, _CELL_CENTRE, shrink=True),
                    _fit(row.result, _RESULT_W, _CELL_CENTRE, shrink=True),
                ]
            data.append(line)
        if len(parts) > 1:
            story.append(_range_caption("Уроки", part, total))
        story.append(_grid(data, widths, centred_from=2))
        story.append(Spacer(1, 3 * mm))
    return story


def _topics_table(page: JournalPage) -> Flowable:
    if page.homework:
        return _topics_with_homework(page)
    date_w = 44.0
    topic_w = FRAME_WIDTH / 2 - date_w
    widths = [date_w, topic_w, date_w, topic_w]
    data: list[list[Any]] = [
        [_header("Дата", date_w), _header("Тема урока", topic_w)] * 2,
    ]
    for start in range(0, len(page.columns), 2):
        line: list[Any] = []
        for i in (start, start + 1):
            if i < len(page.columns):
                line += [
                    _fit(page.columns[i], date_w, _CELL_LEFT, shrink=True),
                    _fit(page.topics[i], topic_w, _CELL_LEFT, shrink=False),
                ]
            else:
                line += ["", ""]
        data.append(line)
    return _grid(data, widths, numbered=False)


def _topics_with_homework(page: JournalPage) -> Flowable:
    """One lesson a line: its date, its topic and the homework set."""
    date_w = 56.0
    topic_w = (FRAME_WIDTH - date_w) * 0.55
    homework_w = FRAME_WIDTH - date_w - topic_w
    data: list[list[Any]] = [
        [
            _header("Дата", date_w),
            _header("Тема урока", topic_w),
            _header("Домашнее задание", homework_w),
        ]
    ]
    for i, column in enumerate(page.columns):
        data.append(
            [
                _fit(column, date_w, _CELL_LEFT, shrink=True),
                _fit(page.topics[i], topic_w, _CELL_LEFT, shrink=False),
                _fit(page.homework[i], homework_w, _CELL_LEFT, shrink=False),
            ]
        )
    return _grid(data, [date_w, topic_w, homework_w], numbered=False)


def _journal_section(page: JournalPage) -> list[Flowable]:
    if len(page.topics) != len(page.columns):
        raise ValueError(
            f"{page.subject}: {len(page.topics)} topics for {len(page.columns)} lessons"
        )
    if page.homework and len(page.homework) != len(page.columns):
        raise ValueError(
            f"{page.subject}: {len(page.homework)} homework for {len(page.columns)} lessons"
        )
    story: list[Flowable] = [
        PageBreak(),
        Paragraph(f"{escape(page.subject)} — {escape(page.period)}", _SECTION),
    ]
    if page.teachers:
        label = "Преподаватель" if len(page.teachers) == 1 else "Преподаватели"
        story.append(Paragraph(f"{label}: {escape(', '.join(page.teachers))}", _LINE))
    story.append(Spacer(1, 3 * mm))
    story += _marks_tables(page)
    if page.columns:
        caption = "Даты, темы уроков и домашние задания" if page.homework else "Даты и темы уроков"
        story.append(Paragraph(caption, _CAPTION))
        story.append(_topics_table(page))
    return story


def _roster_table(roster: Sequence[tuple[str, str]]) -> Flowable:
    name_w = 260.0
    period_w = 180.0
    data: list[list[Any]] = [
        [
            _header("№", _NUMBER_W),
            _header("ФИО обучающегося", name_w),
            _header("Период обучения в группе", period_w),
        ]
    ]
    for number, (name, membership) in enumerate(roster, start=1):
        data.append(
            [
                str(number),
                _fit(name, name_w, _CELL_LEFT, shrink=False),
                _fit(membership, period_w, _CELL_CENTRE, shrink=False),
            ]
        )
    return _grid(data, [_NUMBER_W, name_w, period_w], centred_from=2)


def _attendance_table(lines: Sequence[AttendanceLine]) -> Flowable:
    name_w = 220.0
    total_w = 70.0
    code_w = 40.0
    widths = [_NUMBER_W, name_w, total_w] + [code_w] * len(_ATTENDANCE_CODES)
    data: list[list[Any]] = [
        [
            _header("№", _NUMBER_W),
            _header("ФИО обучающегося", name_w),
            _header("Пропущено уроков", total_w),
        ]
        + [_header(code, code_w) for code in _ATTENDANCE_CODES]
    ]
    for number, line in enumerate(lines, start=1):
        counts = [line.by_code.get(code) for code in _ATTENDANCE_CODES]
        data.append(
            [str(number), _fit(line.student, name_w, _CELL_LEFT, shrink=False)]
            + [str(line.absent_lessons)]
            + ["" if count is None else str(count) for count in counts]
        )
    return _grid(data, widths, centred_from=2)


def _render(
    story: list[Flowable],
    *,
    title: str,
    subject: str,
    author: str,
    footer: str,
    at: datetime | None,
) -> bytes:
    def draw_footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        y = _BOTTOM_MARGIN / 2
        canvas.drawString(_MARGIN, y, footer)
        canvas.drawRightString(PAGE_SIZE[0] - _MARGIN, y, f"Стр. {canvas.getPageNumber()}")
        canvas.restoreState()

    raw = io.BytesIO()
    frame = Frame(
        _MARGIN,
        _BOTTOM_MARGIN,
        FRAME_WIDTH,
        PAGE_SIZE[1] - _MARGIN - _BOTTOM_MARGIN,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )
    doc = BaseDocTemplate(
        raw,
        pagesize=PAGE_SIZE,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_BOTTOM_MARGIN,
        pageTemplates=[PageTemplate(id="page", frames=[frame], onPage=draw_footer)],
        title=title,
        author=author,
        subject=subject,
        creator="ejournal",
        lang="ru-RU",
        invariant=1,
        initialFontName=FONT,
        initialFontSize=_BODY_SIZE,
    )
    # invariant=1: reportlab's own dates and /ID are fixed; the real ones are set below.
    doc.build(story)
    return _to_pdfa(raw.getvalue(), _moment(at))


def _moment(at: datetime | None) -> datetime:
    """The document's date: `at` (a naive one is read as UTC), else now; whole seconds."""
    moment = datetime.now(UTC) if at is None else at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.replace(microsecond=0)


def _pdf_date(moment: datetime) -> str:
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"D:{moment:%Y%m%d%H%M%S}{sign}{hours:02d}'{mins:02d}'"


def _to_pdfa(data: bytes, moment: datetime) -> bytes:
    """PDF/A-2b whose every date (DocInfo, XMP create/modify/metadata) is `moment` and whose
    /ID is a digest of the content: the same document at the same moment gives the same bytes."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            if "/Trans" in page.obj:
                del page.obj["/Trans"]
        pdf.docinfo["/CreationDate"] = pikepdf.String(_pdf_date(moment))
        pdf.docinfo["/ModDate"] = pikepdf.String(_pdf_date(moment))
        pikepdf.pdfa.prepare(pdf, "2b")
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
            for key in ("xmp:CreateDate", "xmp:ModifyDate", "xmp:MetadataDate"):
                meta[key] = moment.isoformat()
        pikepdf.pdfa.save(pdf, out, "2b", repair=False, deterministic_id=True)
    return out.getvalue()


def summary_sheet_pdf(sheet: SummarySheet, *, at: datetime | None = None) -> bytes:
    """The group's summary sheet of final marks, with the signature and seal block (PDF/A-2b).
    `at` (the year's close time for the archive) is the document's creation date in its
    metadata; with the same `at` the bytes are the same."""
    _register_fonts()
    heading = sheet.heading
    story = _heading_block(heading, "Сводная ведомость итоговых отметок")
    story += _summary_tables(sheet)
    story.append(_signature_block(heading))
    return _render(
        story,
        title=f"Сводная ведомость итоговых отметок — группа {heading.group}, {heading.year}",
        subject=f"Итоговые отметки группы {heading.group} за {heading.year} учебный год",
        author=heading.organisation,
        footer=f"Сформировано ejournal; год закрыт {heading.closed_at}",
        at=at,
    )


def group_journal_pdf(journal: GroupJournal, *, at: datetime | None = None) -> bytes:
    """The group's journal of the school year for the archive (PDF/A-2b); `at` as for
    `summary_sheet_pdf`."""
    _register_fonts()
    heading = journal.heading
    story = _heading_block(heading, "Журнал учебных занятий")
    story.append(Paragraph("Список обучающихся", _SECTION))
    story.append(Spacer(1, 2 * mm))
    story.append(_roster_table(journal.roster))
    for page in journal.pages:
        if not page.is_empty():  # a period without lessons or marks is not an empty table
            story += _journal_section(page)
    story += [
        PageBreak(),
        Paragraph("Посещаемость", _SECTION),
        Paragraph(
            "Н — причина ещё не известна, НУ — по уважительной причине, "
            "НН — без уважительной причины, Б — по болезни",
            _LINE,
        ),
        Spacer(1, 2 * mm),
        _attendance_table(journal.attendance),
        PageBreak(),
        Paragraph("Итоговые отметки", _SECTION),
        Spacer(1, 2 * mm),
    ]
    story += _summary_tables(journal.summary)
    return _render(
        story,
        title=f"Журнал учебных занятий — группа {heading.group}, {heading.year}",
        subject=f"Журнал группы {heading.group} за {heading.year} учебный год",
        footer=(
            f"Журнал группы {heading.group}, {heading.year}. "
            f"Сформировано ejournal; год закрыт {heading.closed_at}"
        ),
        author=heading.organisation,
        at=at,
    )
