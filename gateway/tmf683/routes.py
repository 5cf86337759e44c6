"""TMF683 Party Interaction Management v4 at ``/tmf-api/partyInteraction/v4``: the requests again, as
PartyInteraction resources (docs/tmf683.md). Errors answer in the TMF Error shape
(``gateway/problems.py``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response

from actors import lifecycle
from actors import party_interaction as pi
from actors.errors import Conflict, Invalid, NotFound
from actors.journal import Query as JournalQuery
from actors.models import FINAL_STATUSES, Status

from .. import auth
from ..auth import Principal, TmfUser
from ..keystore import Role
from ..routes import Runtime
from . import filters
from .mapping import to_changes, to_request

JSON = "application/json;charset=utf-8"
TAG = "TMF683 partyInteraction"
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100

async def tmf_principal(request: Request, p: TmfUser) -> Principal:
    """Every TMF683 route: a channel, operator or admin key (``gateway.auth``); kept for scoping."""
    request.state.principal = p
    return p


router = APIRouter(prefix=pi.BASE, tags=[TAG], dependencies=[Depends(tmf_principal)])


async def tmf_actor(p: Annotated[Principal, Depends(tmf_principal)]) -> str:
    """Who acts through TMF683, as timelines name it."""
    return p.actor


TmfActor = Annotated[str, Depends(tmf_actor)]
InteractionId = Annotated[str, Path(max_length=128, description="The PartyInteraction (request) id.")]

ERRORS = {code: {"description": f"{text} (TMF Error: code, reason, message, status, referenceError)."}
          for code, text in ((400, "Bad Request: a mandatory attribute missing, a malformed body or query"),
                             (404, "No PartyInteraction with this id"),
                             (405, "Method not allowed"),
                             (409, "Conflict: a refused status change, or a change of what the request is"),
                             (503, "The runtime is not ready or overloaded; retry after `Retry-After`"),
                             (504, "A request host did not answer in time (`runtime.timeout`)"))}


def body_doc(definition: str, media: str = "application/json") -> dict[str, Any]:
    """OpenAPI of a body read by hand (so that its errors are TMF ones): the spec's definition by name."""
    return {"requestBody": {"required": True, "content": {media: {"schema": {
        "type": "object", "description": f"A {definition} of the TMF683 v4 spec (docs/tmf683.md)."}}}}}


class Malformed(Invalid):
    code = "request.malformed"
    title = "Malformed body"


MAX_BODY = 256 * 1024


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise Malformed(f"the body is over {MAX_BODY // 1024} KiB", "body")
    try:
        body = json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Malformed(f"the body is not valid JSON: {exc}", "body") from None
    if not isinstance(body, dict):
        raise Malformed("the body must be a JSON object (a PartyInteraction)", "body")
    return body


def fields_of(request: Request) -> list[str] | None:
    raw = request.query_params.get("fields")
    if raw is None:
        return None
    return [f.strip() for f in raw.split(",") if f.strip()]


def select(resource: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """``fields=``: only the named attributes, nothing else."""
    if fields is None:
        return resource
    return {f: resource[f] for f in fields if f in resource}


def answer(resource: dict[str, Any], status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(resource, separators=(",", ":")), status_code=status_code, media_type=JSON,
                    headers=headers)


async def visible(rt, interaction_id: str, request: Request) -> dict[str, Any]:
    """The request's state, or 404 when it is unknown, was deleted here, or is not the caller's
    (a channel key sees its own channel's only)."""
    state = json.loads(await rt.status(interaction_id))
    if state.get("hidden"):
        raise NotFound(f"no PartyInteraction with id {interaction_id}", "id")
    try:
        auth.visible(request.state.principal, interaction_id, state)
    except NotFound:
        raise NotFound(f"no PartyInteraction with id {interaction_id}", "id") from None
    return state


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(f"{name} must be an integer, not {raw!r}", name) from None
    if not low <= value <= high:
        raise Invalid(f"{name} must be between {low} and {high}", name)
    return value


@router.get("/partyInteraction", summary="List or find PartyInteraction objects", responses=ERRORS,
            response_description="The page; `X-Total-Count` matching in all, `X-Result-Count` in this page.")
async def list_party_interactions(request: Request, rt: Runtime) -> Response:
    """Newest first. TMF630: `fields=`, `offset`/`limit` (default 100, at most 1000), and a filter on
    any top-level attribute (`status=held`, `reason=...`) or dotted path (`channel.id=web`,
    `relatedParty.id=CUST-0001`), with `.gt`/`.gte`/`.lt`/`.lte`; a repeated filter is any of its
    values. Deleted PartyInteractions are not listed."""
    offset = _int(request, "offset", 0, 0, 1_000_000)
    limit = _int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    fields = fields_of(request)
    where = filters.conditions(request.query_params.multi_items())
    p = request.state.principal
    channel = p.channel if p.kind is Role.channel else None  # a channel key lists its own channel's
    items, total = await rt.list(JournalQuery(hidden=False, where=where, channel=channel, offset=offset,
                                              limit=limit))
    page = [select(pi.to_party_interaction(json.loads(s)), fields) for s in items]
    return Response(json.dumps(page, separators=(",", ":")), media_type=JSON,
                    headers={"X-Total-Count": str(total), "X-Result-Count": str(len(page))})


@router.post("/partyInteraction", status_code=201, summary="Creates a PartyInteraction", responses=ERRORS,
             response_description="The PartyInteraction, with `Location`.",
             openapi_extra=body_doc("PartyInteraction_Create"))
async def create_party_interaction(request: Request, actor: TmfActor) -> Response:
    """A new request: `reason`, `direction` and `channel` are mandatory; `id`, `href`, `status`,
    `creationDate` are the server's; `interactionDate` defaults to now. The request type and its
    characteristics come from the `interactionItem` whose `item.role` is `request`
    (`@referredType` the type, `characteristic` `[{name, value}]`); without one, an `inquiry`."""
    body = to_request(await json_body(request))
    created, rid, state = await request.app.state.runtime.create(body, None, actor)
    if created:
        request.app.state.metrics.created.labels(body.requestType, body.channel.value).inc()
    return answer(pi.to_party_interaction(json.loads(state)), 201, {"Location": pi.href(rid)})


@router.get("/partyInteraction/{id}", summary="Retrieves a PartyInteraction by ID", responses=ERRORS)
async def get_party_interaction(id: InteractionId, request: Request, rt: Runtime) -> Response:
    """The request as a PartyInteraction; `fields=` selects attributes."""
    return answer(select(pi.to_party_interaction(await visible(rt, id, request)), fields_of(request)))


def status_action(state: dict[str, Any], target: Any) -> tuple[str, dict[str, Any]] | None:
    """What a PATCH of ``status`` asks the request to do, checked against the lifecycle table: a
    client may cancel, close a resolved request (as the customer's confirmation) or reopen it
    (inProgress); every other status is the request's handling to set (409)."""
    if not isinstance(target, str) or target not in set(Status):
        raise Invalid(f"status must be one of {', '.join(Status)}, not {target!r}", "status")
    current = Status(state["status"])
    if target == current:
        return None
    lifecycle.check(state["id"], current, Status(target))  # InvalidTransition (409) if not in the table
    if target == Status.cancelled:
        return "cancel", {"reason": "cancelled through TMF683"}
    if current == Status.resolved and target == Status.closed:
        return "confirm", {"reason": "closed through TMF683"}
    if current == Status.resolved and target == Status.in_progress:
        return "reopen", {"reason": "reopened through TMF683"}
    raise Conflict(f"status {target} is set by the request's handling; a client may set cancelled, or closed or "
                   f"inProgress on a resolved request", "status")


@router.patch("/partyInteraction/{id}", summary="Updates partially a PartyInteraction", responses=ERRORS,
              openapi_extra=body_doc("PartyInteraction_Update", "application/merge-patch+json"))
async def patch_party_interaction(id: InteractionId, request: Request, rt: Runtime, actor: TmfActor) -> Response:
    """JSON merge patch (`application/merge-patch+json`; `application/json` is taken too) of the
    attributes of the spec's PartyInteraction_Update but the server's dates (400 for `id`, `href`,
    `direction`, `creationDate`, `statusChangeDate` and the extension attributes). A `status` change
    goes through the lifecycle table (409 when refused); the channel, request type and originator
    of a request cannot change (409)."""
    patch = await json_body(request)
    state = await visible(rt, id, request)
    changes = to_changes(state, patch)
    action = status_action(state, patch["status"]) if "status" in patch else None
    body: bytes | None = None
    if "interaction" in changes or "description" in changes:
        body = await rt.act(id, "update", actor, changes)
    if action is not None:
        body = await rt.act(id, action[0], actor, action[1])
    resource = pi.to_party_interaction(json.loads(body) if body is not None else state)
    return answer(resource)


@router.delete("/partyInteraction/{id}", status_code=204, summary="Deletes a PartyInteraction", responses=ERRORS)
async def delete_party_interaction(id: InteractionId, request: Request, rt: Runtime, actor: TmfActor) -> Response:
    """Cancels the request if it is still open, then hides it here (404 from now on; a `deleted`
    event). The journal keeps it, and the native API still shows it (`hidden: true`). A resolved
    request waits for its customer and cannot be cancelled: 409 until it is closed."""
    state = await visible(rt, id, request)
    status = Status(state["status"])
    if status not in FINAL_STATUSES:
        if not lifecycle.allowed(status, Status.cancelled):
            raise Conflict(f"request {id} is {status}: it waits for the customer's confirmation and cannot be "
                           f"cancelled; PATCH status closed first", "status")
        await rt.act(id, "cancel", actor, {"reason": "deleted through TMF683"})
    await rt.act(id, "hide", actor, {"reason": "deleted through TMF683"})
    return Response(status_code=204)
