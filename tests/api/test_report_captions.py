"""XLSX reports open with a title row naming organisation, group, subject and period."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.api.helpers import DEPUTY, TEACHER_MATH, record_mark
from tests.conftest import Api


def first_rows(content: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return [[c.value for c in row] for row in sheet.iter_rows(max_row=2)]


def test_xlsx_reports_have_a_title_row(api: Api) -> None:
    record_mark(api, api.as_user(TEACHER_MATH), value=5)
    dep = api.as_user(DEPUTY)
    book = api.client.get(
        "/api/v1/gradebook",
        headers=dep,
        params={"group_id": "g1", "subject_id": "math", "period_id": "S1", "format": "xlsx"},
    )
    assert book.status_code == 200, book.text
    title = str(first_rows(book.content)[0][0])
    assert "группа ХТ-21" in title and "Математика" in title and "1 семестр" in title
    sheet = api.client.get(
        "/api/v1/years/2026-2027/summary-sheet",
        headers=dep,
        params={"group_id": "g1", "format": "xlsx"},
    )
    assert sheet.status_code == 200, sheet.text
    assert "группа ХТ-21" in str(first_rows(sheet.content)[0][0])
    attendance = api.client.get(
        "/api/v1/attendance",
        headers=dep,
        params={
            "group_id": "g1",
            "from_date": "2026-09-01",
            "to_date": "2026-09-30",
            "format": "xlsx",
        },
    )
    assert attendance.status_code == 200, attendance.text
    assert "группа ХТ-21" in str(first_rows(attendance.content)[0][0])
