"""Native API routes under /api/v1."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response

from actors.errors import Invalid
from actors.journal import Query as JournalQuery
from actors.models import Channel, Id, Status
from routing.client import RuntimeClient
from routing.models import IdempotencyKey, RequestCreate

from .auth import Canceller, Creator, Reader, Role, check_create, scoped, visible
from .metrics import Metrics
from .schemas import CancelBody, RequestRead

JSON = "application/json"

router = APIRouter(prefix="/api/v1", tags=["requests"])


# async: a plain `def` dependency would run in FastAPI's thread pool on every request (~0.2 ms of CPU)
async def runtime(request: Request) -> RuntimeClient:
    return request.app.state.runtime


async def metrics(request: Request) -> Metrics:
    return request.app.state.metrics


Runtime = Annotated[RuntimeClient, Depends(runtime)]
AppMetrics = Annotated[Metrics, Depends(metrics)]
RequestId = Annotated[Id, Path(description="The request id.")]

PROBLEMS = {
    401: {"description": "No bearer token, or not a valid one (problem details, `WWW-Authenticate: Bearer`)."},
    403: {"description": "This key's role may not use this route (problem details)."},
    429: {"description": "Over this key's rate limit; retry after `Retry-After` seconds (problem details)."},
    404: {"description": "No request with this id (problem details)."},
    409: {"description": "Invalid transition or Idempotency-Key conflict (problem details)."},
    422: {"description": "A field is invalid; `errors[].field` names it (problem details)."},
    503: {"description": "The runtime is not ready, or overloaded (`runtime.overloaded`: nothing was "
                 "created); retry after `Retry-After` (problem details)."},
    504: {"description": "A request host did not answer within `SWITCHBOARD_CALL_TIMEOUT_SECONDS` "
                 "(`runtime.timeout`); the detail says whether the call had left the gateway, and so "
                 "whether it may still be done (problem details)."},
}


@router.post(
    "/requests",
    status_code=201,
    response_model=RequestRead,
    responses={200: {"model": RequestRead, "description": "The same Idempotency-Key and body were seen before: "
                     "the first request, unchanged."}, **PROBLEMS},
    summary="Submit a request",
)
async def create_request(
    body: RequestCreate,
    request: Request,
    m: AppMetrics,
    who: Creator,
    idempotency_key: Annotated[IdempotencyKey | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    """Validate, route and journal a new request. Answers 201 with `Location` once the request is on
    disk; fulfilment goes on in the background (follow it with GET). A channel key creates requests
    of its own `channel`, a customer key requests its party is a related party of. An
    `Idempotency-Key` is scoped to the caller: two callers using the same key do not collide."""
    check_create(who, body.channel, [p.id for p in body.relatedParty])
    return created_answer(m, body, *await request.app.state.runtime.create(body, idempotency_key, who.actor))


def created_answer(m: Metrics, body: RequestCreate, created: bool, rid: str, state: bytes) -> Response:
    """A create's answer: 201 with the request and its ``Location`` (counted), or 200 with the
    request an Idempotency-Key made before."""
    if created:
        m.created.labels(body.requestType, body.channel.value).inc()
    return Response(state, status_code=201 if created else 200, media_type=JSON,
                    headers={"Location": f"/api/v1/requests/{rid}"})


FIELDS = frozenset(RequestRead.model_fields)
ALWAYS = ("id", "href")


async def fields_query(fields: Annotated[str | None, Query(
        max_length=1000, description="Comma-separated attributes to return (`id` and `href` always come); "
        "e.g. `fields=status,sla,timeline`.")] = None) -> list[str] | None:
    if fields is None:
        return None
    names = [f.strip() for f in fields.split(",") if f.strip()]
    unknown = [f for f in names if f not in FIELDS]
    if unknown:
        raise Invalid(f"unknown attribute(s) {', '.join(unknown)} (known: {', '.join(sorted(FIELDS))})", "fields")
    return [*ALWAYS, *(f for f in names if f not in ALWAYS)]


Fields = Annotated[list[str] | None, Depends(fields_query)]


def select(body: bytes | str, fields: list[str] | None) -> bytes | str:
    if fields is None:
        return body
    full = json.loads(body)
    return json.dumps({f: full[f] for f in fields if f in full})


@router.get("/requests/{request_id}", response_model=RequestRead, responses=PROBLEMS, summary="Status of a request")
async def get_request(request_id: RequestId, rt: Runtime, fields: Fields, who: Reader) -> Response:
    """Answered by the request actor itself while the request is open (reactivated if it was
    passivated), from the journal once it is closed: the same shape either way. `sla.timeLeft` is
    as of the answer. A customer key sees its party's requests only, a channel key its channel's:
    any other id answers 404, as an unknown one does."""
    state = await rt.status(request_id)
    visible(who, request_id, state)
    return Response(select(state, fields), media_type=JSON)


@router.get("/requests", response_model=list[RequestRead], summary="List requests",
            responses={200: {"headers": {"X-Total-Count": {"description": "Matching requests in all.",
                                                              "schema": {"type": "integer"}}}}})
async def list_requests(
    rt: Runtime,
    response: Response,
    fields: Fields,
    who: Reader,
    status: Status | None = None,
    requestType: Annotated[str | None, Query(max_length=64)] = None,
    channel: Channel | None = None,
    party_id: Annotated[Id | None, Query(alias="relatedParty.id")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Response:
    """Newest first, from the journal's current-state rows. `X-Total-Count` gives the number of
    matching requests, `X-Result-Count` the number in this page. A customer key lists its own
    party's requests (`relatedParty.id` is forced to it), a channel key its channel's."""
    if who.kind is Role.customer:
        party_id = who.party_id
    elif who.kind is Role.channel:
        channel = Channel(who.channel)
    q = JournalQuery(status=status.value if status else None, requestType=requestType,
                     channel=channel.value if channel else None, partyId=party_id, offset=offset, limit=limit)
    items, total = await rt.list(q)
    if fields is not None:
        items = [select(item, fields) for item in items]
    return Response(f"[{','.join(items)}]", media_type=JSON,
                    headers={"X-Total-Count": str(total), "X-Result-Count": str(len(items))})


@router.post("/requests/{request_id}/cancel", response_model=RequestRead, responses=PROBLEMS,
             summary="Cancel a request")
async def cancel_request(request_id: RequestId, rt: Runtime, who: Canceller,
                         body: Annotated[CancelBody | None, Body()] = None) -> Response:
    """Cancels the request and every activity still running. 409 when the request is final or
    already resolved. Customer and channel keys cancel only the requests they can read."""
    if scoped(who):
        visible(who, request_id, await rt.status(request_id))
    reason = body.reason if body else None
    return Response(await rt.act(request_id, "cancel", who.actor, {"reason": reason}), media_type=JSON)
