"""Every error is application/problem+json with a stable code and Russian title/detail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.recorders import KeyAlreadyUsed
from adapters.roster import RosterInvalid
from adapters.service.entries import EntriesRefused
from adapters.storage import STORE_BUSY
from adapters.text import russian_message
from domain.errors import RuleViolation

STATUS = {
    "forbidden": 403,
    "not-found": 404,
    "year-closed": 409,
    "year-open": 409,
    "conflict": 409,
    "integrity-broken": 409,
}

_HTTP_CODES = {
    401: ("unauthenticated", "Требуется вход в систему"),
    403: ("forbidden", "Недостаточно прав"),
    404: ("not-found", "Не найдено"),
    405: ("method-not-allowed", "Метод не поддерживается"),
    409: ("conflict", "Конфликт"),
    429: ("too-many-requests", "Слишком много попыток"),
}


class Unauthenticated(Exception):
    def __init__(self, detail: str = "Нужен действующий токен доступа") -> None:
        super().__init__(detail)
        self.detail = detail


class TooManyAttempts(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://ejournal.local/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


RETRY_AFTER_SECONDS = 2


def _store_busy(request: Request, exc: Exception) -> JSONResponse:
    structlog.get_logger("ejournal").warning(
        "store.busy", error=type(exc).__name__, detail=str(exc)[:200]
    )
    response = problem(
        503,
        "store-busy",
        "Хранилище занято",
        "Хранилище не успело принять запрос; ничего не записано, повторите через "
        f"{RETRY_AFTER_SECONDS} с",
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def idempotency_in_flight(detail: str) -> JSONResponse:
    """409: the same key is being (or was just) processed by another request."""
    response = problem(409, "idempotency-in-flight", "Запрос с этим ключом ещё выполняется", detail)
    response.headers["Retry-After"] = "1"
    return response


def _loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def validation_error(error: Mapping[str, Any]) -> dict[str, str]:
    """One request validation error as {field, message}, the message in Russian (R-SEC-4):
    pydantic's English `msg` is never shown."""
    loc = tuple(error.get("loc") or ())
    if error.get("type") == "json_invalid":
        # FastAPI puts the character offset after "body": name the body, show the offset.
        where = next((p for p in loc[1:] if isinstance(p, int)), None)
        message = russian_message(error)
        if where is not None:
            message += f" (ошибка около символа {where})"
        return {"field": str(loc[0]) if loc else "body", "message": message}
    return {"field": _loc(loc) or "body", "message": russian_message(error)}


def install(app: FastAPI) -> None:
    @app.exception_handler(RuleViolation)
    def _rule(_: Request, exc: RuleViolation) -> JSONResponse:
        status = STATUS.get(exc.code, 422)
        errors = [{"field": exc.field, "message": exc.detail}] if exc.field else None
        if isinstance(exc, EntriesRefused):
            errors = exc.errors
        return problem(status, exc.code, exc.title, exc.detail, errors=errors)

    @app.exception_handler(KeyAlreadyUsed)
    def _key_used(_: Request, exc: KeyAlreadyUsed) -> JSONResponse:
        return idempotency_in_flight(
            "Запрос с этим Idempotency-Key уже записан другим обращением; повторите, чтобы "
            "получить его ответ"
        )

    for busy in STORE_BUSY:
        app.add_exception_handler(busy, _store_busy)

    @app.exception_handler(RosterInvalid)
    def _roster(_: Request, exc: RosterInvalid) -> JSONResponse:
        return problem(
            422,
            "validation-error",
            "Документ со списками не прошёл проверку",
            f"Найдено ошибок: {len(exc.errors)}; ничего не изменено",
            errors=exc.errors,
        )

    @app.exception_handler(RequestValidationError)
    def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [validation_error(e) for e in exc.errors()]
        return problem(
            422,
            "validation-error",
            "Запрос не прошёл проверку",
            "Исправьте поля: " + ", ".join(e["field"] for e in errors),
            errors=errors,
        )

    @app.exception_handler(Unauthenticated)
    def _unauth(_: Request, exc: Unauthenticated) -> JSONResponse:
        return problem(401, "unauthenticated", "Требуется вход в систему", exc.detail)

    @app.exception_handler(TooManyAttempts)
    def _too_many(_: Request, exc: TooManyAttempts) -> JSONResponse:
        response = problem(
            429,
            "too-many-attempts",
            "Слишком много попыток входа",
            f"Вход временно закрыт; повторите через {exc.seconds} с",
        )
        response.headers["Retry-After"] = str(exc.seconds)
        return response

    @app.exception_handler(StarletteHTTPException)
    def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # a body that is not JSON (or not UTF-8) at all
            return problem(
                422,
                "validation-error",
                "Запрос не прошёл проверку",
                "Тело запроса не читается: нужен JSON в кодировке UTF-8",
                errors=[{"field": "body", "message": "нечитаемое тело запроса"}],
            )
        code, title = _HTTP_CODES.get(exc.status_code, ("error", "Ошибка"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem(exc.status_code, code, title, detail)


_DESCRIPTIONS = {
    "400": "Тело запроса не читается",
    "401": "Нужен действующий токен (unauthenticated)",
    "403": "Роль или принадлежность записи не позволяют (forbidden)",
    "404": "Нет такой записи, или она скрыта (not-found)",
    "409": "Учебный год закрыт или ещё открыт, конфликт изменений, или хранилище не совпадает "
    "с подписанным манифестом (year-closed, year-open, conflict, integrity-broken)",
    "422": "Запрос не прошёл проверку или правило журнала (validation-error и др.)",
    "413": "Тело запроса больше допустимого (payload-too-large)",
    "429": "Слишком много попыток входа (too-many-attempts)",
    "503": "Хранилище занято, ничего не записано; повторите после Retry-After (store-busy)",
}


def document_errors(app: FastAPI, components: Mapping[str, dict[str, Any]] | None = None) -> None:
    """Publish every error answer in the OpenAPI as application/problem+json, per route:
    what any /api/ call may answer (413 payload-too-large, 422, 503 store-busy), for routes
    behind the login 401/403/404/409, and for the token route 401 and 429. `components`:
    schemas that routes refer to without FastAPI knowing them (a body written by hand)."""
    from fastapi.openapi.utils import get_openapi

    from api.schemas import Problem
    from domain.access import ACCESS

    # The token route's form is FastAPI's OAuth2PasswordRequestForm: its fields come without
    # descriptions, so the published schema gets them here.
    token_form = {
        "grant_type": "Способ входа: password (можно не передавать)",
        "username": "Имя пользователя (логин)",
        "password": "Пароль",
        "scope": "Не используется: права задаёт роль в списках",
        "client_id": "Не используется",
        "client_secret": "Не используется",
    }

    def describe_token_form(schema: dict[str, Any]) -> None:
        operation = schema.get("paths", {}).get("/api/v1/auth/token", {}).get("post", {})
        content = operation.get("requestBody", {}).get("content", {})
        for body in content.values():
            ref = body.get("schema", {}).get("$ref", "")
            form = schema.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {})
            for name, prop in form.get("properties", {}).items():
                if name in token_form:
                    prop["description"] = token_form[name]

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = Problem.model_json_schema()
        for name, component in (components or {}).items():
            if schemas.setdefault(name, component) != component:
                raise ValueError(f"two OpenAPI schemas named {name}")
        content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                rule = ACCESS.get((method.upper(), path))
                public = rule is not None and rule.public
                api = path.startswith("/api/")
                # BodyLimit refuses any over-limit body, whatever the method (413); every
                # /api/ call reads or writes the store, which may be busy (503), and so does
                # the projections' health.
                codes = ["413", "422", "503"] if api else []
                if path == "/health/projections":
                    codes += ["503"]
                if api and not public:
                    codes += ["401", "403", "404", "409"]
                if path == "/api/v1/auth/token":
                    codes += ["401", "429"]
                responses = operation.setdefault("responses", {})
                for code in codes:
                    responses[code] = {"description": _DESCRIPTIONS[code], "content": content}
        describe_token_form(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
