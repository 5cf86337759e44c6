"""What the gateway uses to reach the runtime: its own ``Dispatcher`` for creates (checked and given
their id here, sent to their hosts in batches, no router hop; the hosts classify them), the
request's own host for everything else (found from the id on the hash ring), the journal for lists
and live events, the ``webhooks`` actor for the hub."""

from __future__ import annotations

import asyncio
import heapq
from itertools import islice
from typing import Any

import ray

from actors import names
from actors.batching import Batcher
from actors.errors import Overloaded, TimedOut
from actors.events import EventFilter, EventRow
from actors.journal import Query, SQLiteReader
from bss import open_bss

from .config import Settings
from .models import RequestCreate
from .router import Dispatcher
from .table import RoutingTable

PING_TIMEOUT = 2.0


class RuntimeClient:
    def __init__(self, settings: Settings, table: RoutingTable | None = None):
        """``table``: the routing table the runtime was started with (default: the settings' file)."""
        ns = settings.namespace
        self.settings = settings
        self.router = names.lookup(names.ROUTER, ns)
        self.webhooks = names.lookup(names.WEBHOOKS, ns)
        self.campaigns = names.lookup("campaigns", ns)
        self.hosts = [names.lookup(names.host_name(i), ns) for i in range(settings.hosts)]
        self.dispatcher = Dispatcher(table or RoutingTable.load(settings.routing_table), self.hosts)
        self.ring = self.dispatcher.ring  # one ring: creates and everything else find the same host
        # One batch on its way per host: under load, fewer and larger batches cost less CPU per create
        # (1,100 to 1,300 creates/s here from 64 clients, against 1,000 to 1,100 with two or four).
        self.creates = [Batcher(h.create_many.remote, max_size=64, max_inflight=1) for h in self.hosts]
        # Status queries of concurrent clients travel to their host together (one Ray call each
        # costs about as much CPU as the rest of a GET): a query alone leaves at once.
        self.queries = [Batcher(h.status_many.remote, max_size=64, max_inflight=2) for h in self.hosts]
        self.readers = [SQLiteReader(settings.journal_path(i)) for i in range(settings.hosts)]
        self._bss_path = settings.bss_path
        self._csrs: dict[str, dict[str, Any]] | None = None

    def csrs(self) -> dict[str, dict[str, Any]]:
        """The CSR directory of the reference BSS (id -> id, name, skills), read once."""
        if self._csrs is None:
            self._csrs = {c["id"]: c for c in open_bss(self._bss_path).csrs()}
        return self._csrs

    def host(self, request_id: str) -> Any:
        return self.hosts[self.ring.host_for(request_id)]

    async def create(self, body: RequestCreate, key: str | None, actor: str,
                     body_json: bytes | None = None) -> tuple[bool, str, bytes]:
        """One create: ``(created, id, status JSON)``. Checked against the routing table and given
        its id here (``Invalid`` at once), classified by its host. It travels there with the
        creates of other clients arriving meanwhile, each host on its own line, so a slow commit on
        one host holds up only the creates going there. ``body_json``: the body as the client sent
        it, when ``body`` was validated from exactly that (sent on as it is). ``Overloaded`` when
        ``max_waiting_creates`` creates are already waiting."""
        waiting = self.creates_waiting()
        if waiting >= self.settings.max_waiting_creates:
            raise Overloaded(f"{waiting} creates are already waiting; retry shortly")
        h, rid = self.dispatcher.route(body, key, actor)
        item = (rid, body_json if body_json is not None else body.model_dump_json(), key, actor, None)
        created, state = await self.creates[h].submit(item, self.settings.call_timeout_seconds)
        return created, rid, state

    async def status(self, request_id: str) -> bytes:
        return await self.queries[self.shard(request_id)].submit(request_id, self.settings.call_timeout_seconds)

    async def act(self, request_id: str, action: str, actor: str, data: dict[str, Any]) -> bytes:
        deadline = self.settings.call_timeout_seconds
        try:
            return await asyncio.wait_for(self.host(request_id).act.remote(request_id, action, actor, data), deadline)
        except TimeoutError:
            raise TimedOut(f"no answer within {deadline:g} s; the action was sent, so it may still be done: "
                           "look at the request before sending it again") from None

    async def held(self, queues: list[str]) -> list[tuple[int, str, str, str, str | None, str | None, str]]:
        """Held requests waiting in these CSR queues, from every journal shard."""
        rows = await asyncio.to_thread(lambda: [row for r in self.readers for row in r.held(queues)])
        return sorted(rows)  # priority first (1 is highest), then oldest

    async def list(self, q: Query) -> tuple[list[str], int]:
        """A page of requests as JSON texts, newest first, and the number matching in all."""
        return await asyncio.to_thread(self._list, q)

    def _list(self, q: Query) -> tuple[list[str], int]:
        results = [r.query(q) for r in self.readers]
        total = sum(t for _, t in results)
        merged = heapq.merge(*(rows for rows, _ in results), key=lambda r: (r[0], r[1]), reverse=True)
        return [state for _, _, state in islice(merged, q.offset, q.offset + q.limit)], total

    def shard(self, request_id: str) -> int:
        """The journal shard a request lives in."""
        return self.ring.host_for(request_id)

    async def request_status(self, request_id: str) -> str | None:
        return await asyncio.to_thread(self.readers[self.shard(request_id)].status, request_id)

    async def events(self, shard: int, after: int, f: EventFilter, limit: int) -> list[EventRow]:
        """Public events of one shard after ``after`` (a seq), in order."""
        return await asyncio.to_thread(self.readers[shard].public_events, after, f, limit)

    async def events_all(self, cursor: list[int], f: EventFilter, limit: int) -> list[list[EventRow]]:
        """Public events of every shard after its entry of ``cursor``: one list per shard, in one thread hop."""
        return await asyncio.to_thread(
            lambda: [r.public_events(after, f, limit) for r, after in zip(self.readers, cursor, strict=True)])

    async def heads(self) -> list[int]:
        """The last seq of every shard: where a live tail from now starts."""
        return await asyncio.to_thread(lambda: [r.last_seq() for r in self.readers])

    async def ready(self) -> dict[str, str]:
        """Each actor's answer, or why it is not ready."""
        labels = [names.ROUTER, *(names.host_name(i) for i in range(len(self.hosts))), names.WEBHOOKS, "campaigns"]
        refs = [self.router.ping.remote(), *(h.ping.remote() for h in self.hosts), self.webhooks.ping.remote(),
                self.campaigns.ping.remote()]
        out: dict[str, str] = {}
        for name, ref in zip(labels, refs, strict=True):
            try:
                await asyncio.wait_for(ref, PING_TIMEOUT)
                out[name] = "ok"
            except (asyncio.TimeoutError, ray.exceptions.RayError) as exc:
                out[name] = f"not ready: {type(exc).__name__}"
        return out

    async def snapshot(self) -> dict[str, Any]:
        """Transitions counted by the hosts and open requests by status, for /metrics."""
        transitions: dict[tuple[str, str, str], int] = {}
        sla: dict[tuple[str, str, str], int] = {}
        summed = {"active": 0, "passivated": 0, "reactivated": 0, "ready": 0, "journalBacklog": 0}  # over the hosts
        for ref in [h.metrics_snapshot.remote() for h in self.hosts]:
            try:
                snap = await asyncio.wait_for(ref, PING_TIMEOUT)
            except (asyncio.TimeoutError, ray.exceptions.RayError):
                continue
            for key, n in snap["transitions"].items():
                transitions[key] = transitions.get(key, 0) + n
            for key, n in snap["sla"].items():
                sla[key] = sla.get(key, 0) + n
            for key in summed:
                summed[key] += snap[key]
        by_status: dict[str, int] = {}
        for counts in await asyncio.to_thread(lambda: [r.count_by_status() for r in self.readers]):
            for status, n in counts.items():
                by_status[status] = by_status.get(status, 0) + n
        return {"transitions": transitions, "byStatus": by_status, "sla": sla, **summed,
                "createsWaiting": self.creates_waiting()}

    def creates_waiting(self) -> int:
        """Creates waiting here to be sent to their host (each host has a batch on its way meanwhile)."""
        return sum(len(b.pending) for b in self.creates)
