"""Array literals for the write path's multi-row inserts on PostgreSQL (adapters/sql.py
`array_literal`): whatever the values, PostgreSQL reads back exactly the values given (NUL in
text replaced by U+FFFD, as everywhere on PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.sql import array_literal
from tests.conftest import POSTGRES_URL, require_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def conn() -> Iterator[psycopg.Connection[Any]]:
    require_postgres()
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        yield connection


def read_back(conn: psycopg.Connection[Any], values: list[Any], kind: str) -> list[Any]:
    row = conn.execute(f"SELECT %s::text::{kind}[]", (array_literal(values),)).fetchone()
    assert row is not None
    return list(row[0])


texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), texts), max_size=12))
def test_text_reads_back_as_given(conn: psycopg.Connection[Any], values: list[Any]) -> None:
    expected = [v.replace("\x00", "\ufffd") if v is not None else None for v in values]
    assert read_back(conn, values, "text") == expected


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), max_size=12))
def test_bigints_read_back_as_given(conn: psycopg.Connection[Any], values: list[Any]) -> None:
    assert read_back(conn, values, "bigint") == values


@settings(max_examples=80, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=8))
def test_bytes_read_back_as_given(conn: psycopg.Connection[Any], values: list[bytes]) -> None:
    assert [bytes(v) for v in read_back(conn, values, "bytea")] == values


def test_uuids_and_awkward_text_read_back_as_given(conn: psycopg.Connection[Any]) -> None:
    ids = [uuid.uuid4() for _ in range(3)]
    assert read_back(conn, ids, "uuid") == ids
    awkward = ['a"b', "c\\d", "{e,f}", "NULL", "", " g ", "h\ni", "ж\t"]
    assert read_back(conn, awkward, "text") == awkward
    assert read_back(conn, [None, "NULL"], "text") == [None, "NULL"]
    with pytest.raises(TypeError):
        array_literal([1.5])


def _one_by_one(values: list[Any]) -> str:
    from adapters.sql import _element

    return "{" + ",".join(map(_element, values)) + "}"


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.lists(texts, max_size=12),
        st.lists(st.integers(-(2**63), 2**63 - 1), max_size=12),
        st.lists(st.binary(max_size=32), max_size=8),
        st.lists(st.uuids(), max_size=8),
    )
)
def test_a_column_of_one_type_is_written_as_element_by_element(values: list[Any]) -> None:
    # The one-join path for a column of one type writes exactly what the element path does
    # (pure: no database needed).
    assert array_literal(values) == _one_by_one(values)


@settings(max_examples=150, deadline=None)
@given(st.lists(texts, min_size=1, max_size=12))
def test_a_column_of_text_only_reads_back_as_given(
    conn: psycopg.Connection[Any], values: list[str]
) -> None:
    assert read_back(conn, values, "text") == [v.replace("\x00", "\ufffd") for v in values]
