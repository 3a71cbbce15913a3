"""The write path's canonical JSON of a stored state (orjson where it writes the same bytes)
is `canonical()` of the state as `json` reads it, for any JSON: so no hash changes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.integrity import canonical, event_hash, event_hash_of_canonical
from projections.chain import canonical_state

TEXT = st.text(st.characters(codec="utf-8"), max_size=12)  # every character but surrogates
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too
    | st.floats(allow_nan=False, allow_infinity=False)  # canonical() refuses those two
    | TEXT
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=5),
    max_leaves=20,
)


def _stored(value: Any) -> bytes:
    """As the library's encoder writes a state: compact, keys in insertion order."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@settings(max_examples=400)
@given(JSON_VALUES)
def test_the_canonical_state_is_canonical_of_the_parsed_state(value: Any) -> None:
    for raw in (_stored(value), json.dumps(value, indent=1).encode()):  # any spacing
        written, parsed = canonical_state(raw)
        assert written == canonical(json.loads(raw))
        assert parsed == json.loads(raw)


@given(st.dictionaries(TEXT, JSON_VALUES, max_size=6), st.text(max_size=30))
def test_the_write_path_hash_is_event_hash(state: dict[str, Any], topic: str) -> None:
    raw = _stored(state)
    written, parsed = canonical_state(raw)
    expected = event_hash(stream="s-1", version=7, topic=topic, state=parsed, previous="ab" * 32)
    assert expected == event_hash_of_canonical(
        stream=b"s-1",
        version=b"7",
        topic=canonical(topic),
        state=written,
        previous=("ab" * 32).encode(),
    )


def test_floats_and_long_integers_take_json_s_way() -> None:
    for raw in (b'{"a":1.0}', b'{"a":1e5}', b'{"a":12345678901234567890123}', b'{"a":NaN}'):
        if raw.endswith(b"NaN}"):
            continue  # canonical() refuses NaN: not a state that can be hashed either way
        assert canonical_state(raw)[0] == canonical(json.loads(raw))
    # A number-like string is not a number.
    assert canonical_state(b'{"b":"1.5e3","a":"\\"2.0"}')[0] == b'{"a":"\\"2.0","b":"1.5e3"}'
