"""Person-entered and external text: one constrained string type for request bodies and the
roster document.

Control characters (Unicode category Cc: U+0000–U+001F and U+007F–U+009F) are refused,
except tab, newline and carriage return. NUL in particular cannot be stored in PostgreSQL
text, so refusing it at the door keeps both stores alike.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator
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


Text = Annotated[str, AfterValidator(no_control_chars)]
"""A str without control characters other than tab, newline and carriage return."""
