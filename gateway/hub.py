"""The hub: webhook subscriptions and the dead letters of their deliveries, kept by the ``webhooks``
actor (``actors/webhooks.py``)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from actors.errors import Invalid, SubscriptionNotFound

from .auth import HubOperator, HubUser, Principal, Role
from .routes import Runtime
from .schemas import DeadLetter, HubCreate, HubCreated, HubRead, Replay, callback_allowed

router = APIRouter(prefix="/api/v1/hub", tags=["hub"])

SubscriptionId = Annotated[str, Path(max_length=128, description="The subscription id.")]
NOT_FOUND = {404: {"description": "No subscription with this id (problem details)."}}


def _own(who: Principal, sub: dict) -> bool:
    """A customer key sees only the subscriptions of its own party; other roles see all."""
    return who.kind is not Role.customer or (sub.get("query") or {}).get("relatedPartyId") == who.party_id


@router.post("", status_code=201, response_model=HubCreated, summary="Subscribe a webhook",
             responses={422: {"description": "A field is invalid; `errors[].field` names it (problem details)."}})
async def subscribe(body: HubCreate, rt: Runtime, response: Response, who: HubUser) -> HubCreated:
    """Register `callback` for the events matching `query`, journaled from now on. Each delivery is a
    POST of the event JSON with a `deliveryId`, signed in `X-Switchboard-Signature` with `secret`,
    which this answer shows once. A customer key subscribes to its own party's requests only
    (`query.relatedPartyId` is forced to it)."""
    q = body.query
    if who.kind is Role.customer:
        q = q.model_copy(update={"relatedPartyId": who.party_id})
    try:
        await asyncio.to_thread(callback_allowed, body.callback, rt.settings.webhook_allow_private)
    except ValueError as exc:
        raise Invalid(f"callback {exc}", "callback") from None
    sub = await rt.webhooks.subscribe.remote(body.callback, body.secret, [t.value for t in q.eventTypes],
                                             q.requestTypes, q.relatedPartyId)
    response.headers["Location"] = sub["href"]
    return HubCreated.model_validate(sub)


@router.get("", response_model=list[HubRead], summary="List webhook subscriptions")
async def list_subscriptions(rt: Runtime, who: HubUser) -> list[HubRead]:
    return [HubRead.model_validate(s) for s in await rt.webhooks.subscriptions.remote() if _own(who, s)]


# Before /{subscription_id}, which would take "deadLetters" for an id.
@router.get("/deadLetters", response_model=list[DeadLetter], summary="Deliveries that failed every attempt")
async def dead_letters(
    rt: Runtime,
    who: HubOperator,
    subscription_id: Annotated[str | None, Query(alias="subscriptionId", max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeadLetter]:
    """Oldest first: the event, the attempts made and the last error."""
    return [DeadLetter.model_validate(d) for d in await rt.webhooks.dead_letters.remote(subscription_id, limit)]


@router.post("/deadLetters/{dead_letter_id}/replay", response_model=Replay, summary="Deliver a dead letter again",
             responses={404: {"description": "No dead letter with this id (problem details)."}})
async def replay(dead_letter_id: Annotated[str, Path(max_length=300)], rt: Runtime, who: HubOperator) -> Replay:
    """One attempt now, with the same delivery id. Delivered: the entry is removed. Failed: the entry
    stays with the new error (`delivered: false`)."""
    return Replay.model_validate(await rt.webhooks.replay.remote(dead_letter_id))


@router.get("/{subscription_id}", response_model=HubRead, responses=NOT_FOUND, summary="A webhook subscription")
async def get_subscription(subscription_id: SubscriptionId, rt: Runtime, who: HubUser) -> HubRead:
    return HubRead.model_validate(await _subscription(rt, subscription_id, who))


async def _subscription(rt: Runtime, subscription_id: str, who: Principal) -> dict:
    sub = await rt.webhooks.subscription.remote(subscription_id)
    if not _own(who, sub):
        raise SubscriptionNotFound(f"No subscription {subscription_id!r}", "id")  # as an unknown id
    return sub


@router.delete("/{subscription_id}", status_code=204, responses=NOT_FOUND, summary="Unsubscribe a webhook")
async def unsubscribe(subscription_id: SubscriptionId, rt: Runtime, who: HubUser) -> Response:
    """Stops its deliveries; its pending deliveries and dead letters go with it."""
    if who.kind is Role.customer:
        await _subscription(rt, subscription_id, who)
    await rt.webhooks.unsubscribe.remote(subscription_id)
    return Response(status_code=204)
