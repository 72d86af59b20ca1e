"""The pipeline's errors as HTTP answers: 404 unknown, 409 illegal now, 422 invalid.

Every error body is ``{"detail": ..., "errors": [...]}``; the message is the pipeline's
own, which names what is wrong and what would be valid.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from connector.api.schemas import ErrorBody
from connector.config.errors import ConfigError
from connector.domain.currency import MissingRate
from connector.pipeline.build.build import BuildError
from connector.pipeline.credits import CreditError, IdempotencyConflict
from connector.pipeline.reconcile.reconcile import ReconcileError
from connector.pipeline.review.approve import ApprovalError
from connector.pipeline.review.lifecycle import LifecycleError
from connector.registries import UnknownPluginError


class NotFound(LookupError):
    """Nothing the caller may see has that id (it may exist for another tenant)."""


class BadReportRequest(ValueError):
    """A report request the pipeline refused (range, grouping, customer)."""


class BadFilter(ValueError):
    """A list filter that cannot be read (a date or timestamp that is neither)."""


class Conflict(Exception):
    """Not possible with the thing as it is now (e.g. a Draft has no UBL yet)."""


class Forbidden(PermissionError):
    """The key is valid but its scope does not allow this."""


def _error(status: int, detail: str, errors: list[str] | None = None, **headers: str):
    body = ErrorBody(detail=detail, errors=errors or []).model_dump()
    return JSONResponse(body, status_code=status, headers=headers or None)


def _field_errors(exc: RequestValidationError) -> list[str]:
    found = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()))
        found.append(f"{where}: {error.get('msg', 'invalid')}")
    return found


# Exceptions by the status they answer with; the first match wins.
_STATUS: list[tuple[type[BaseException], int]] = [
    (NotFound, 404),
    (ReconcileError, 404),
    (Forbidden, 403),
    (ApprovalError, 409),
    (BuildError, 409),
    (LifecycleError, 409),
    (Conflict, 409),
    (IdempotencyConflict, 409),  # a CreditError, but the request itself is valid
    (CreditError, 422),
    (MissingRate, 422),
    (UnknownPluginError, 422),
    (ConfigError, 422),
    (BadReportRequest, 422),
    (BadFilter, 422),
]


def install_handlers(app: FastAPI) -> None:
    """Answer the pipeline's errors, and invalid input, in the one error shape."""

    async def known(_: Request, exc: Exception) -> JSONResponse:
        status = next(code for kind, code in _STATUS if isinstance(exc, kind))
        return _error(status, str(exc))

    for kind, _ in _STATUS:
        app.add_exception_handler(kind, known)

    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        return _error(422, "invalid request: " + "; ".join(errors), errors)

    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 400:  # a body FastAPI cannot parse: invalid input like any other
            return _error(422, f"invalid request: {exc.detail}", [f"body: {exc.detail}"])
        return _error(exc.status_code, str(exc.detail), **headers)

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error codes an operation can answer with."""
    described = {
        401: "No key, a malformed, unknown or revoked key.",
        403: "The key's scope does not allow this.",
        404: "No such thing for this key's tenant (or, for a customer key, its customer).",
        409: "Not allowed in the thing's current state (a statement's status; an "
        "idempotency key already used for a different request).",
        422: "Invalid input; `detail` says which field and what would be valid.",
    }
    return {code: {"model": ErrorBody, "description": described[code]} for code in codes}
