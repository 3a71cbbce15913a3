"""Person-entered and external input: constrained types for request bodies and the roster
document (text, identifiers, names, reasons, dates, positions), and pydantic's errors in Russian.

Control characters (Unicode category Cc: U+0000–U+001F and U+007F–U+009F) are refused,
except tab, newline and carriage return. NUL in particular cannot be stored in PostgreSQL
text, so refusing it at the door keeps both stores alike.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints
from pydantic_core import PydanticCustomError

CONTROL_CHARS_MESSAGE = "Текст содержит недопустимые управляющие символы"

# Exactly the category Cc minus "\t", "\n" and "\r" (Cc is fixed by Unicode's stability policy).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_chars(value: str) -> bool:
    return _CONTROL.search(value) is not None


def no_control_chars(value: str) -> str:
    """Pass the text through, or refuse it with a Russian message naming no characters."""
    if _CONTROL.search(value) is not None:
        raise PydanticCustomError("control_characters", CONTROL_CHARS_MESSAGE)
    return value


_NO_CONTROL = AfterValidator(no_control_chars)
Text = Annotated[str, _NO_CONTROL]
"""A str without control characters other than tab, newline and carriage return."""


# --- length-limited text, reasons, sane dates ---------------------------------------------

IDENT_MAX = 64
"""Identifiers (people, groups, subjects, periods, years, roles, usernames)."""
NAME_MAX = 200
"""Names: full names, titles of groups, subjects, periods, the organisation."""
REASON_MAX = 1000
"""Reasons and comments."""
MIN_YEAR, MAX_YEAR = 2000, 2100
"""Dates and moments a school journal can mean: anything else is a typo or an attack (and
years 0001/9999 with a ±14:00 offset cannot even be converted to UTC)."""
MAX_POSITION = 2**63 - 1
"""Event positions and cursors: a signed 64-bit integer in both stores."""

_D = TypeVar("_D", bound=dt.date)

REASON_INVISIBLE_MESSAGE = "Причина должна содержать буквы или цифры"
DATE_RANGE_MESSAGE = f"Дата должна быть в пределах {MIN_YEAR}–{MAX_YEAR} годов"


def visible(value: str) -> str:
    """Refuse text without a single letter or digit (e.g. only zero-width spaces)."""
    if not any(unicodedata.category(ch)[0] in "LN" for ch in value):
        raise PydanticCustomError("reason_invisible", REASON_INVISIBLE_MESSAGE)
    return value


def sane_date(value: _D) -> _D:
    """Refuse dates (and moments) outside MIN_YEAR..MAX_YEAR."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise PydanticCustomError("date_out_of_range", DATE_RANGE_MESSAGE)
    return value


Ident = Annotated[str, StringConstraints(min_length=1, max_length=IDENT_MAX), _NO_CONTROL]
"""An identifier: 1–64 characters of Text."""
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX), _NO_CONTROL]
"""A name: 1–200 characters of Text."""
ShortText = Annotated[str, StringConstraints(max_length=NAME_MAX), _NO_CONTROL]
"""Short optional text (e-mail, phone, time zone): at most 200 characters."""
Reason = Annotated[
    str,
    StringConstraints(min_length=1, max_length=REASON_MAX),
    _NO_CONTROL,
    AfterValidator(visible),
]
"""Why a record is changed: 1–1000 characters, at least one letter or digit."""
SaneDate = Annotated[dt.date, AfterValidator(sane_date)]
"""A calendar date in MIN_YEAR..MAX_YEAR."""
Moment = Annotated[AwareDatetime, AfterValidator(sane_date)]
"""A moment with a UTC offset, in MIN_YEAR..MAX_YEAR."""
Position = Annotated[int, Field(ge=0, le=MAX_POSITION)]
"""An event position or cursor: 0 .. 2^63−1."""


# --- pydantic's errors in Russian -----------------------------------------------------------

_CYRILLIC = re.compile("[А-Яа-яЁё]")
FALLBACK_MESSAGE = "Недопустимое значение"

_NUMBER = "Нужно целое число"
_DATE = "Нужна дата в формате ГГГГ-ММ-ДД, например 2026-09-01"
_MOMENT = "Нужен момент в формате ISO 8601 со смещением, например 2026-09-01T10:00:00+05:00"
_OBJECT = "Нужен объект JSON"
_LIST = "Нужен список"
_MESSAGES: dict[str, str] = {
    "missing": "Обязательное поле не заполнено",
    "missing_argument": "Обязательное поле не заполнено",
    "missing_keyword_only_argument": "Обязательное поле не заполнено",
    "missing_positional_only_argument": "Обязательное поле не заполнено",
    "extra_forbidden": "Такого поля нет: уберите его",
    "unexpected_keyword_argument": "Такого поля нет: уберите его",
    "unexpected_positional_argument": "Лишнее значение",
    "json_invalid": "Тело запроса не является корректным JSON",
    "json_type": "Нужен JSON",
    "string_type": "Нужна строка",
    "string_unicode": "Нужна строка в кодировке UTF-8",
    "string_too_short": "Не короче {min_length} символов",
    "string_too_long": "Не длиннее {max_length} символов",
    "string_pattern_mismatch": "Значение не соответствует формату",
    "string_not_ascii": "Допустимы только латинские буквы, цифры и знаки ASCII",
    "int_type": _NUMBER,
    "int_parsing": _NUMBER,
    "int_from_float": _NUMBER,
    "int_parsing_size": "Слишком большое число",
    "float_type": "Нужно число",
    "float_parsing": "Нужно число",
    "finite_number": "Нужно конечное число",
    "decimal_type": "Нужно число",
    "decimal_parsing": "Нужно число",
    "bool_type": "Нужно логическое значение: true или false",
    "bool_parsing": "Нужно логическое значение: true или false",
    "greater_than": "Должно быть больше {gt}",
    "greater_than_equal": "Должно быть не меньше {ge}",
    "less_than": "Должно быть меньше {lt}",
    "less_than_equal": "Должно быть не больше {le}",
    "multiple_of": "Должно быть кратно {multiple_of}",
    "too_short": "Нужно не меньше {min_length} элементов",
    "too_long": "Не больше {max_length} элементов",
    "list_type": _LIST,
    "tuple_type": _LIST,
    "set_type": _LIST,
    "frozen_set_type": _LIST,
    "iterable_type": _LIST,
    "set_item_not_hashable": "Элементы списка должны быть простыми значениями",
    "dict_type": _OBJECT,
    "mapping_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "dataclass_type": _OBJECT,
    "invalid_key": "Ключи объекта должны быть строками",
    "none_required": "Здесь допустимо только null",
    "literal_error": "Допустимые значения: {expected}",
    "enum": "Допустимые значения: {expected}",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": _MOMENT,
    "datetime_parsing": _MOMENT,
    "datetime_from_date_parsing": _MOMENT,
    "datetime_object_invalid": _MOMENT,
    "timezone_aware": "Укажите смещение от UTC, например +05:00",
    "timezone_naive": "Смещение от UTC здесь не указывается",
    "time_type": "Нужно время в формате ЧЧ:ММ",
    "time_parsing": "Нужно время в формате ЧЧ:ММ",
    "time_delta_type": "Нужна продолжительность",
    "time_delta_parsing": "Нужна продолжительность",
    "uuid_type": "Нужен UUID",
    "uuid_parsing": "Нужен UUID",
    "url_type": "Нужен URL",
    "url_parsing": "Нужен URL",
    "url_too_long": "Не длиннее {max_length} символов",
    "bytes_type": "Нужны данные",
    "bytes_too_short": "Не короче {min_length} байт",
    "bytes_too_long": "Не длиннее {max_length} байт",
    "union_tag_invalid": "Недопустимый вид объекта",
    "union_tag_not_found": "Не указан вид объекта",
    "recursion_loop": "Слишком глубокая вложенность",
    "recursion_depth_exceeded": "Слишком глубокая вложенность",
}


def _shown(value: Any) -> str:
    text = str(value)
    return text.replace("' or '", "' или '")


def russian_message(error: Mapping[str, Any]) -> str:
    """A person-readable Russian message for one pydantic error ({"type", "msg", "ctx"}).

    Known types get a message with the limits from `ctx`; our own errors (PydanticCustomError
    or a ValueError with a Russian text) pass through; anything else gets a generic Russian
    message — pydantic's English `msg` never does."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind in ("too_short", "too_long") and ctx.get("field_type") in ("String", "Value"):
        kind = f"string_{kind}"  # a length limit applied to text after its validators
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "Поле не может быть пустым"
    if kind == "too_short" and ctx.get("min_length") == 1:
        return "Нужен хотя бы один элемент"
    template = _MESSAGES.get(kind)
    if template is not None:
        try:
            return template.format_map({k: _shown(v) for k, v in ctx.items()})
        except (KeyError, ValueError, IndexError):
            return template.split(":")[0] if "{" in template else template
    if kind in ("value_error", "assertion_error"):
        reason = str(ctx.get("error", ""))
        return reason if _CYRILLIC.search(reason) else FALLBACK_MESSAGE
    msg = str(error.get("msg", ""))
    return msg if _CYRILLIC.search(msg) else FALLBACK_MESSAGE
