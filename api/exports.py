"""CSV and XLSX answers for reports (`format=` or `Accept`); the tables themselves are
`adapters.report_tables`, shared with the year's archive."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request, Response

from adapters.report_tables import Table, csv_bytes, xlsx_bytes

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


def table_response(fmt: str, table: Table, filename: str) -> Response:
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}.{fmt}"
    if fmt == "csv":
        return Response(
            csv_bytes(table),
            media_type=f"{CSV}; charset=utf-8",
            headers={"Content-Disposition": disposition},
        )
    return Response(
        xlsx_bytes(table), media_type=XLSX, headers={"Content-Disposition": disposition}
    )
