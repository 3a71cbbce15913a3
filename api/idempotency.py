"""`Idempotency-Key` on every POST under /api/v1 (API.md 1.1, ADR 13).

The key is inserted by the recorder in the transaction that stores the request's first
events, so a crash between writing and answering cannot record twice on retry; the answer
is added to that row once it is known and replayed to a retry of the same request. A
request that wrote nothing is not remembered and may be retried with its key.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta
from typing import Any

import structlog
from anyio import to_thread
from fastapi.responses import JSONResponse, Response
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.recorders import IdempotencyClaim
from adapters.service.core import idempotency_claim
from api.bootstrap import Services
from api.errors import idempotency_in_flight, problem
from api.pages.session import COOKIE

HEADER = b"idempotency-key"
# A key whose answer was never stored (the server died between commit and answer) is
# answered from its stored position once this long has passed since the request began;
# before, its answer may still be on the way (the gap is milliseconds when all is well).
ORPHAN_AFTER = timedelta(seconds=5)
KEEP_FOR = timedelta(hours=48)

log = structlog.get_logger("ejournal.idempotency")


def valid_key(key: bytes) -> bool:
    return 1 <= len(key) <= 255 and all(0x20 <= b <= 0x7E for b in key)


class Keys:
    """The idempotency_keys table."""

    def __init__(self, services: Services) -> None:
        self.db = services.db
        self.clock = services.clock

    def find(self, scope: str, key: str) -> tuple[str, str, int, int | None, str | None] | None:
        with self.db.read() as cur:
            cur.execute(
                "SELECT fingerprint, created_at, position, status, body FROM idempotency_keys "
                "WHERE scope = ? AND idem_key = ?",
                (scope, key),
            )
            row = cur.fetchone()
        if row is None:
            return None
        return str(row[0]), str(row[1]), int(row[2]), row[3], row[4]

    def answer(self, claim: IdempotencyClaim, status: int, body: bytes) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE idempotency_keys SET status = ?, body = ? WHERE scope = ? AND idem_key = ?",
                (status, body.decode("utf-8", "replace"), claim.scope, claim.key),
            )

    def forget_old(self) -> None:
        cutoff = (self.clock.now() - KEEP_FOR).isoformat()
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (cutoff,))


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services
        self.keys = Keys(services)
        self._in_flight: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._claims = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].startswith("/api/v1/")
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = headers.get(HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not valid_key(key):
            await problem(
                422,
                "validation-error",
                "Запрос не прошёл проверку",
                "Заголовок Idempotency-Key: от 1 до 255 печатных символов ASCII",
                errors=[{"field": "header.Idempotency-Key", "message": "недопустимый ключ"}],
            )(scope, receive, send)
            return
        user = self._user(headers.get(b"authorization", b""), headers.get(b"cookie", b""))
        if user is None:  # the route answers 401 itself
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        fingerprint = hashlib.sha256(
            b"\0".join(
                [scope["method"].encode(), scope["path"].encode(), scope["query_string"], body]
            )
        ).hexdigest()
        text_key = key.decode("ascii")
        found = await to_thread.run_sync(self.keys.find, user, text_key)
        if found is not None:
            await self._replay(scope, send, found, fingerprint)
            return
        mark = (user, text_key)
        with self._lock:
            busy = mark in self._in_flight
            self._in_flight.add(mark)
        if busy:
            await _in_flight()(scope, receive, send)
            return
        claim = IdempotencyClaim(user, text_key, fingerprint, self.services.clock.now().isoformat())
        token = idempotency_claim.set(claim)
        status: list[int] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, _replayed(body, receive), capture)
        finally:
            idempotency_claim.reset(token)
            with self._lock:
                self._in_flight.discard(mark)
        if claim.stored and status:
            try:
                await to_thread.run_sync(self.keys.answer, claim, status[0], b"".join(chunks))
            except Exception:  # the write stands; a retry gets an answer from the position
                log.warning("idempotency.answer_not_stored", key_scope=user)
        self._claims += 1
        if self._claims % 1000 == 1:
            try:
                await to_thread.run_sync(self.keys.forget_old)
            except Exception:
                log.warning("idempotency.cleanup_failed")

    def _user(self, authorization: bytes, cookie: bytes = b"") -> str | None:
        """The key's owner: a bearer token's or a page session's person."""
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token:
            token = _session_cookie(cookie) or ""
        if not token:
            return None
        try:
            claims = self.services.tokens.decode(token.strip(), self.services.clock.now())
        except Exception:
            return None
        return f"{claims.org_id}:{claims.person_id}"

    async def _replay(
        self,
        scope: Scope,
        send: Send,
        found: tuple[str, str, int, int | None, str | None],
        fingerprint: str,
    ) -> None:
        stored_print, created_at, position, status, body = found
        response: Response
        if stored_print != fingerprint:
            response = problem(
                422,
                "idempotency-key-reused",
                "Ключ идемпотентности уже использован",
                "Этот Idempotency-Key уже был у другого запроса; для нового запроса нужен новый "
                "ключ",
            )
        elif status is None:
            age = self.services.clock.now() - datetime.fromisoformat(created_at)
            if age < ORPHAN_AFTER:
                response = _in_flight()
            else:
                # Written, but the answer was lost with its server: say so, with the position.
                response = JSONResponse({"position": position, "replayed": True})
                response.headers["Idempotent-Replayed"] = "true"
        else:
            # The first answer's bytes again.
            problem_json = int(status) >= 400
            response = Response(
                (body or "").encode("utf-8"),
                status_code=int(status),
                media_type="application/problem+json" if problem_json else "application/json",
                headers={"Idempotent-Replayed": "true"},
            )
        await response(scope, _replayed(b""), send)


def _session_cookie(header: bytes) -> str | None:
    return cookie_parser(header.decode("latin-1")).get(COOKIE) if header else None


def _in_flight() -> Any:
    return idempotency_in_flight(
        "Запрос с этим Idempotency-Key ещё обрабатывается; повторите чуть позже"
    )


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)
        elif message["type"] == "http.disconnect":
            return b"".join(chunks)


def _replayed(body: bytes, then: Receive | None = None) -> Receive:
    """The body already read, then whatever the client sends next (a disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive
