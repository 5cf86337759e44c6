"""What the gateway uses to reach the runtime: the router for creates, the request's own host for
everything else (found from the id on the hash ring, no router hop), the journal for lists."""

from __future__ import annotations

import asyncio
import heapq
import json
from itertools import islice
from typing import Any

import ray

from actors import names
from actors.journal import Query, SQLiteReader

from .config import Settings
from .models import RequestCreate
from .ring import HashRing

PING_TIMEOUT = 2.0


class RuntimeClient:
    def __init__(self, settings: Settings):
        ns = settings.namespace
        self.router = names.lookup(names.ROUTER, ns)
        self.hosts = [names.lookup(names.host_name(i), ns) for i in range(settings.hosts)]
        self.ring = HashRing(settings.hosts)
        self.readers = [SQLiteReader(settings.journal_path(i)) for i in range(settings.hosts)]

    def host(self, request_id: str) -> Any:
        return self.hosts[self.ring.host_for(request_id)]

    async def create(self, body: RequestCreate, idempotency_key: str | None, actor: str) -> tuple[bool, str, bytes]:
        return await self.router.create.remote(body, idempotency_key, actor)

    async def status(self, request_id: str) -> bytes:
        return await self.host(request_id).status.remote(request_id)

    async def cancel(self, request_id: str, actor: str, reason: str | None) -> bytes:
        return await self.host(request_id).cancel.remote(request_id, actor, reason)

    async def list(self, q: Query) -> tuple[list[dict[str, Any]], int]:
        return await asyncio.to_thread(self._list, q)

    def _list(self, q: Query) -> tuple[list[dict[str, Any]], int]:
        results = [r.query(q) for r in self.readers]
        total = sum(t for _, t in results)
        merged = heapq.merge(*(rows for rows, _ in results), key=lambda r: (r[0], r[1]), reverse=True)
        page = []
        for _, _, state in islice(merged, q.offset, q.offset + q.limit):
            item = json.loads(state)
            item.pop("bodyHash", None)
            page.append(item)
        return page, total

    async def ready(self) -> dict[str, str]:
        """Each actor's answer, or why it is not ready."""
        labels = [names.ROUTER, *(names.host_name(i) for i in range(len(self.hosts)))]
        refs = [self.router.ping.remote(), *(h.ping.remote() for h in self.hosts)]
        out: dict[str, str] = {}
        for name, ref in zip(labels, refs):
            try:
                await asyncio.wait_for(ref, PING_TIMEOUT)
                out[name] = "ok"
            except (asyncio.TimeoutError, ray.exceptions.RayError) as exc:
                out[name] = f"not ready: {type(exc).__name__}"
        return out

    async def snapshot(self) -> dict[str, Any]:
        """Transitions counted by the hosts and open requests by status, for /metrics."""
        transitions: dict[tuple[str, str, str], int] = {}
        for ref in [h.metrics_snapshot.remote() for h in self.hosts]:
            try:
                snap = await asyncio.wait_for(ref, PING_TIMEOUT)
            except (asyncio.TimeoutError, ray.exceptions.RayError):
                continue
            for key, n in snap["transitions"].items():
                transitions[key] = transitions.get(key, 0) + n
        by_status: dict[str, int] = {}
        for counts in await asyncio.to_thread(lambda: [r.count_by_status() for r in self.readers]):
            for status, n in counts.items():
                by_status[status] = by_status.get(status, 0) + n
        return {"transitions": transitions, "byStatus": by_status}
