"""The audit page's export of the filtered list (issue 13), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook

from api.bootstrap import Services
from tests.api.helpers import DEPUTY, TEACHER_MATH, mark_body
from tests.api.test_page_sessions import page_csrf, sign_in


def test_the_filtered_audit_list_downloads_as_csv_and_xlsx(web: Any, imported: Services) -> None:
    sign_in(web, username=TEACHER_MATH)
    csrf = page_csrf(web.get("/journal").text)
    mark = web.post("/api/v1/marks", json=mark_body(value=3), headers={"X-CSRF-Token": csrf})
    assert mark.status_code == 201, mark.text
    fixed = web.post(
        f"/api/v1/marks/{mark.json()['mark_id']}/corrections",
        json={"value": 4, "reason": "ошибка при вводе"},
        headers={"X-CSRF-Token": csrf},
    )
    assert fixed.status_code == 200, fixed.text
    imported.journal.read_models.catch_up()
    web.cookies.clear()
    sign_in(web, username=DEPUTY)
    page = web.get("/audit?action=mark.corrected")
    assert 'href="/audit/export?format=csv&amp;action=mark.corrected"' in page.text

    r = web.get("/audit/export?format=csv&action=mark.corrected")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Когда", "Кто", "Действие", "Ученик", "Было", "Стало", "Причина"]
    assert len(rows) == 2  # only the correction: the filter applies
    assert rows[1][1].startswith("Соколова") and rows[1][6] == "ошибка при вводе"

    x = web.get("/audit/export?format=xlsx")
    assert x.status_code == 200
    sheet = load_workbook(io.BytesIO(x.content)).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Когда" and len(values) > 2  # every entry without a filter


def test_only_the_administration_exports_the_audit(web: Any) -> None:
    sign_in(web, username=TEACHER_MATH)
    assert web.get("/audit/export?format=csv").status_code == 403
