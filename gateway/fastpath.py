"""``POST /api/v1/requests``, the route channel gateways call at high volume, answered in one ASGI
step when nothing about the call is unusual.

FastAPI's machinery (dependency resolution, the body parsed to a dict and validated again, the
exception middleware) costs about as much CPU as the create itself. When the call is ordinary (a
JSON body, a bearer token verified within the cache's time, a role allowed to create), this
middleware does what the route does: validate the body, check the caller's scope, take a token
from the rate limit, hand the create to the runtime client, answer 201/200 with ``Location``, count it.
Anything else (no or unknown token, a refused role, an invalid body or header, a scope or rate
limit refusal) goes on to FastAPI with the body untouched, which answers exactly as the route
always did: the errors have one implementation. An error of the runtime itself gets the problem
details the app's exception handlers give it (``problems.answer``).

It sits inside the body limits (``limits.BodyLimitMiddleware``) and the latency histogram, which
records it under the route's own template."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request

from actors.errors import SwitchboardError
from routing.models import IdempotencyKey, RequestCreate

from . import problems
from .auth import GROUPS, Authenticator, check_create
from .limits import read_body, replaying
from .routes import JSON, create_request, created_answer
from .routes import router as requests_router

PATH = "/api/v1/requests"
CREATORS = GROUPS["requests.create"]
_KEY = TypeAdapter(IdempotencyKey)
ROUTE = next(r for r in requests_router.routes if getattr(r, "endpoint", None) is create_request)  # its label


class FastCreate:
    def __init__(self, app, state: Any):
        """``state``: the app's state (``auth``, ``runtime``, ``metrics``), read when a call comes."""
        self.app = app
        self.state = state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            return await self.app(scope, receive, send)
        body = await read_body(receive)  # bounded already: BodyLimitMiddleware is outside
        if body is None:  # the client went away
            return
        replay = replaying(body, receive)
        create = self._ordinary(scope, body)
        if create is None:
            return await self.app(scope, replay, send)  # FastAPI answers, errors included
        scope["route"] = ROUTE  # as the router would set it: the latency histogram's label
        response = await self._create(scope, body, *create)
        await response(scope, replay, send)

    def _ordinary(self, scope, body: bytes) -> tuple[RequestCreate, str | None, Any] | None:
        """``(body, Idempotency-Key, principal)`` when the route would create, else None."""
        auth_header = key = content_type = None
        for name, value in scope["headers"]:
            if name == b"authorization" and auth_header is None:
                auth_header = value.decode("latin-1")
            elif name == b"idempotency-key" and key is None:
                key = value.decode("latin-1")
            elif name == b"content-type" and content_type is None:
                content_type = value.decode("latin-1")
        if auth_header is None or content_type is None or content_type.split(";")[0].strip().lower() != JSON:
            return None
        scheme, _, token = auth_header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        auth: Authenticator = self.state.auth
        who = auth.cached(token)
        if who is None or who.kind not in CREATORS:
            return None
        try:
            create = RequestCreate.model_validate_json(body)
            if key is not None:
                _KEY.validate_python(key)
            check_create(who, create.channel, [p.id for p in create.relatedParty])
            auth.limiter.take(who)  # the last check: a call sent on to FastAPI is charged there
        except (ValidationError, SwitchboardError):
            return None
        return create, key, who

    async def _create(self, scope, body: bytes, create: RequestCreate, key: str | None, who: Any) -> Response:
        try:
            outcome = await self.state.runtime.create(create, key, who.actor, body)
        except Exception as exc:
            answer = await problems.answer(Request(scope), exc)
            if answer is None:
                raise
            return answer
        return created_answer(self.state.metrics, create, *outcome)
