"""The stored events' JSON: transcodings for event fields the library does not know (dates),
and the library's JSON format parsed with orjson."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, Transcoding


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class _Float(Exception):
    """A float in orjson's result: maybe an integer beyond 64 bits that orjson read as one."""


class JournalTranscoder(JSONTranscoder):
    """The library's JSON transcoder, byte for byte the same format, with a faster decode:
    orjson parses (several times faster than `json` with an object hook) and the transcoded
    values (`{"_type_": ..., "_data_": ...}`) are revived afterwards, innermost first, as the
    library's object hook would. What orjson refuses (NaN, lone surrogates) or may read
    otherwise (it reads an integer beyond 64 bits as a float, so any document with a float)
    goes to the library's own decoder: every stored event loads as it always did.

    Encoding stays the library's: orjson writes UUIDs and datetimes itself, which would change
    the stored JSON (and so every new event's hash input)."""

    def decode(self, data: bytes) -> Any:
        try:
            value = orjson.loads(data)
            if type(value) is dict:
                return self._revive(value)
            if type(value) is list:
                return self._revive_list(value)
            if type(value) is float:
                raise _Float
            return value
        except (orjson.JSONDecodeError, _Float):
            return super().decode(data)

    def _revive(self, value: dict[str, Any]) -> Any:
        for key, item in value.items():
            kind = type(item)
            if kind is dict:
                if (  # a transcoded leaf, the usual case: nothing inside to revive first
                    len(item) == 2
                    and type(item.get("_type_")) is str
                    and type(item.get("_data_")) is str
                ):
                    value[key] = self._decode_obj(item)
                else:
                    value[key] = self._revive(item)
            elif kind is list:
                value[key] = self._revive_list(item)
            elif kind is float:
                raise _Float
        return self._decode_obj(value)

    def _revive_list(self, value: list[Any]) -> list[Any]:
        revived = []
        for item in value:
            kind = type(item)
            if kind is dict:
                item = self._revive(item)
            elif kind is list:
                item = self._revive_list(item)
            elif kind is float:
                raise _Float
            revived.append(item)
        return revived
