"""Formula injection (OWASP "CSV Injection", issue 11): a text cell beginning with = + - @ tab
or CR is neutralised in every CSV and XLSX the product writes (API answers and the year's
archive); numbers stay numbers."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl

from adapters.clock import FixedClock
from adapters.report_tables import Table, csv_bytes, xlsx_bytes
from api.bootstrap import Services
from tests.adapters.test_archive_cli import close_with_correction, export_here
from tests.api.helpers import ADMIN, TEACHER_MATH, example_roster, record_mark
from tests.conftest import Api

EVIL = '=HYPERLINK("http://x","y")'
DANGEROUS = [EVIL, "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
EVIL_NAME = '=HYPERLINK("http://evil","x")'  # a student's full name in the roster
NORMAL = "Александров Артём Игоревич"
NUMBERS: list[Any] = [5, 4.5, -1, Decimal("4.67")]


def sample() -> Table:
    rows = [[name, *NUMBERS] for name in [*DANGEROUS, NORMAL]]
    return Table("Журнал", ["ФИО", "Пять", "Балл", "=Минус", "Decimal"], rows)


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def sheet_xml(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        return z.read("xl/worksheets/sheet1.xml").decode("utf-8")


def assert_no_formula(content: bytes) -> None:
    xml = sheet_xml(content)
    assert not re.search(r"<f[ >/]", xml), xml


# --- the tables themselves ------------------------------------------------------------------


def test_csv_prefixes_formula_like_text_and_leaves_numbers() -> None:
    table = read_csv(csv_bytes(sample()))
    assert table[0] == ["ФИО", "Пять", "Балл", "'=Минус", "Decimal"]
    body = table[1:]
    assert [row[0] for row in body] == [*("'" + d for d in DANGEROUS), NORMAL]
    for row in body:
        assert row[1:] == ["5", "4,5", "-1", "4,67"], row  # decimals as Russian Excel reads them
    # No cell of the file begins with a formula character.
    for row in table:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or cell == "-1", row


def test_csv_text_like_a_negative_number_is_text() -> None:
    table = read_csv(csv_bytes(Table("t", ["a", "b"], [["-5", -5]])))
    assert table[1] == ["'-5", "-5"]


def ooxml_text(value: str) -> str:
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m[1], 16)), value)


def test_xlsx_has_no_formula_and_keeps_numbers() -> None:
    content = xlsx_bytes(sample())
    assert_no_formula(content)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    header = list(sheet[1])
    assert header[3].value == "=Минус" and header[3].data_type == "s"
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == len(DANGEROUS) + 1
    for row, name in zip(rows, [*DANGEROUS, NORMAL], strict=True):
        first = row[0]
        assert first.data_type == "s", (name, first.data_type)
        # The name itself is kept, as text (a control character in the OOXML escape that
        # Excel and LibreOffice read back: "\r" is `_x000D_`, ECMA-376 ST_Xstring).
        assert ooxml_text(first.value) == name
        if name != NORMAL:
            assert first.quotePrefix, name
        assert [c.value for c in row[1:]] == [5, 4.5, -1, 4.67]
        assert all(c.data_type == "n" for c in row[1:]), [c.data_type for c in row]


# --- the API and the year's archive -------------------------------------------------------


def import_evil_name(api: Api) -> None:
    doc = example_roster()
    [s01] = [s for s in doc["students"] if s["id"] == "s01"]
    s01["full_name"] = EVIL_NAME
    r = api.client.post("/api/v1/import", headers=api.as_user(ADMIN), json=doc)
    assert r.status_code == 200, r.text


def test_gradebook_csv_and_xlsx_neutralise_a_students_name(api: Api) -> None:
    import_evil_name(api)
    t1 = api.as_user(TEACHER_MATH)
    mark = record_mark(api, t1, value=5)
    query = {
        "group_id": "g1",
        "subject_id": "math",
        "period_id": "S1",
        "min_position": str(mark["position"]),
    }

    r = api.client.get("/api/v1/gradebook", headers=t1, params={**query, "format": "csv"})
    assert r.status_code == 200, r.text
    names = [row[0] for row in read_csv(r.content)[1:]]
    assert "'" + EVIL_NAME in names, names
    assert EVIL_NAME not in names

    r = api.client.get("/api/v1/gradebook", headers=t1, params={**query, "format": "xlsx"})
    assert r.status_code == 200, r.text
    assert_no_formula(r.content)
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    # Row 1 is the title (organisation, group, subject, period), row 2 the header.
    [cell] = [row[0] for row in sheet.iter_rows(min_row=3) if row[0].value == EVIL_NAME]
    assert cell.data_type == "s"
    header = [c.value for c in sheet[2]]
    [row] = [r for r in sheet.iter_rows(min_row=3, values_only=True) if r[0] == EVIL_NAME]
    assert row[header.index("Средний балл")] == 5


def test_year_archive_tables_neutralise_a_students_name(
    api: Api, clock: FixedClock, imported: Services, tmp_path: Path
) -> None:
    import_evil_name(api)
    close_with_correction(api, clock)
    archive = export_here(imported, tmp_path / "year.zip")
    with zipfile.ZipFile(archive) as z:
        members = {n: z.read(n) for n in z.namelist()}
    csvs = [n for n in members if n.endswith(".csv") and "/groups/" in n]
    xlsxs = [n for n in members if n.endswith(".xlsx") and "/groups/" in n]
    assert any(n.endswith("g1/attendance.csv") for n in csvs), sorted(members)
    assert any(n.endswith("g1/summary-sheet.xlsx") for n in xlsxs), sorted(members)
    seen = 0
    for name in csvs:
        cells = [c for row in read_csv(members[name]) for c in row]
        assert EVIL_NAME not in cells, name
        seen += ("'" + EVIL_NAME) in cells
    assert seen >= 3, csvs  # the summary sheet, the attendance and the gradebooks of g1
    for name in xlsxs:
        assert_no_formula(members[name])
