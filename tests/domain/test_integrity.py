"""Canonical JSON, chained event hashes and the RFC 6962 Merkle tree."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.integrity import GENESIS, canonical, event_hash, event_hash_of_canonical, merkle_root

# Certificate Transparency's published test vectors (RFC 6962 reference implementation).
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


@pytest.mark.parametrize("n", range(1, 9))
def test_merkle_root_matches_the_rfc_6962_test_vectors(n: int) -> None:
    assert merkle_root(LEAVES[:n]) == ROOTS[n - 1]


def test_empty_tree_is_the_hash_of_nothing() -> None:
    assert merkle_root([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_canonical_json_sorts_keys_and_keeps_cyrillic() -> None:
    assert canonical({"b": 1, "a": "отметка", "c": [1, {"z": None, "y": True}]}) == (
        '{"a":"отметка","b":1,"c":[1,{"y":true,"z":null}]}'.encode()
    )


def test_a_hash_depends_on_content_and_on_the_previous_one() -> None:
    first = event_hash(stream="s", version=1, topic="t", state={"v": 4}, previous=GENESIS)
    assert first == event_hash(stream="s", version=1, topic="t", state={"v": 4}, previous=GENESIS)
    assert first != event_hash(stream="s", version=1, topic="t", state={"v": 5}, previous=GENESIS)
    second = event_hash(stream="s", version=2, topic="t", state={"v": 5}, previous=first)
    assert second != event_hash(stream="s", version=2, topic="t", state={"v": 5}, previous=GENESIS)


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    state=st.dictionaries(st.text(max_size=10), _json, max_size=6),
    topic=st.text(min_size=1, max_size=30),
    version=st.integers(1, 2**31),
)
def test_the_hash_of_canonical_parts_is_the_hash_of_the_event(
    state: dict[str, object], topic: str, version: int
) -> None:
    """The archive check hashes an exported line's own bytes: they must be what `event_hash`
    hashes, for any state (nested keys named "stream" included) and any topic text."""
    stream = "0f8fad5b-d9cb-469f-a165-70867728950e"
    previous = "ab" * 32
    expected = event_hash(
        stream=stream, version=version, topic=topic, state=state, previous=previous
    )
    assert (
        event_hash_of_canonical(
            stream=stream.encode(),
            version=str(version).encode(),
            topic=canonical(topic),
            state=canonical(state),
            previous=previous.encode(),
        )
        == expected
    )


def _rfc_6962(leaves: list[bytes]) -> bytes:
    """MTH as RFC 6962 §2.1 defines it: split at the largest power of two below n."""
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _rfc_6962(leaves[:k]) + _rfc_6962(leaves[k:])).digest()


@pytest.mark.parametrize("n", range(1, 70))
def test_the_level_by_level_tree_is_the_rfc_tree(n: int) -> None:
    leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(n)]
    assert merkle_root(leaves) == _rfc_6962(leaves).hex()
