"""Printable PDF/A-2b documents: the summary sheet and the group journal, read back as PDFs."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pikepdf
import pikepdf.pdfa
import pytest
from pypdf import PdfReader
from reportlab.lib.enums import TA_CENTER
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph, Table

from adapters import printing
from adapters.printing import (
    AttendanceLine,
    GroupJournal,
    Heading,
    JournalPage,
    JournalRow,
    Result,
    SubjectResults,
    SummarySheet,
    group_journal_pdf,
    summary_sheet_pdf,
)

HEADING = Heading(
    organisation="ГБПОУ «Пермский химико-технологический техникум»",
    year="2026/2027",
    group="ХТ-21",
    closed_at="30.06.2027",
    curator="Смирнова Анна Петровна",
)
SUBJECTS = [
    "Химия",
    "Информационные технологии в профессиональной деятельности",
    "Физическая культура",
]
STUDENTS = [
    "Алексеев Борис Викторович",
    "Ёлкина Жанна Зиновьевна",
    "Ли <Анна> & Ко",
]
SHEET = SummarySheet(
    heading=HEADING,
    subjects=SUBJECTS,
    rows=[
        (STUDENTS[0], ["5", "зачтено", "4"]),
        (STUDENTS[1], ["3", "не зачтено", None]),
        (STUDENTS[2], ["н/а", "", "5"]),
    ],
)


def lesson_labels(count: int) -> list[str]:
    return [f"{day % 28 + 1:02d}.{9 + day // 28:02d} №{day + 1}" for day in range(count)]


def journal_page(subject: str, students: list[str], lessons: int) -> JournalPage:
    def cell(i: int, d: int) -> str:
        if (i + d) % 11 == 0:
            return "н"
        if (i + d) % 5 == 0:
            return "4 3"
        return "5" if (i + d) % 3 == 0 else ""

    return JournalPage(
        subject=subject,
        period="1 семестр",
        teachers=["Петрова Ольга Игоревна"],
        columns=lesson_labels(lessons),
        topics=[f"Тема {d + 1}: окислительно-восстановительные реакции" for d in range(lessons)],
        rows=[
            JournalRow(name, [cell(i, d) for d in range(lessons)], "4.25", "4")
            for i, name in enumerate(students)
        ],
    )


def journal(students: list[str], lessons: int, subjects: list[str]) -> GroupJournal:
    return GroupJournal(
        heading=HEADING,
        roster=[(name, "с 01.09.2026") for name in students],
        pages=[journal_page(subject, students, lessons) for subject in subjects],
        attendance=[
            AttendanceLine(name, 7, {"Н": 1, "НУ": 2, "НН": 3, "Б": 1}) for name in students
        ],
        summary=SummarySheet(
            HEADING, subjects, [(name, ["5"] * len(subjects)) for name in students]
        ),
    )


def big_students() -> list[str]:
    names = [f"Студентов{i} Иван Петрович" for i in range(35)]
    names[7] = "Константинопольская-Щедрина Александра Владиславовна"
    return names


SMALL_JOURNAL = journal(STUDENTS, 6, ["Химия", "Физическая культура"])
EMPTY_JOURNAL = GroupJournal(
    heading=Heading("Техникум", "2026/2027", "ХТ-99", "30.06.2027"),
    roster=[],
    pages=[JournalPage("Химия", "1 семестр", [], [], [], [])],
    attendance=[],
    summary=SummarySheet(Heading("Техникум", "2026/2027", "ХТ-99", "30.06.2027"), [], []),
)


@pytest.fixture(scope="module")
def sheet_pdf() -> bytes:
    return summary_sheet_pdf(SHEET)


@pytest.fixture(scope="module")
def journal_pdf() -> bytes:
    return group_journal_pdf(SMALL_JOURNAL)


@pytest.fixture(scope="module")
def big_journal() -> Iterator[tuple[bytes, float]]:
    started = time.perf_counter()
    data = group_journal_pdf(journal(big_students(), 80, SUBJECTS))
    yield data, time.perf_counter() - started


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def assert_pdfa_2b(data: bytes) -> None:
    report = pikepdf.pdfa.validate_written(io.BytesIO(data), "2b")
    assert report.verdict == "pass", report.summary()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        meta = pdf.open_metadata()
        assert meta.get("pdfaid:part") == "2"
        assert meta.get("pdfaid:conformance") == "B"


def fonts_in(resources: pikepdf.Object, seen: set[tuple[int, int]]) -> Iterator[pikepdf.Object]:
    if "/Font" in resources:
        yield from resources.Font.values()
    if "/XObject" in resources:
        for xobject in resources.XObject.values():
            if xobject.objgen in seen or xobject.get("/Subtype") != "/Form":
                continue
            seen.add(xobject.objgen)
            if "/Resources" in xobject:
                yield from fonts_in(xobject.Resources, seen)


def assert_fonts_embedded(data: bytes) -> None:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        fonts = [
            font
            for page in pdf.pages
            if "/Resources" in page.obj
            for font in fonts_in(page.obj.Resources, set())
        ]
        assert fonts
        for font in fonts:
            assert font.Subtype != "/Type3"
            described = font.DescendantFonts[0] if font.Subtype == "/Type0" else font
            descriptor = described.get("/FontDescriptor")
            assert descriptor is not None, font.BaseFont
            assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, font.BaseFont
            assert "DejaVu" in str(font.BaseFont)


def test_summary_sheet_shows_heading_students_subjects_and_marks(sheet_pdf: bytes) -> None:
    text = text_of(sheet_pdf)
    for expected in [
        "ГБПОУ «Пермский химико-технологический техникум»",
        "Сводная ведомость итоговых отметок",
        "Группа ХТ-21",
        "Учебный год 2026/2027",
        "Смирнова Анна Петровна",
        "ФИО обучающегося",
        "Химия",
        *STUDENTS,
        "зачтено",
        "не зачтено",
        "н/а",
    ]:
        assert expected in text, expected
    assert "профессиональной" in text
    marks = text.split()
    assert marks.count("5") >= 2 and "4" in marks and "3" in marks
    assert "None" not in text


def test_summary_sheet_has_signature_seal_and_footer(sheet_pdf: bytes) -> None:
    text = text_of(sheet_pdf)
    assert "Директор ____" in text
    assert "Классный руководитель (куратор) ____" in text
    assert "/ Смирнова Анна Петровна /" in text
    assert "М.П." in text
    assert "Дата: ____" in text
    assert "Стр. 1" in text
    assert "Сформировано ejournal; год закрыт 30.06.2027" in text


def test_summary_sheet_is_pdfa_2b_with_embedded_fonts(sheet_pdf: bytes) -> None:
    assert sheet_pdf.startswith(b"%PDF-")
    assert_pdfa_2b(sheet_pdf)
    assert_fonts_embedded(sheet_pdf)


CLOSED_AT = datetime(2027, 6, 30, 17, 45, 12, tzinfo=timezone(timedelta(hours=5)))


def test_document_metadata_names_the_organisation_and_ejournal(sheet_pdf: bytes) -> None:
    with pikepdf.open(io.BytesIO(sheet_pdf)) as pdf:
        assert str(pdf.docinfo["/Author"]) == HEADING.organisation
        assert str(pdf.docinfo["/Creator"]) == "ejournal"
        assert "Сводная ведомость итоговых отметок" in str(pdf.docinfo["/Title"])
        meta = pdf.open_metadata()
        assert "ХТ-21" in str(meta.get("dc:title"))


@pytest.mark.parametrize("render", ["sheet", "journal"])
def test_the_same_close_time_gives_the_same_bytes(render: str) -> None:
    def make() -> bytes:
        if render == "sheet":
            return summary_sheet_pdf(SHEET, at=CLOSED_AT)
        return group_journal_pdf(SMALL_JOURNAL, at=CLOSED_AT)

    first = make()
    time.sleep(1.1)  # a second later: nothing of "now" may get in
    assert make() == first
    assert_pdfa_2b(first)
    other = summary_sheet_pdf(SHEET, at=CLOSED_AT + timedelta(days=1))
    assert other != summary_sheet_pdf(SHEET, at=CLOSED_AT)


def test_every_date_inside_is_the_close_time() -> None:
    data = summary_sheet_pdf(SHEET, at=CLOSED_AT)
    reader = PdfReader(io.BytesIO(data))
    info = reader.metadata
    assert info is not None
    assert info.title and "Сводная ведомость итоговых отметок" in info.title
    assert info.author == HEADING.organisation
    assert info.creation_date == CLOSED_AT
    assert info.modification_date == CLOSED_AT
    with pikepdf.open(io.BytesIO(data)) as pdf:
        meta = pdf.open_metadata()
        for key in ("xmp:CreateDate", "xmp:ModifyDate", "xmp:MetadataDate"):
            assert datetime.fromisoformat(str(meta.get(key))) == CLOSED_AT, key
    assert b"2000" not in data.split(b"<x:xmpmeta")[1].split(b"</x:xmpmeta>")[0]


def test_without_a_close_time_the_date_is_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    info = PdfReader(io.BytesIO(summary_sheet_pdf(EMPTY_JOURNAL.summary))).metadata
    assert info is not None and info.creation_date is not None
    assert info.creation_date >= before


def test_group_journal_shows_roster_marks_topics_and_attendance(journal_pdf: bytes) -> None:
    text = text_of(journal_pdf)
    for expected in [
        "Журнал учебных занятий",
        "Группа ХТ-21",
        "Учебный год 2026/2027",
        *STUDENTS,
        "с 01.09.2026",
        "Химия — 1 семестр",
        "Преподаватель: Петрова Ольга Игоревна",
        "01.09",
        "4 3",
        "4.25",
        "Тема 3: окислительно-восстановительные реакции",
        "Посещаемость",
        "Пропущено уроков",
        "Итоговые отметки",
        "Стр. 1",
    ]:
        assert expected in flat(text), expected
    assert "н" in text.split()
    assert "None" not in text


def test_group_journal_is_pdfa_2b_with_embedded_fonts(journal_pdf: bytes) -> None:
    assert_pdfa_2b(journal_pdf)
    assert_fonts_embedded(journal_pdf)


@pytest.mark.serial  # a time or memory bound: run alone (Makefile)
def test_big_group_journal_splits_lessons_and_stays_valid(
    big_journal: tuple[bytes, float],
) -> None:
    data, seconds = big_journal
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 3 * 4 + 3
    text = text_of(data)
    assert "Константинопольская-Щедрина" in text
    assert "Уроки 1–20 из 80" in text and "Уроки 61–80 из 80" in text
    assert flat(text).count("Ср. балл") == len(SUBJECTS)
    assert f"Стр. {len(reader.pages)}" in text
    assert_pdfa_2b(data)
    assert seconds < 10


def test_nothing_is_wider_than_the_page() -> None:
    printing._register_fonts()
    page = journal_page("Химия", big_students(), 80)
    page.rows[0].cells[0] = "5 5 4 4 3"
    flowables = printing._marks_tables(page) + printing._summary_tables(
        SummarySheet(HEADING, SUBJECTS * 10, [(s, ["не зачтено"] * 30) for s in STUDENTS])
    )
    tables = [f for f in flowables if isinstance(f, Table)]
    assert len(tables) == 4 + 2
    for table in tables:
        for row in table._cellvalues[1:]:
            for value, column in zip(row, table._colWidths, strict=True):
                room = column - 2 * printing._PAD
                if isinstance(value, Paragraph):
                    if value.style.alignment == TA_CENTER:
                        assert value.minWidth() <= room
                else:
                    assert stringWidth(value, printing.FONT, printing._BODY_SIZE) <= room
        width, _ = table.wrap(printing.FRAME_WIDTH, 10_000)
        assert width <= printing.FRAME_WIDTH + 0.01


def test_lesson_columns_are_split_evenly() -> None:
    assert [len(part) for part in printing._chunks(80, 22)] == [20, 20, 20, 20]
    assert [len(part) for part in printing._chunks(22, 22)] == [22]
    assert [len(part) for part in printing._chunks(23, 22)] == [12, 11]
    assert printing._chunks(0, 22) == [range(0, 0)]


def test_empty_group_still_makes_valid_documents() -> None:
    journal_data = group_journal_pdf(EMPTY_JOURNAL)
    sheet_data = summary_sheet_pdf(EMPTY_JOURNAL.summary)
    for data in (journal_data, sheet_data):
        assert_pdfa_2b(data)
        assert_fonts_embedded(data)
    assert "Посещаемость" in text_of(journal_data)
    assert "М.П." in text_of(sheet_data)


def test_mismatched_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="results for 3 subjects"):
        summary_sheet_pdf(SummarySheet(HEADING, SUBJECTS, [(STUDENTS[0], ["5"])]))
    short_row = journal_page("Химия", STUDENTS, 4)
    short_row.rows[0].cells.pop()
    with pytest.raises(ValueError, match="3 cells for 4 lessons"):
        group_journal_pdf(GroupJournal(HEADING, [], [short_row], [], SummarySheet(HEADING, [], [])))
    no_topics = JournalPage("Химия", "1 семестр", [], ["01.09 №1"], [], [])
    with pytest.raises(ValueError, match="0 topics for 1 lessons"):
        group_journal_pdf(GroupJournal(HEADING, [], [no_topics], [], SummarySheet(HEADING, [], [])))


def test_the_directors_name_is_on_the_signature_line() -> None:
    heading = Heading(
        "Техникум", "2026/2027", "ХТ-21", "30.06.2027", director="Иванов Иван Иванович"
    )
    text = flat(text_of(summary_sheet_pdf(SummarySheet(heading, SUBJECTS, SHEET.rows))))
    assert "Директор ____________________ / Иванов Иван Иванович /" in text


def test_the_summary_table_uses_the_pages_width() -> None:
    printing._register_fonts()
    [table] = [f for f in printing._summary_tables(SHEET) if isinstance(f, Table)]
    width, _ = table.wrap(printing.FRAME_WIDTH, 10_000)
    assert abs(width - printing.FRAME_WIDTH) < 0.01


def test_homework_is_printed_beside_the_topics() -> None:
    page = journal_page("Химия", STUDENTS, 3)
    with_homework = JournalPage(
        page.subject,
        page.period,
        page.teachers,
        page.columns,
        page.topics,
        page.rows,
        homework=["§ 1, задачи 1–3", "", "§ 2"],
    )
    data = group_journal_pdf(GroupJournal(HEADING, [], [with_homework], [], SHEET))
    text = flat(text_of(data))
    assert "Домашнее задание" in text
    assert "§ 1, задачи 1–3" in text and "§ 2" in text
    assert_pdfa_2b(data)


def test_an_empty_period_is_not_printed() -> None:
    empty = JournalPage(
        "Астрономия", "2 семестр", [], [], [], [JournalRow(STUDENTS[0], [], None, None)]
    )
    full = journal_page("Химия", STUDENTS, 3)
    text = flat(text_of(group_journal_pdf(GroupJournal(HEADING, [], [empty, full], [], SHEET))))
    assert "Химия — 1 семестр" in text
    assert "Астрономия" not in text


PERIODS = [["1 семестр", "2 семестр"], ["1 семестр", "2 семестр"], ["Год. зачёт"]]


def by_period(chemistry: list[Result], it: list[Result], sport: Result) -> list[SubjectResults]:
    def year(results: list[Result]) -> Result:
        return next((r for r in reversed(results) if r.value), Result(None))

    return [
        SubjectResults(chemistry, year(chemistry)),
        SubjectResults(it, year(it)),
        SubjectResults([sport], sport),
    ]


PERIOD_SHEET = SummarySheet(
    heading=HEADING,
    subjects=SUBJECTS,
    rows=[
        (
            STUDENTS[0],
            by_period(
                [Result("5"), Result("4", computed=True)],
                [Result("зачтено"), Result("зачтено")],
                Result("5"),
            ),
        ),
        (
            STUDENTS[1],
            by_period([Result("3", computed=True), Result(None)], [Result(None)] * 2, Result(None)),
        ),
    ],
    periods=PERIODS,
)


def test_summary_sheet_has_a_column_per_period_and_the_year() -> None:
    text = flat(text_of(summary_sheet_pdf(PERIOD_SHEET)))
    assert "1 семестр 2 семестр Год" in text
    assert "Год. зачёт Год" in text
    assert text.count("Год") == 4  # the year's column under each subject, and «Год. зачёт»
    # Per subject its periods, then the year: a computed mean carries the asterisk.
    assert f"{STUDENTS[0]} 5 4* 4* зачтено зачтено зачтено 5 5" in text
    assert f"{STUDENTS[1]} 3* 3*" in text
    assert "* — среднее текущих отметок (нет аттестационной отметки)" in text
    assert "None" not in text


def test_no_legend_without_computed_means() -> None:
    attested = SummarySheet(
        HEADING,
        SUBJECTS,
        [(STUDENTS[0], by_period([Result("5")] * 2, [Result("зачтено")] * 2, Result("4")))],
        PERIODS,
    )
    text = flat(text_of(summary_sheet_pdf(attested)))
    assert "1 семестр 2 семестр Год" in text
    assert "среднее текущих отметок" not in text and "*" not in text


def test_a_wide_period_sheet_keeps_each_subject_whole_within_the_page() -> None:
    printing._register_fonts()
    subjects = [f"Предмет {i}" for i in range(12)]
    periods = [["1 семестр", "2 семестр"]] * 12
    entry = SubjectResults([Result("5"), Result("не зачтено", computed=True)], Result("4"))
    sheet = SummarySheet(HEADING, subjects, [(s, [entry] * 12) for s in STUDENTS], periods)
    flowables = printing._summary_tables(sheet)
    tables = [f for f in flowables if isinstance(f, Table)]
    assert len(tables) == 2  # 36 columns: two tables of six subjects
    for table in tables:
        assert (len(table._colWidths) - 2) % 3 == 0  # no subject split between tables
        width, _ = table.wrap(printing.FRAME_WIDTH, 10_000)
        assert width <= printing.FRAME_WIDTH + 0.01
    text = flat(text_of(summary_sheet_pdf(sheet)))
    assert "Предметы 1–6 из 12" in text and "Предметы 7–12 из 12" in text
    assert_pdfa_2b(summary_sheet_pdf(sheet))


def test_period_results_must_match_the_periods() -> None:
    entry = SubjectResults([Result("5")], Result("5"))
    with pytest.raises(ValueError, match="1 period results for 2 periods"):
        summary_sheet_pdf(
            SummarySheet(HEADING, ["Химия"], [(STUDENTS[0], [entry])], [["1 семестр", "2 семестр"]])
        )
    with pytest.raises(ValueError, match="1 period lists for 2 subjects"):
        summary_sheet_pdf(SummarySheet(HEADING, ["Химия", "Физика"], [], [["1 семестр"]]))
