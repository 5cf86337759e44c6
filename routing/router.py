"""The router actor (named ``router``): validate, classify, route and spawn a new request."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
import ray
from pydantic import ValidationError

from actors import names, sla
from actors.errors import Invalid
from actors.models import RequestState, Status, TimelineEntry, utcnow

from .models import RequestCreate
from .ring import HashRing
from .table import RoutingTable

IDEMPOTENCY_NAMESPACE = uuid.UUID("5b0f5d1e-7a4c-4c2e-9a57-5f1f0f4f2a11")
API_PREFIX = "/api/v1/requests"


def request_id(idempotency_key: str | None, caller: str) -> str:
    """A new id; derived from the caller and its Idempotency-Key when there is one, so every retry of
    a create lands on the same id and so on the same host, which decides duplicates atomically,
    while two callers using the same key get two requests."""
    if idempotency_key is None:
        return uuid.uuid4().hex
    return uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{caller}\n{idempotency_key}").hex


class Classifier:
    """The router's pure part: from a validated body to the initial state of the request."""

    def __init__(self, table: RoutingTable):
        self.table = table

    def classify(self, body: RequestCreate, idempotency_key: str | None, actor: str,
                 now: datetime | None = None, campaign_id: str | None = None) -> RequestState:
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
        rid = request_id(idempotency_key, actor)  # the caller scopes its keys
        now = now or utcnow()
        policy = self.table.slaPolicies[rt.slaPolicy]
        clock = sla.start(policy, rt.slaPolicy, body.priority, now)
        return RequestState(
            id=rid,
            href=f"{API_PREFIX}/{rid}",
            **body.model_dump(),
            process=rt.process,
            placement=rt.placement.value,
            idempotencyKey=idempotency_key,
            campaignId=campaign_id,
            timeline=[TimelineEntry(event="created", actor=actor, toStatus="acknowledged", at=now,
                                    reason=f"routed to process {rt.process}")],
            creationDate=now,
            lastUpdate=now,
            sla=clock,
            timers=sla.sync(clock, policy, Status.acknowledged, now),
        )


@ray.remote(max_restarts=-1, max_task_retries=3)
class Router:
    def __init__(self, table: RoutingTable, hosts: int, namespace: str):
        self.classifier = Classifier(table)
        self.hosts = [names.lookup(names.host_name(i), namespace) for i in range(hosts)]
        self.ring = HashRing(hosts)

    async def create_many(
        self, items: list[tuple[str, str | None, str] | tuple[str, str | None, str, str]]
    ) -> list[tuple[bool, str, bytes] | Exception]:
        """Many creates ``(body JSON, Idempotency-Key, actor[, campaign id])`` in one call: validated and classified
        here, then one call per host with its share. Each item answers ``(created, id, status)``, or
        with its own error. Bodies and states cross Ray as JSON text: pickling pydantic models costs
        several times more."""
        out: list[tuple[bool, str, bytes] | Exception | None] = [None] * len(items)
        by_host: dict[int, list[tuple[int, RequestState, str]]] = {}
        for i, (body_json, key, actor, *campaign) in enumerate(items):
            try:
                body = RequestCreate.model_validate_json(body_json)
                state = self.classifier.classify(body, key, actor, campaign_id=campaign[0] if campaign else None)
            except (Invalid, ValidationError) as exc:
                out[i] = exc if isinstance(exc, Invalid) else Invalid(str(exc), "body")
                continue
            by_host.setdefault(self.ring.host_for(state.id), []).append((i, state, body.body_hash()))
        hosts = list(by_host)
        answers = await asyncio.gather(
            *(self.hosts[h].create_many.remote([(st.model_dump_json(), bh) for _, st, bh in by_host[h]])
              for h in hosts),
            return_exceptions=True)
        for h, answer in zip(hosts, answers, strict=True):
            for n, (i, state, _) in enumerate(by_host[h]):
                one = answer if isinstance(answer, Exception) else answer[n]
                out[i] = one if isinstance(one, Exception) else (one[0], state.id, one[1])
        return out

    async def ping(self) -> str:
        return "router"
