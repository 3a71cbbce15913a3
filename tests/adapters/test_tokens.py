"""Access tokens: a verified token is remembered by its exact text, never by its claims, and
its expiry is checked on every call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.tokens import InvalidToken, Tokens

NOW = datetime(2026, 9, 2, 5, 0, tzinfo=UTC)


def issue(tokens: Tokens) -> str:
    token, _ = tokens.issue(
        person_id="t1", org_id="sght", kind="staff", roles=["teacher"], epoch=0, now=NOW
    )
    return token


def test_a_remembered_token_still_expires() -> None:
    tokens = Tokens("s" * 32, minutes=30)
    token = issue(tokens)
    assert tokens.decode(token, NOW).person_id == "t1"
    assert tokens.decode(token, NOW + timedelta(minutes=29)).person_id == "t1"
    with pytest.raises(InvalidToken):
        tokens.decode(token, NOW + timedelta(minutes=30))


def test_a_forged_signature_is_refused_after_the_real_token_was_seen() -> None:
    tokens = Tokens("s" * 32, minutes=30)
    token = issue(tokens)
    tokens.decode(token, NOW)
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(InvalidToken):
        tokens.decode(forged, NOW)
    # Another secret (a restarted server with a new key) does not accept the old token.
    with pytest.raises(InvalidToken):
        Tokens("t" * 32, minutes=30).decode(token, NOW)
