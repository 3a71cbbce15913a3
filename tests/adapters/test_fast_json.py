"""orjson where the standard `json` is too slow, with the same result: the journal's
transcoder decodes every stored document exactly as the library's own decoder does
(transcoded values at any depth; documents orjson refuses or misreads still load), and the
archive's read-model checksums write rows as `canonical()` does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    UUIDAsHex,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.archive import _row_json
from adapters.transcodings import DateAsISO, JournalTranscoder
from domain.integrity import canonical


def _registered(transcoder: JSONTranscoder) -> JSONTranscoder:
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    return transcoder


LIBRARY = _registered(JSONTranscoder())
OURS = _registered(JournalTranscoder())

_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)  # beyond 64 bits too: orjson refuses those
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.uuids()
    | st.dates()
    | st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=5))]))
    | st.decimals(allow_nan=False, allow_infinity=False, places=2),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=15,
)


@settings(max_examples=400, deadline=None)
@given(document=st.dictionaries(st.text(max_size=8), _values, max_size=6) | _values)
def test_decodes_what_the_library_decodes(document: Any) -> None:
    stored = LIBRARY.encode(document)
    assert OURS.encode(document) == stored  # the stored format is the library's
    assert OURS.decode(stored) == LIBRARY.decode(stored)


def test_transcoded_values_are_revived_at_every_depth() -> None:
    stamp = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
    document = {
        "timestamp": stamp,
        "lesson_date": date(2026, 9, 1),
        "nested": {"ids": [UUID(int=7), {"when": stamp}], "weight": Decimal("1.5")},
    }
    decoded = OURS.decode(LIBRARY.encode(document))
    assert decoded == document
    assert type(decoded["nested"]["ids"][0]) is UUID and type(decoded["lesson_date"]) is date


def test_documents_orjson_refuses_still_load() -> None:
    for stored in (b'{"n":123456789012345678901234567890}', b'{"x":NaN}', b'{"s":"\\ud800"}'):
        assert repr(OURS.decode(stored)) == repr(LIBRARY.decode(stored))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.none() | st.text(), max_size=8))
def test_a_read_model_row_is_written_as_canonical_json(values: list[str | None]) -> None:
    """The archive's read-model checksums hash rows with orjson: the bytes of `canonical()`."""
    assert _row_json(values) == canonical(values)


_plain_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=16)  # control characters too
    | st.sampled_from(["\x00", "\x7f", "\u2028", '"\\/', "\b\f\n\r\t\x1f"])
    | st.dates()
    | st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=5))])),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(document=st.dictionaries(st.text(max_size=8), _plain_values, max_size=8))
def test_an_event_of_plain_values_is_written_by_orjson_as_the_library_writes_it(
    document: dict[str, Any],
) -> None:
    # The fast path (orjson) is taken for such documents; its bytes are the library's.
    assert OURS.encode(document) == LIBRARY.encode(document)
