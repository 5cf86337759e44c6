"""A request-host shard in the test's own event loop, on a manual clock: SLA timers, the
confirmation window and passivation are driven by moving time, never by sleeping. Process
activities run the real process classes in a thread against a demo BSS file (no Ray needed)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from actors.batching import Batcher
from actors.clock import ManualClock
from actors.host import Shard
from actors.journal import SQLiteJournal
from actors.process import step
from actors.processes import PROCESSES
from bss import demo, open_bss
from routing.models import RequestCreate
from routing.router import Classifier
from routing.table import RoutingTable


def local_processes(bss_path: Path) -> dict[str, list[Batcher]]:
    demo.ensure(bss_path, 20)
    out = {}
    for kind, cls in PROCESSES.items():
        handler = cls(open_bss(bss_path))

        async def run_many(items, handler=handler):
            async def one(activity_id, activity_kind, payload):
                return await asyncio.to_thread(step(handler, activity_kind), payload)
            return await asyncio.gather(*(one(*item) for item in items), return_exceptions=True)
        out[kind] = [Batcher(run_many)]
    return out


class ShardRig:
    """A shard, its journal, its clock, and shortcuts to create requests and act on them."""

    def __init__(self, tmp_path: Path, passivate_after: float | None = None, table: RoutingTable | None = None,
                 shard_options: dict[str, Any] | None = None, **policy_changes: dict[str, Any]):
        self.clock = ManualClock()
        self.table = table or RoutingTable.load()
        policies = self.table.policies()
        for rtype, changes in policy_changes.items():
            policies[rtype] = policies[rtype].model_copy(update=changes)
        self.classifier = Classifier(self.table)
        self.journal = SQLiteJournal(tmp_path / "shard.db")
        self.shard = Shard("test-host", self.journal, policies, local_processes(tmp_path / "bss.db"),
                           clock=self.clock, passivate_after=passivate_after, classifier=self.classifier,
                           **(shard_options or {}))
        self.shard.recover()

    def new(self, request_type: str = "inquiry", party: str = "CUST-0001", priority: int = 3,
            key: str | None = None, **characteristics: Any) -> tuple[str, str, str]:
        """A classified create for the shard: ``(id, state JSON, body hash)``."""
        body = RequestCreate(requestType=request_type, direction="inbound", channel="web", priority=priority,
                             relatedParty=[{"id": party, "role": "customer"}], description="garden gnomes?",
                             characteristics=characteristics)
        state = self.classifier.classify(body, key, "api", now=self.clock.now())
        return state.id, state.model_dump_json(), body.body_hash()

    async def create(self, request_type: str = "inquiry", party: str = "CUST-0001", priority: int = 3,
                     **characteristics: Any) -> str:
        rid, state_json, body_hash = self.new(request_type, party, priority, **characteristics)
        created, _ = await self.shard.create(state_json, body_hash)
        assert created
        await self.settle()
        return rid

    async def status(self, rid: str) -> dict[str, Any]:
        return json.loads(await self.shard.status(rid))

    async def act(self, rid: str, action: str, actor: str, **data: Any) -> dict[str, Any]:
        body = json.loads(await self.shard.act(rid, action, actor, data))
        await self.settle()
        return body

    async def advance(self, **delta: float) -> None:
        await self.clock.advance(timedelta(**delta))
        await self.settle()

    async def settle(self) -> None:
        """Let the actors finish what they are doing (activities run in threads)."""
        for _ in range(400):
            busy = [a for a in self.shard.actors.values() if not a.idle()]
            # Requests in line wait for room; a driver just ended hands its room on a moment later
            # (a done callback), so 'driving' with no busy actor means: not settled yet.
            waiting = self.shard.ready and (self.shard._room() or self.shard.driving > 0)
            if not busy and not waiting:
                await asyncio.sleep(0.01)
                return
            await asyncio.sleep(0.01)
        raise AssertionError("actors still busy after 4 s")

    def events(self, rid: str, *types: str) -> list[dict[str, Any]]:
        return [e for e in self.journal.events(rid) if not types or e["type"] in types]

    def close(self) -> None:
        self.shard.stop()
        self.journal.close()
