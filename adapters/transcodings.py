"""JSON transcodings for event fields the library does not know (dates)."""

from __future__ import annotations

from datetime import date

from eventsourcing.persistence import Transcoding


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)
