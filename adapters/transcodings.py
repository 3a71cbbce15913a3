"""The stored events' JSON: transcodings for event fields the library does not know (dates),
and the library's JSON format parsed with orjson."""

from __future__ import annotations

from datetime import date, datetime
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


_LEAVES = frozenset({str, int, bool, type(None), date, datetime})


def _plain(value: dict[Any, Any] | list[Any]) -> bool:
    """Whether a document holds only what orjson writes as `json` does: the `_LEAVES` (by
    exact type: no subclasses, no floats, no UUIDs), in dicts with str keys and lists."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            for key in item:
                if type(key) is not str:
                    return False
            for each in item.values():
                kind = type(each)
                if kind is dict or kind is list:
                    stack.append(each)
                elif kind not in _LEAVES:
                    return False
        else:
            for each in item:
                kind = type(each)
                if kind is dict or kind is list:
                    stack.append(each)
                elif kind not in _LEAVES:
                    return False
    return True


class _Float(Exception):
    """A float in orjson's result: maybe an integer beyond 64 bits that orjson read as one."""


class JournalTranscoder(JSONTranscoder):
    """The library's JSON transcoder, byte for byte the same format, with a faster decode:
    orjson parses (several times faster than `json` with an object hook) and the transcoded
    values (`{"_type_": ..., "_data_": ...}`) are revived afterwards, innermost first, as the
    library's object hook would. What orjson refuses (NaN, lone surrogates) or may read
    otherwise (it reads an integer beyond 64 bits as a float, so any document with a float)
    goes to the library's own decoder: every stored event loads as it always did.

    Encoding writes the library's bytes, byte for byte: orjson writes a document whose values
    are all of the kinds it writes exactly as `json` does (str, int, bool, None, and dicts
    with str keys and lists of them), with dates and datetimes handed to the library's
    transcodings (`OPT_PASSTHROUGH_DATETIME`); a document holding anything else (a UUID,
    which orjson would write as a bare string; a float, which it may write otherwise; an
    integer beyond 64 bits) is written by the library's encoder."""

    def encode(self, obj: Any) -> bytes:
        if type(obj) is dict and _plain(obj):
            try:
                return orjson.dumps(
                    obj, default=self._encode_obj, option=orjson.OPT_PASSTHROUGH_DATETIME
                )
            except orjson.JSONEncodeError:  # an integer beyond 64 bits
                pass
        return super().encode(obj)

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
