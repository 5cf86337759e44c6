"""Ray actors that host request actors.

``RequestHost`` (named ``request-host-N``) is one shard: it holds many request actors as plain
objects, journals to its own SQLite file, and rehydrates its open requests from that file when Ray
restarts it. ``DedicatedRequest`` (named ``request-<id>``) runs one request actor as its own Ray
actor, for request types configured ``placement: dedicated``; its shard's host creates it, keeps a
stub pointing at it and forwards messages to it, so the gateway reaches every request the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

import ray
from ray.util import metrics as ray_metrics

from . import names
from .errors import IdempotencyConflict, NotFound
from .journal import SQLiteJournal
from .models import RequestState, Status
from .policy import Placement, TypePolicy
from .request import RequestActor

log = logging.getLogger(__name__)


class _Metrics:
    """Counters a host keeps: read by the gateway's /metrics and exported to the Ray dashboard."""

    def __init__(self, host: str):
        self.transitions: Counter[tuple[str, str, str]] = Counter()
        self._ray = ray_metrics.Counter(
            "switchboard_transitions",
            description="Request status transitions, by request type and target status.",
            tag_keys=("host", "requestType", "to"),
        )
        self._host = host

    def transition(self, state: RequestState, previous: Status, current: Status) -> None:
        self.transitions[(state.requestType, previous.value, current.value)] += 1
        self._ray.inc(1, tags={"host": self._host, "requestType": state.requestType, "to": current.value})


@ray.remote(max_restarts=-1, max_task_retries=3)
class RequestHost:
    def __init__(
        self,
        index: int,
        journal_path: str,
        policies: dict[str, TypePolicy],
        replicas: dict[str, int],
        namespace: str,
    ):
        self.name = names.host_name(index)
        self.journal = SQLiteJournal(journal_path)
        self.journal_path = journal_path
        self.policies = policies
        self.replicas = replicas
        self.processes = names.processes(replicas, namespace)
        self.namespace = namespace
        self.metrics = _Metrics(self.name)
        self.actors: dict[str, RequestActor] = {}
        self.dedicated: dict[str, Any] = {}
        self.creating: dict[str, asyncio.Future] = {}
        self.rehydrated = 0
        for state in self.journal.open_requests():  # a restart: bring back every open request
            self._activate(state)
            self.rehydrated += 1
        if self.rehydrated:
            log.info("%s rehydrated %d open requests", self.name, self.rehydrated)

    def _actor(self, state: RequestState, state_json: str | None = None) -> RequestActor:
        return RequestActor(state, self.policies[state.requestType], self.journal, self.processes,
                            self.metrics.transition, state_json=state_json)

    def _activate(self, state: RequestState) -> None:
        policy = self.policies[state.requestType]
        if policy.placement == Placement.dedicated:
            self.dedicated[state.id] = DedicatedRequest.options(
                name=names.dedicated_name(state.id), namespace=self.namespace, get_if_exists=True
            ).remote(state, policy, self.journal_path, self.replicas, self.namespace)
            return
        actor = self.actors[state.id] = self._actor(state)
        actor.start()

    # -- messages ---------------------------------------------------------------------------
    async def create(self, state_json: str, body_hash: str) -> tuple[bool, bytes]:
        """Create the request (its initial state as JSON: cheaper across Ray than a pickled model,
        and journaled as it is) unless its id exists; ``(created, status)``. Journaled before it
        returns."""
        state = RequestState.model_validate_json(state_json)
        rid = state.id
        if state.idempotencyKey is not None:  # an id derived from a key may exist already
            existing = await self._body_hash(rid)
            if existing is not None:
                if existing != body_hash:
                    raise IdempotencyConflict(
                        f"Idempotency-Key {state.idempotencyKey!r} was used for another request body ({rid})",
                        "Idempotency-Key")
                return False, await self.status(rid)
        fut = self.creating[rid] = asyncio.get_running_loop().create_future()
        try:
            actor = self._actor(state, state_json)
            await actor.persist_created(body_hash)
            if self.policies[state.requestType].placement == Placement.dedicated:
                self._activate(state)
            else:
                self.actors[rid] = actor
                actor.start()
            fut.set_result(body_hash)
            return True, actor.status_json()
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: a waiting duplicate sees it through _body_hash
            raise
        finally:
            self.creating.pop(rid, None)

    async def create_many(self, items: list[tuple[str, str]]) -> list[tuple[bool, bytes] | Exception]:
        """Many creates in one call; the journal commits them together (one transaction). Each item
        answers like ``create``, or with its own error: one bad item fails nothing else."""
        return await asyncio.gather(*(self.create(state_json, body_hash) for state_json, body_hash in items),
                                    return_exceptions=True)

    async def _body_hash(self, rid: str) -> str | None:
        if rid in self.creating:
            try:
                return await asyncio.shield(self.creating[rid])
            except Exception:
                return None  # the first create failed: this one may try again
        return self.journal.body_hash(rid)

    async def status(self, rid: str) -> bytes:
        actor = self.actors.get(rid)
        if actor is not None:
            return actor.status_json()
        stub = self.dedicated.get(rid)
        if stub is not None:
            return await stub.status.remote()
        body = self.journal.state_json(rid)
        if body is None:
            raise NotFound(f"no request with id {rid}", "id")
        return body.encode()

    async def act(self, rid: str, action: str, actor_name: str, data: dict[str, Any]) -> bytes:
        """An action on a request (``cancel``, or one of its flow's actions)."""
        actor = self.actors.get(rid)
        if actor is None and rid in self.dedicated:
            stub = self.dedicated[rid]
            body, final = await stub.act.remote(action, actor_name, data)
            if final:
                self.dedicated.pop(rid, None)
                ray.kill(stub)
            return body
        if actor is None:  # a final request no longer in memory: its actor refuses the change
            state = self.journal.get(rid)
            if state is None:
                raise NotFound(f"no request with id {rid}", "id")
            actor = self._actor(state)
        body = await _act(actor, action, actor_name, data)
        if actor.state.is_final:
            self.actors.pop(rid, None)  # its state lives on in the journal
        return body

    async def ping(self) -> dict[str, Any]:
        return {"host": self.name, "active": len(self.actors), "dedicated": len(self.dedicated),
                "rehydrated": self.rehydrated}

    async def metrics_snapshot(self) -> dict[str, Any]:
        return {"transitions": dict(self.metrics.transitions), "active": len(self.actors) + len(self.dedicated)}


async def _act(actor: RequestActor, action: str, actor_name: str, data: dict[str, Any]) -> bytes:
    if action == "cancel":
        return await actor.cancel(actor_name, data.get("reason"))
    return await actor.act(action, actor_name, data)


@ray.remote(max_restarts=-1, max_task_retries=3)
class DedicatedRequest:
    """One request actor in a Ray actor of its own (``request-<id>``), for heavy, long-lived types."""

    def __init__(self, state: RequestState, policy: TypePolicy, journal_path: str, replicas: dict[str, int],
                 namespace: str):
        self.journal = SQLiteJournal(journal_path)
        latest = self.journal.get(state.id) or state  # after a restart, the journal knows best
        metrics = _Metrics(names.dedicated_name(state.id))
        processes = names.processes(replicas, namespace)
        self.actor = RequestActor(latest, policy, self.journal, processes, metrics.transition)
        self.actor.start()

    async def status(self) -> bytes:
        return self.actor.status_json()

    async def act(self, action: str, actor_name: str, data: dict[str, Any]) -> tuple[bytes, bool]:
        body = await _act(self.actor, action, actor_name, data)
        return body, self.actor.state.is_final
