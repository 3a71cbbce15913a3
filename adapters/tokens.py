"""Signed, expiring access tokens (JWT, HS256). Revocation is checked against the store."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt


@dataclass(frozen=True)
class TokenClaims:
    person_id: str
    org_id: str
    kind: str
    roles: tuple[str, ...]
    epoch: int
    jti: str
    expires_at: datetime
    # When the sign-in happened (a page session slides from it, up to its maximum length).
    started_at: datetime | None = None


class InvalidToken(Exception):
    pass


class Tokens:
    algorithm = "HS256"

    def __init__(self, secret: str, minutes: int) -> None:
        self.secret = secret
        self.lifetime = timedelta(minutes=minutes)
        # Tokens whose signature verified, by their exact text (signature included): every
        # API call presents one, and PyJWT's checks cost more than the rest of a call's
        # authentication. Failures are not kept; expiry is checked on every call.
        self._verified = functools.lru_cache(maxsize=2048)(self._verify)

    def issue(
        self,
        *,
        person_id: str,
        org_id: str,
        kind: str,
        roles: list[str] | tuple[str, ...],
        epoch: int,
        now: datetime,
        jti: str | None = None,
        expires_at: datetime | None = None,
        started_at: datetime | None = None,
    ) -> tuple[str, TokenClaims]:
        """A new token; a page session renews its own (same `jti`, a later expiry)."""
        claims = TokenClaims(
            person_id,
            org_id,
            kind,
            tuple(roles),
            epoch,
            jti or uuid.uuid4().hex,
            expires_at or now + self.lifetime,
            started_at or now,
        )
        assert claims.started_at is not None
        token = jwt.encode(
            {
                "sub": person_id,
                "org": org_id,
                "kind": kind,
                "roles": list(roles),
                "epoch": epoch,
                "jti": claims.jti,
                "iat": int(now.timestamp()),
                "ses": int(claims.started_at.timestamp()),
                "exp": int(claims.expires_at.timestamp()),
            },
            self.secret,
            algorithm=self.algorithm,
        )
        return token, claims

    def _verify(self, token: str) -> dict[str, Any]:
        """The payload of a token whose signature verifies (time is checked by `decode`)."""
        try:
            data: dict[str, Any] = jwt.decode(
                token,
                self.secret,
                algorithms=[self.algorithm],
                # Time claims are checked against the injected clock, not the wall's.
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["sub", "org", "exp", "jti"],
                },
            )
        except jwt.PyJWTError as e:
            raise InvalidToken(str(e)) from None
        return data

    def decode(self, token: str, now: datetime) -> TokenClaims:
        data = self._verified(token)  # shared between calls: read, never changed
        expires_at = datetime.fromtimestamp(int(data["exp"]), tz=now.tzinfo)
        # Expiry against the injected clock, so tests can move time.
        if expires_at <= now:
            raise InvalidToken("expired")
        return TokenClaims(
            str(data["sub"]),
            str(data["org"]),
            str(data.get("kind", "")),
            tuple(data.get("roles", [])),
            int(data.get("epoch", 0)),
            str(data["jti"]),
            expires_at,
            datetime.fromtimestamp(int(data.get("ses", data.get("iat", 0))), tz=now.tzinfo),
        )
