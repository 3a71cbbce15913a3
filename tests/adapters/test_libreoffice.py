"""The spreadsheets open in LibreOffice as people will open them: converted headless to PDF,
the Cyrillic names and numbers are there (issue 14). Skips where LibreOffice is not installed
(it is not part of the project's dependencies)."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.report_tables import Table, table_caption, xlsx_bytes

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed here")
def test_an_xlsx_report_converts_to_a_readable_pdf(tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    caption = table_caption("ГБПОУ «Техникум»", "ХТ-21", "Математика", "1 семестр")
    table = Table(
        "Журнал",
        ["ФИО", "Средний балл"],
        [["Ёлкина Анна Петровна", Decimal("4.5")], ["Андреев Борис", 5]],
        caption,
    )
    source = tmp_path / "gradebook.xlsx"
    source.write_bytes(xlsx_bytes(table))
    assert SOFFICE is not None
    subprocess.run(
        [SOFFICE, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
        timeout=120,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    text = "".join(
        page.extract_text() for page in pypdf.PdfReader(tmp_path / "gradebook.pdf").pages
    )
    assert "Ёлкина Анна Петровна" in text and "ХТ-21" in text
    assert "4,5" in text or "4.5" in text
