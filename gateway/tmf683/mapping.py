"""From a TMF683 PartyInteraction body to a request (create) or to a change of one (PATCH).

The other direction, a request as a PartyInteraction, is ``actors.party_interaction`` (the webhooks
actor needs it too). Every refusal here is ``Invalid`` (a TMF 400) naming the attribute, or
``Conflict`` (409) when the body is well formed but would change what the request is.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from actors import party_interaction as pi
from actors.errors import Conflict, Invalid
from actors.models import Channel, Direction, utcnow
from routing.models import RequestCreate

MANDATORY = ("reason", "direction", "channel")
# Assigned by the server: a client's value on create is not trusted (dropped).
SERVER_ASSIGNED = ("id", "href", "status", "creationDate", "statusChangeDate")
# Extension attributes a client may give on create; the others are the server's.
CLIENT_EXTENSIONS = ("priority", "externalId")
# What PATCH refuses (400): not in the spec's PartyInteraction_Update (id, href, direction), the
# server's own dates, and the server's extension attributes.
NOT_PATCHABLE = frozenset({"id", "href", "direction", "creationDate", "statusChangeDate", *pi.EXTENSIONS})
ARRAYS = ("channel", "relatedParty", "interactionItem", "interactionRelationship", "note", "attachment")
ANONYMOUS = "anonymous"  # the request's party when a PartyInteraction names none (docs/tmf683.md)
ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")


def _invalid(message: str, field: str) -> Invalid:
    return Invalid(message, field)


def _check_shapes(body: dict[str, Any]) -> None:
    for name in ARRAYS:
        value = body.get(name)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, dict) for v in value)):
            raise _invalid(f"{name} must be an array of objects", name)
    for name in ("interactionDate",):
        value = body.get(name)
        if value is not None and not isinstance(value, dict):
            raise _invalid(f"{name} must be an object (a TimePeriod)", name)
    for name in ("reason", "description", "@type", "@baseType", "@schemaLocation"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise _invalid(f"{name} must be a string", name)


def channel_of(channels: list[dict[str, Any]]) -> tuple[Channel, list[dict[str, Any]]]:
    """Our channel (the first ChannelRef's ``id`` or ``name``) and the list with ``id`` and ``href``
    filled in where the client left them out (the spec requires both in a RelatedChannel)."""
    if not channels:
        raise _invalid("channel needs at least one ChannelRef", "channel")
    first = channels[0]
    value = next((v for v in (first.get("id"), first.get("name")) if v in set(Channel)), None)
    if value is None:
        known = ", ".join(Channel)
        raise _invalid(f"channel {first.get('id') or first.get('name')!r} is not one of ours; the first ChannelRef's "
                       f"id or name must be one of: {known}", "channel")
    out = []
    for c in channels:
        c = dict(c)
        c.setdefault("id", c.get("name"))
        if not isinstance(c["id"], str) or not c["id"]:
            raise _invalid("each ChannelRef needs an id or a name", "channel")
        c.setdefault("href", pi.channel_href(c["id"]))
        out.append(c)
    return Channel(value), out


def parties_of(parties: list[dict[str, Any]] | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    """The request's parties (``[{id, role}]``, the first the originator) and the RelatedParty list
    with ``href`` and ``@referredType`` filled in where left out. None names no one: the request's
    party is then ``anonymous`` (a prospect)."""
    if not parties:
        return [{"id": ANONYMOUS, "role": "prospect"}], parties
    native, out = [], []
    for p in parties:
        pid = p.get("id")
        if not isinstance(pid, str) or not ID.match(pid):
            raise _invalid(f"relatedParty id {pid!r} must be 1-128 letters, digits or ._:@-", "relatedParty")
        role = "prospect" if str(p.get("role", "")).lower() == "prospect" else "customer"
        native.append({"id": pid, "role": role})
        p = dict(p)
        p.setdefault("href", pi.party_href(pid))
        p.setdefault("@referredType", "Party")
        out.append(p)
    return native[:10], out


def request_item(items: list[dict[str, Any]] | None) -> tuple[str, dict[str, Any]]:
    """The request type and characteristics named by the first interactionItem whose ``item`` has
    ``role: request``: ``@referredType`` is the type, ``characteristic`` ``[{name, value}]`` its
    characteristics. No such item: a general ``inquiry``."""
    for it in items or []:
        item = it.get("item")
        if isinstance(item, dict) and item.get("role") == pi.REQUEST_ROLE:
            rtype = item.get("@referredType")
            if not isinstance(rtype, str) or not rtype:
                raise _invalid("the request item needs @referredType, the request type", "interactionItem")
            chars = item.get("characteristic") or []
            if not isinstance(chars, list) or not all(isinstance(c, dict) and "name" in c for c in chars):
                raise _invalid("characteristic must be an array of {name, value}", "interactionItem")
            return rtype, {c["name"]: c.get("value") for c in chars}
    return "inquiry", {}


def to_request(body: dict[str, Any]) -> RequestCreate:
    """A new PartyInteraction as a request. 400 naming the attribute when a mandatory one is missing
    or one is malformed; what the server assigns is dropped; the rest is kept in ``interaction``."""
    missing = [n for n in MANDATORY if body.get(n) in (None, "", [])]
    if missing:
        raise _invalid(f"missing mandatory attribute(s): {', '.join(missing)}", missing[0])
    _check_shapes(body)
    if body["direction"] not in set(Direction):
        raise _invalid(f"direction must be inbound or outbound, not {body['direction']!r}", "direction")
    channel, channels = channel_of(body["channel"])
    parties, related = parties_of(body.get("relatedParty"))
    rtype, chars = request_item(body.get("interactionItem"))
    kept = {k: v for k, v in body.items()
            if k not in SERVER_ASSIGNED and k not in MANDATORY and k not in pi.EXTENSIONS and v is not None}
    kept["channel"] = channels
    if related is not None:
        kept["relatedParty"] = related
    kept.setdefault("interactionDate", {"startDateTime": utcnow().isoformat(timespec="microseconds")[:26] + "Z"})
    extra = {k: body[k] for k in CLIENT_EXTENSIONS if body.get(k) is not None}
    try:
        return RequestCreate(requestType=rtype, direction=body["direction"], channel=channel, relatedParty=parties,
                             description=body["reason"], characteristics=chars, interaction=kept, **extra)
    except ValidationError as exc:
        e = exc.errors()[0]
        field = ".".join(str(p) for p in e["loc"]) or "body"
        raise _invalid(f"{field}: {e['msg']}", field) from None


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def to_changes(state: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A merge patch of a PartyInteraction as the request's new ``description`` and ``interaction``
    (without ``status``, which goes through the lifecycle). 400 for an attribute PATCH may not
    change; 409 when the patch would change the request's channel, type or originator."""
    refused = sorted(k for k in patch if k in NOT_PATCHABLE)
    if refused:
        raise _invalid(f"attribute(s) {', '.join(refused)} cannot be changed by PATCH", refused[0])
    if "reason" in patch and not patch["reason"]:
        raise _invalid("reason is mandatory: it can be changed, not removed", "reason")
    _check_shapes(patch)
    current = pi.to_party_interaction(state)
    kept = state.get("interaction")
    if kept is None:  # created natively: what the mapping shows becomes the kept attributes
        kept = {k: current[k] for k in ("channel", "relatedParty", "interactionItem", "interactionDate")}
    attrs = {k: v for k, v in patch.items() if k not in ("reason", "status")}
    new = merge_patch(kept, attrs)
    if "channel" in attrs:
        channel, new["channel"] = channel_of(new.get("channel") or [])
        if channel != state["channel"]:
            raise Conflict(f"the channel of a request cannot change (it is {state['channel']})", "channel")
    if "relatedParty" in attrs:
        parties, related = parties_of(new.get("relatedParty"))
        if parties[0]["id"] != state["relatedParty"][0]["id"]:
            raise Conflict(f"the originator of a request cannot change (it is {state['relatedParty'][0]['id']})",
                           "relatedParty")
        if related is not None:
            new["relatedParty"] = related
    if "interactionItem" in attrs:
        rtype, _ = request_item(new.get("interactionItem"))
        if rtype != state["requestType"]:
            raise Conflict(f"the request type cannot change (it is {state['requestType']}, the patch names "
                           f"{rtype})", "interactionItem")
    changes: dict[str, Any] = {"attributes": sorted(k for k in patch if k != "status")}
    if attrs:
        changes["interaction"] = new
    if "reason" in patch:
        changes["description"] = patch["reason"]
    return changes
