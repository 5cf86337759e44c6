"""Routing a new request: validate, classify, choose its host, create it there.

A create is checked against the routing table and given its id where it arrives (the gateway, the
campaigns actor): the id chooses the host on the hash ring, and a body the table refuses is
answered at once, without a Ray call. Classifying it (``Classifier.journaled``: the initial state,
its JSON and its journal columns) happens where there is CPU to spare: in the host for the
gateway's creates (the gateway is one process for every channel; what crosses Ray is then the body,
about 200 bytes, not its state, about 1,500), in the caller for a ``Dispatcher``'s large batches
(the ``campaigns`` actor). Routing needs no shared state (the routing table is a file every process
reads, the host follows from the id, and duplicates are decided by the host that owns the id), so
no router actor stands in the way. It remains (named ``router``), a ``Dispatcher`` behind a Ray
actor, for drivers that hold no routing table (other services, scripts).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any
from datetime import datetime, timedelta, timezone
import ray
from pydantic import ValidationError

from actors import names, sla
from actors.errors import Invalid
from actors.journal import index_columns
from actors.models import RequestState, Sla, Status, TimelineEntry, utcnow

from .models import RequestCreate
from .ring import HashRing
from .table import RequestTypeConfig, RoutingTable

IDEMPOTENCY_NAMESPACE = uuid.UUID("5b0f5d1e-7a4c-4c2e-9a57-5f1f0f4f2a11")
_NS_BYTES = IDEMPOTENCY_NAMESPACE.bytes
API_PREFIX = "/api/v1/requests"


def request_id(idempotency_key: str | None, caller: str) -> str:
    """A new id; derived from the caller and its Idempotency-Key when there is one, so every retry of
    a create lands on the same id and so on the same host, which decides duplicates atomically,
    while two callers using the same key get two requests. The derived id is
    ``uuid5(IDEMPOTENCY_NAMESPACE, caller + "\\n" + key).hex``, computed without building a UUID
    object (a fifth of a create's routing time otherwise)."""
    if idempotency_key is None:
        return uuid.uuid4().hex
    digest = bytearray(hashlib.sha1(_NS_BYTES + f"{caller}\n{idempotency_key}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return digest.hex()


_BODY_FIELDS = tuple(RequestCreate.model_fields)
_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
_COPIED = {"characteristics", "relatedParty"}


class Classifier:
    """The router's pure part: from a validated body to the initial state of the request."""

    def __init__(self, table: RoutingTable):
        self.table = table
        self._clocks: dict[tuple[str, int], tuple[dict[str, Any], dict[str, timedelta]]] = {}

    def _sla(self, name: str, priority: int, now: datetime) -> tuple[Sla, dict[str, datetime]]:
        """A new request's SLA clock and timers: what ``sla.start`` and ``sla.sync`` give, from a
        template per policy and priority (the same but for the time), at a tenth of the cost."""
        template = self._clocks.get((name, priority))
        if template is None:
            policy = self.table.slaPolicies[name]
            clock = sla.start(policy, name, priority, _EPOCH)
            timers = sla.sync(clock, policy, Status.acknowledged, _EPOCH)
            fields = {k: (v - _EPOCH if isinstance(v, datetime) else v) for k, v in clock.model_dump().items()}
            template = self._clocks[(name, priority)] = (fields, {n: due - _EPOCH for n, due in timers.items()})
        fields, offsets = template
        clock = Sla.trusted(**{k: (now + v if isinstance(v, timedelta) else v) for k, v in fields.items()}
                                    | {"warned": [], "breached": [], "timeLeft": dict(fields["timeLeft"])})
        return clock, {n: now + offset for n, offset in offsets.items()}

    def check(self, body: RequestCreate) -> RequestTypeConfig:
        """The body's request type; ``Invalid`` (the field named) when the routing table refuses
        the body: an unknown type, a direction the type does not take, a required characteristic
        missing."""
        rt = self.table.requestTypes.get(body.requestType)
        if rt is None:
            known = ", ".join(sorted(self.table.requestTypes))
            raise Invalid(f"unknown request type {body.requestType!r} (known: {known})", "requestType")
        if body.direction not in rt.directions:
            allowed = ", ".join(rt.directions)
            raise Invalid(f"{body.requestType} requests must be {allowed}, not {body.direction}", "direction")
        for name in rt.requiredCharacteristics:
            if body.characteristics.get(name) in (None, ""):
                raise Invalid(f"{body.requestType} needs the characteristic {name}", f"characteristics.{name}")
        return rt

    def classify(self, body: RequestCreate, idempotency_key: str | None, actor: str,
                 now: datetime | None = None, campaign_id: str | None = None, rid: str | None = None) -> RequestState:
        """The initial state of a new request. ``rid``: its id as ``request_id`` gave it where the
        create arrived (default: derived here)."""
        rt = self.check(body)
        rid = rid or request_id(idempotency_key, actor)  # the caller scopes its keys
        now = now or utcnow()
        clock, timers = self._sla(rt.slaPolicy, body.priority, now)
        # Built without validating again: every value comes from the validated body or from here,
        # nested values are models already (half of a create's routing time otherwise).
        return RequestState.trusted(
            id=rid,
            href=f"{API_PREFIX}/{rid}",
            **{name: getattr(body, name) for name in _BODY_FIELDS if name not in _COPIED},
            characteristics=dict(body.characteristics), relatedParty=list(body.relatedParty),  # its own
            activities=[], references=[],  # every field with a default factory is given
            process=rt.process,
            placement=rt.placement.value,
            idempotencyKey=idempotency_key,
            campaignId=campaign_id,
            timeline=[TimelineEntry(event="created", actor=actor, toStatus="acknowledged", at=now,
                                    reason=f"routed to process {rt.process}")],
            creationDate=now,
            lastUpdate=now,
            sla=clock,
            timers=timers,
        )

    def initial(self, rid: str, body_json: str | bytes, idempotency_key: str | None, actor: str,
                campaign_id: str | None, now: datetime) -> tuple[str, str, tuple]:
        """What a host journals for a new request, from the body as the caller sent it:
        ``(state JSON, body hash, index columns)``. ``Invalid`` for a body the model or the
        routing table refuses."""
        try:
            body = RequestCreate.model_validate_json(body_json)
        except ValidationError as exc:
            raise Invalid(str(exc), "body") from None
        return self.journaled(body, rid, idempotency_key, actor, campaign_id, now)

    def journaled(self, body: RequestCreate, rid: str, idempotency_key: str | None, actor: str,
                  campaign_id: str | None, now: datetime) -> tuple[str, str, tuple]:
        """``(state JSON, body hash, index columns)`` of a validated body."""
        state = self.classify(body, idempotency_key, actor, now=now, campaign_id=campaign_id, rid=rid)
        body_hash = body.body_hash()
        return state.model_dump_json(), body_hash, index_columns(state, body_hash)


Create = tuple[RequestCreate, "str | None", str, "str | None"]  # body, Idempotency-Key, actor, campaign id


class Dispatcher:
    """Creates in batches, classified here (``Classifier.journaled``), one call per host with its
    share (``create_states``). Used where batches are large and the caller has CPU to spare: the
    ``campaigns`` actor, the ``router`` actor. During a campaign the hosts are the busy processes
    (journaling 100,000 rows while the ``campaigns`` actor only reads rows): the whole 100,000 took
    35 to 42 s with the rows classified in the ``campaigns`` actor, 47 to 55 s with them classified
    in the hosts. The gateway, one process for every channel, sends bodies instead (``route``, then
    the host's ``create_many``)."""

    def __init__(self, table: RoutingTable, hosts: list[Any]):
        self.classifier = Classifier(table)
        self.hosts = hosts
        self.ring = HashRing(len(hosts))

    def route(self, body: RequestCreate, key: str | None, actor: str) -> tuple[int, str]:
        """``(host index, id)`` of a new request; ``Invalid`` when the routing table refuses it."""
        self.classifier.check(body)
        rid = request_id(key, actor)
        return self.ring.host_for(rid), rid

    async def create_many(self, items: list[Create]) -> list[tuple[bool, str, bytes] | Exception]:
        """Each item answers ``(created, id, status JSON)``, or with its own error (an invalid
        body fails nothing else). States cross Ray as JSON text: pickling pydantic models costs
        several times more."""
        out: list[tuple[bool, str, bytes] | Exception | None] = [None] * len(items)
        by_host: dict[int, list[tuple[int, str, tuple]]] = {}
        now = utcnow()
        for i, (body, key, actor, campaign_id) in enumerate(items):
            rid = request_id(key, actor)
            try:
                item = self.classifier.journaled(body, rid, key, actor, campaign_id, now)  # checked there
            except Invalid as exc:
                out[i] = exc
                continue
            by_host.setdefault(self.ring.host_for(rid), []).append((i, rid, item))
        hosts = list(by_host)
        answers = await asyncio.gather(
            *(self.hosts[h].create_states.remote([item for _, _, item in by_host[h]]) for h in hosts),
            return_exceptions=True)
        for h, answer in zip(hosts, answers, strict=True):
            for n, (i, rid, _) in enumerate(by_host[h]):
                one = answer if isinstance(answer, Exception) else answer[n]
                out[i] = one if isinstance(one, Exception) else (one[0], rid, one[1])
        return out  # type: ignore[return-value]


@ray.remote(max_restarts=-1, max_task_retries=3)
class Router:
    """A ``Dispatcher`` behind a Ray actor, for callers without the routing table."""

    def __init__(self, table: RoutingTable, hosts: int, namespace: str):
        self.dispatcher = Dispatcher(table, [names.lookup(names.host_name(i), namespace) for i in range(hosts)])

    async def create_many(
        self, items: list[tuple[str, str | None, str] | tuple[str, str | None, str, str]]
    ) -> list[tuple[bool, str, bytes] | Exception]:
        """Many creates ``(body JSON, Idempotency-Key, actor[, campaign id])`` in one call; each
        answers ``(created, id, status)``, or with its own error."""
        out: list[Any] = [None] * len(items)
        valid: list[tuple[int, Create]] = []
        for i, (body_json, key, actor, *campaign) in enumerate(items):
            try:
                valid.append((i, (RequestCreate.model_validate_json(body_json), key, actor,
                                  campaign[0] if campaign else None)))
            except ValidationError as exc:
                out[i] = Invalid(str(exc), "body")
        for (i, _), answer in zip(valid, await self.dispatcher.create_many([c for _, c in valid]), strict=True):
            out[i] = answer
        return out

    async def ping(self) -> str:
        return "router"
