"""CSV and XLSX renderings of reports, with Russian headers (`format=` or `Accept`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from openpyxl import Workbook
from openpyxl.styles import Font

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def wanted(request: Request, fmt: str | None) -> str:
    """json, csv or xlsx: the `format` query wins, then the Accept header."""
    if fmt:
        return fmt
    accept = request.headers.get("accept", "")
    if XLSX in accept:
        return "xlsx"
    if CSV in accept:
        return "csv"
    return "json"


def table_response(
    fmt: str, title: str, filename: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]
) -> Response:
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}.{fmt}"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow(headers)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
        # BOM: spreadsheet programs then read the Cyrillic as UTF-8.
        return Response(
            ("\ufeff" + buffer.getvalue()).encode("utf-8"),
            media_type=f"{CSV}; charset=utf-8",
            headers={"Content-Disposition": disposition},
        )
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_cell(v) for v in row])
    sheet.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), media_type=XLSX, headers={"Content-Disposition": disposition})


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, int | float | str):
        return value
    return float(value) if hasattr(value, "as_tuple") else str(value)
