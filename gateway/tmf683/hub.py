"""TMF683 event subscriptions: ``POST /hub`` registers a listener callback, ``DELETE /hub/{id}``
removes it. Deliveries go through the ``webhooks`` actor like the native ones (retries, dead
letters, signature headers), in the TMF683 event shape (``actors.party_interaction``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request, Response

from actors import party_interaction as pi
from actors.errors import Invalid, SubscriptionNotFound
from actors.events import EventType

from ..routes import Runtime
from ..schemas import callback_allowed
from .routes import ERRORS, TAG, TmfActor, answer, body_doc, json_body, tmf_principal

router = APIRouter(prefix=f"{pi.BASE}/hub", tags=[TAG], dependencies=[Depends(tmf_principal)])

FORMAT = "tmf683"
# TMF683 event type -> the journal's public event types it is made of
NATIVE_TYPES: dict[str, tuple[str, ...]] = {
    "partyInteractionCreateEvent": ("created",),
    "partyInteractionStatusChangeEvent": ("statusChanged",),
    "partyInteractionDeleteEvent": ("deleted",),
    pi.ATTRIBUTE_VALUE_CHANGE: tuple(t.value for t in EventType if t.value not in pi.EVENT_TYPES),
}


def event_types(query: str | None) -> list[str]:
    """The journal event types a TMF query asks for: ``eventType=A,B`` (or repeated); empty: all.
    Any other term is refused (400) rather than ignored."""
    if not query:
        return []
    out: list[str] = []
    for name, value in parse_qsl(query.lstrip("?"), keep_blank_values=True):
        if name != "eventType":
            raise Invalid(f"the hub query supports eventType only, not {name!r}", "query")
        for t in (v.strip() for v in value.split(",") if v.strip()):
            if t not in NATIVE_TYPES:
                raise Invalid(f"unknown eventType {t!r} (known: {', '.join(NATIVE_TYPES)})", "query")
            out.extend(NATIVE_TYPES[t])
    return out


def subscription(sub: dict[str, Any], query: str | None) -> dict[str, Any]:
    out = {"id": sub["id"], "callback": sub["callback"]}
    if query is not None:
        out["query"] = query
    return out


@router.post("", status_code=201, summary="Register a listener", responses=ERRORS,
             response_description="The subscription (EventSubscription), with `Location`.",
             openapi_extra=body_doc("EventSubscriptionInput"))
async def register_listener(request: Request, rt: Runtime, actor: TmfActor) -> Response:
    """`callback` (http or https, no credentials) gets the TMF683 events journaled from now on, each
    a POST of `{eventId, eventTime, eventType, event: {partyInteraction}}`. `query` may be
    `eventType=partyInteractionStatusChangeEvent,...`; empty: all four."""
    body = await json_body(request)
    callback, query = body.get("callback"), body.get("query")
    if not isinstance(callback, str) or not callback:
        raise Invalid("missing mandatory attribute: callback", "callback")
    if query is not None and not isinstance(query, str):
        raise Invalid("query must be a string", "query")
    try:
        callback_allowed(callback)
    except ValueError as exc:
        raise Invalid(f"callback {exc}", "callback") from None
    sub = await rt.webhooks.subscribe.remote(callback, None, event_types(query), [], None, FORMAT, query)
    return answer(subscription(sub, query), 201, {"Location": f"{pi.BASE}/hub/{sub['id']}"})


@router.delete("/{id}", status_code=204, summary="Unregister a listener", responses=ERRORS)
async def unregister_listener(id: str, rt: Runtime, actor: TmfActor) -> Response:
    """Stops its deliveries (pending ones and dead letters go too). Only the hub's own
    subscriptions: a native one is 404 here."""
    fmt, _ = await rt.webhooks.subscription_format.remote(id)
    if fmt != FORMAT:
        raise SubscriptionNotFound(f"No subscription {id!r}", "id")
    await rt.webhooks.unsubscribe.remote(id)
    return Response(status_code=204)
