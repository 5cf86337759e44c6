"""RFC 9457 problem details: every error the API answers is mapped here, in one place.

Under ``/tmf-api/`` the same errors answer in the TM Forum ``Error`` shape instead (``tmf_error``):
``code``, ``reason``, ``message``, ``status``, ``referenceError``; 422 becomes 400 there, as TMF630
has every invalid input a Bad Request."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import ray
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from actors.errors import Conflict, Invalid, NotFound, NotReady, SwitchboardError, TimedOut

from .auth import Forbidden, RateLimited, Unauthorized

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
TYPE_BASE = "https://switchboard.example/problems/"

STATUS_OF: list[tuple[type[SwitchboardError], int]] = [
    (Unauthorized, 401),
    (Forbidden, 403),
    (RateLimited, 429),
    (NotFound, 404),
    (Conflict, 409),
    (Invalid, 422),
    (NotReady, 503),
    (TimedOut, 504),
]


def problem(status: int, code: str, title: str, detail: str, instance: str | None = None,
            errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": TYPE_BASE + code, "title": title, "status": status, "detail": detail, "code": code}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field(loc: tuple | list) -> str:
    """``("body", "query", "eventTypes", 0)`` -> ``query.eventTypes.0``: only the first element says
    where the value came from (a body field may be called ``query``)."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


async def on_domain(request: Request, exc: SwitchboardError) -> JSONResponse:
    status = next((s for cls, s in STATUS_OF if isinstance(exc, cls)), 500)
    errors = [{"field": exc.field, "message": exc.detail}] if exc.field else None
    headers = {"Retry-After": "1"} if status in (503, 504) else None
    if isinstance(exc, Unauthorized):
        headers = {"WWW-Authenticate": 'Bearer realm="switchboard"'}
    elif isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    return problem(status, exc.code, exc.title, exc.detail, request.url.path, errors, headers)


async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errs = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errs):
        msg = next(e for e in errs if e.get("type") == "json_invalid").get("ctx", {}).get("error", "invalid JSON")
        return problem(400, "request.malformed", "Malformed JSON", f"The body is not valid JSON: {msg}",
                       request.url.path, [{"field": "body", "message": str(msg)}])
    errors = [{"field": _field(e["loc"]), "message": e["msg"]} for e in errs]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(422, "request.validation", "Invalid request", detail, request.url.path, errors)


async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {404: "http.not_found", 405: "http.method_not_allowed"}.get(exc.status_code, f"http.{exc.status_code}")
    return problem(exc.status_code, code, str(exc.detail), str(exc.detail), request.url.path,
                   headers=getattr(exc, "headers", None))


async def on_ray(request: Request, exc: ray.exceptions.RayError) -> JSONResponse:
    if isinstance(exc, SwitchboardError):  # a domain error raised in an actor arrives wrapped
        return await on_domain(request, exc)
    if isinstance(exc, ray.exceptions.RayTaskError):  # a bug in an actor: say so, log the cause's type
        # Not its message nor the remote traceback's text: either may quote a request's free text.
        log.error("actor error on %s: %s", request.url.path, type(exc.cause).__name__)
        return problem(500, "runtime.internal", "Internal error",
                       f"An actor failed handling this call ({type(exc.cause).__name__}); it is logged.",
                       request.url.path)
    # A host or the router died or restarted mid-call: the caller may retry (creates with an
    # Idempotency-Key are safe to retry; an acknowledged create is never lost).
    log.warning("runtime unavailable for %s: %s", request.url.path, type(exc).__name__)
    return problem(503, "runtime.unavailable", "Runtime unavailable",
                   f"The request runtime did not answer ({type(exc).__name__}); retry shortly.",
                   request.url.path, headers={"Retry-After": "1"})


TMF_PREFIX = "/tmf-api/"
TMF_JSON = "application/json;charset=utf-8"


def tmf_error(response: JSONResponse) -> JSONResponse:
    """A problem-details answer in the TM Forum Error shape (TMF630), for the ``/tmf-api/`` routes."""
    p = json.loads(response.body)
    status = 400 if response.status_code == 422 else response.status_code
    body = {"code": p["code"], "reason": p["title"], "message": p["detail"], "status": str(status),
            "referenceError": p["type"], "@type": "Error"}
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
    return JSONResponse(body, status_code=status, media_type=TMF_JSON, headers=headers)


Handler = Callable[[Request, Any], Awaitable[JSONResponse]]


def _faced(handler: Handler) -> Handler:
    async def handle(request: Request, exc: Any) -> JSONResponse:
        response = await handler(request, exc)
        return tmf_error(response) if request.url.path.startswith(TMF_PREFIX) else response
    return handle


HANDLERS: dict[type[Exception], Handler] = {
    SwitchboardError: _faced(on_domain),
    RequestValidationError: _faced(on_validation),
    StarletteHTTPException: _faced(on_http),
    ray.exceptions.RayError: _faced(on_ray),
}


def install(app: FastAPI) -> None:
    for cls, handler in HANDLERS.items():
        app.add_exception_handler(cls, handler)


async def answer(request: Request, exc: Exception) -> JSONResponse | None:
    """The answer the app's exception handlers give ``exc`` (chosen as Starlette chooses: the first
    class of its MRO with a handler), or None when none handles it."""
    for cls in type(exc).__mro__:
        handler = HANDLERS.get(cls)
        if handler is not None:
            return await handler(request, exc)
    return None
