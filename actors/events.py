"""Public events: which journal rows are published, how a reader filters them, and the one shape
they have on the wire (server-sent events and webhook deliveries alike).

The journal is the source of truth. Every row of a shard's ``events`` table whose ``type`` is one of
``EventType`` is a public event; ``action.*`` and ``timer.*`` rows are internal and never leave.
An event is identified by its shard and its ``seq`` in that shard: ``eventId`` is ``"<shard>:<seq>"``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum


class EventType(StrEnum):
    created = "created"
    status_changed = "statusChanged"
    activity_changed = "activityChanged"
    information_required = "informationRequired"
    resolved = "resolved"
    closed = "closed"
    sla_warning = "slaWarning"
    sla_breached = "slaBreached"
    updated = "updated"
    deleted = "deleted"


PUBLIC_EVENT_TYPES: tuple[str, ...] = tuple(t.value for t in EventType)


@dataclass(frozen=True)
class EventFilter:
    """What a reader of public events wants; ``None`` or empty means any."""

    request_id: str | None = None
    party_id: str | None = None
    event_types: tuple[str, ...] = ()
    request_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventRow:
    """One public event as read from a shard: the journal row joined with its request's row."""

    seq: int
    request_id: str
    at: str
    type: str
    data: str  # JSON text, as journaled
    request_type: str
    party_id: str | None


def event_id(shard: int, seq: int) -> str:
    return f"{shard}:{seq}"


def event_json(shard: int, row: EventRow, delivery_id: str | None = None) -> str:
    """The event as JSON text: ``{deliveryId?, eventId, eventType, eventTime, requestId, requestType,
    relatedPartyId, data}``. ``data`` is spliced in as journaled (it is JSON already), so a large
    ``created`` state is not parsed and serialised again for every reader."""
    head = {"eventId": event_id(shard, row.seq), "eventType": row.type, "eventTime": row.at,
            "requestId": row.request_id, "requestType": row.request_type, "relatedPartyId": row.party_id}
    if delivery_id is not None:
        head = {"deliveryId": delivery_id, **head}
    return f'{json.dumps(head, separators=(",", ":"))[:-1]},"data":{row.data}}}'
