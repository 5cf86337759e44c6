"""A request as a TMF683 PartyInteraction (v4): the one mapping from a request's state to the resource,
shared by the TMF683 routes (``gateway/tmf683``) and the ``webhooks`` actor, which posts TMF683
events. Pure functions over the state as journaled (a JSON object), so dates keep the exact text
the journal holds and the SQL filters of the TMF683 list compare the same strings.

The mapping, attribute by attribute, is in ``docs/tmf683.md``. In short: ``id``, ``direction``,
``status``, ``creationDate`` are the request's own; ``reason`` is its ``description`` (the request
type when a native request has none); what a PartyInteraction has and a request lacks (``note``,
``attachment``, ``interactionRelationship``, ``interactionDate``, the channel and party references
as sent, ``@type``...) is kept verbatim in ``interaction``; what a request has and TMF683 lacks goes
in extension attributes of ``@type: SwitchboardPartyInteraction``.
"""

from __future__ import annotations

import json
from typing import Any

BASE = "/tmf-api/partyInteraction/v4"
RESOURCE = f"{BASE}/partyInteraction"
TYPE = "SwitchboardPartyInteraction"
BASE_TYPE = "PartyInteraction"
REQUEST_ROLE = "request"  # the interactionItem whose item has this role names the request type

# Extension attributes: a request's own, under their native names (docs/tmf683.md describes each).
EXTENSIONS = ("requestType", "priority", "statusReason", "activities", "timeline", "result", "resolution", "queue",
              "assignee", "claimExpiresAt", "references", "externalId", "campaignId", "sla", "closedAt",
              "lastUpdate")

# Attributes kept verbatim from a PartyInteraction created (or patched) through TMF683.
VERBATIM = ("description", "channel", "relatedParty", "interactionItem", "interactionRelationship", "note",
            "attachment", "interactionDate", "@type", "@baseType", "@schemaLocation")

EVENT_TYPES = {
    "created": "partyInteractionCreateEvent",
    "statusChanged": "partyInteractionStatusChangeEvent",
    "deleted": "partyInteractionDeleteEvent",
}
ATTRIBUTE_VALUE_CHANGE = "partyInteractionAttributeValueChangeEvent"
TMF_EVENT_TYPES = (*EVENT_TYPES.values(), ATTRIBUTE_VALUE_CHANGE)


def href(request_id: str) -> str:
    return f"{RESOURCE}/{request_id}"


def channel_href(channel: str) -> str:
    return f"urn:switchboard:channel:{channel}"


def party_href(party_id: str) -> str:
    return f"urn:switchboard:party:{party_id}"


def tmf_event_type(event_type: str) -> str:
    """The TMF683 event a journal event is delivered as: created, statusChanged and deleted have
    their own; every other public event changes some attribute."""
    return EVENT_TYPES.get(event_type, ATTRIBUTE_VALUE_CHANGE)


def status_change_date(state: dict[str, Any]) -> str:
    """When the status last changed: the last timeline entry that set one, else the creation."""
    for entry in reversed(state.get("timeline") or []):
        if entry.get("toStatus"):
            return entry["at"]
    return state["creationDate"]


def _channels(state: dict[str, Any]) -> list[dict[str, Any]]:
    c = state["channel"]
    return [{"id": c, "href": channel_href(c), "name": c, "@referredType": "Channel"}]


def _parties(state: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for p in state.get("relatedParty") or []:
        one = {"id": p["id"], "href": party_href(p["id"]), "role": p.get("role") or "customer",
               "@referredType": "Party"}
        if p.get("name"):
            one["name"] = p["name"]
        out.append(one)
    return out


def _items(state: dict[str, Any]) -> list[dict[str, Any]]:
    item = {"id": state["id"], "href": state["href"], "role": REQUEST_ROLE, "@referredType": state["requestType"]}
    chars = state.get("characteristics") or {}
    if chars:
        item["characteristic"] = [{"name": k, "value": v} for k, v in chars.items()]
    return [{"id": "1", "item": item}]


def to_party_interaction(state: dict[str, Any]) -> dict[str, Any]:
    """The PartyInteraction of a request state (the journaled JSON, parsed)."""
    kept = state.get("interaction")
    out: dict[str, Any] = {
        "id": state["id"],
        "href": href(state["id"]),
        "creationDate": state["creationDate"],
        "direction": state["direction"],
        "reason": state.get("description") or state["requestType"],
        "status": state["status"],
        "statusChangeDate": status_change_date(state),
    }
    if kept is None:  # created natively: the TMF683 attributes follow from the request
        out["channel"] = _channels(state)
        out["relatedParty"] = _parties(state)
        out["interactionItem"] = _items(state)
        out["interactionDate"] = {"startDateTime": state["creationDate"]}
    else:
        for name in VERBATIM:
            if name in kept and kept[name] is not None:
                out[name] = kept[name]
        for name, value in kept.items():  # unknown attributes of a client's @type extension
            if name not in out and name not in VERBATIM and name not in EXTENSIONS:
                out[name] = value
    out.setdefault("@type", TYPE)
    out.setdefault("@baseType", BASE_TYPE)
    for name in EXTENSIONS:
        value = state.get(name)
        if value is not None and value != [] and value != {}:
            out[name] = value
    return out


def tmf_event_json(shard: int, seq: int, at: str, event_type: str, state_json: str,
                   delivery_id: str | None = None) -> str:
    """A journal event as a TMF683 event: ``{eventId, eventTime, eventType, event: {partyInteraction}}``,
    the resource as of the hand-off (the request's current state), plus ``deliveryId`` to dedupe on."""
    body: dict[str, Any] = {"eventId": f"{shard}:{seq}", "eventTime": at, "eventType": tmf_event_type(event_type),
                            "event": {"partyInteraction": to_party_interaction(json.loads(state_json))}}
    if delivery_id is not None:
        body = {"deliveryId": delivery_id, **body}
    return json.dumps(body, separators=(",", ":"))
