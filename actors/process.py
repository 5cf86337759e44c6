"""The process actor: one Ray actor per process replica, named ``process-<kind>-<n>``.

A request actor delegates each step of its fulfilment as an activity with a stable id. A process
actor that receives an activity id it has already done returns the first outcome and does nothing
again; two concurrent deliveries of the same id share one execution; and because every BSS write
carries an id derived from the activity id, a repeat after a restart of this actor has no second
effect either.
"""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from typing import Any

import ray

from bss import open_bss

from .processes import PROCESSES
from .processes.base import Outcome

REMEMBERED = 100_000  # outcomes kept for fast repeats; older repeats are answered by the BSS's idempotency


def step(handler: object, activity_kind: str):
    fn = getattr(handler, activity_kind, None)
    if fn is None or activity_kind.startswith("_") or not callable(fn):
        raise ValueError(f"process {getattr(handler, 'kind', '?')} has no activity {activity_kind!r}")
    return fn


@ray.remote(max_restarts=-1, max_task_retries=0)
class ProcessActor:
    def __init__(self, kind: str, index: int, bss_path: str, bss_url: str | None = None):
        self.kind = kind
        self.index = index
        bss = open_bss(bss_url, local=bss_path) if bss_url else open_bss(bss_path)
        self.handler = PROCESSES[kind](bss)
        self.done: OrderedDict[str, Outcome] = OrderedDict()
        self.inflight: dict[str, asyncio.Task] = {}

    async def run(self, activity_id: str, activity_kind: str, payload: dict[str, Any]) -> Outcome:
        if activity_id in self.done:
            return self.done[activity_id]
        task = self.inflight.get(activity_id)
        if task is None:
            fn = step(self.handler, activity_kind)
            task = self.inflight[activity_id] = asyncio.create_task(asyncio.to_thread(fn, payload))
            task.add_done_callback(lambda _t: self.inflight.pop(activity_id, None))
        outcome = await asyncio.shield(task)
        self.done[activity_id] = outcome
        if len(self.done) > REMEMBERED:
            self.done.popitem(last=False)
        return outcome

    async def run_many(self, items: list[tuple[str, str, dict[str, Any]]]) -> list[Outcome | Exception]:
        """Several activities ``(id, kind, payload)`` in one call, each answered like ``run``."""
        return await asyncio.gather(*(self.run(*item) for item in items), return_exceptions=True)

    async def inflight(self) -> list[str]:
        """The activity ids this process is working on right now."""
        return sorted(self.inflight)

    async def pid(self) -> int:
        """The OS process of this replica (it changes when Ray restarts the actor)."""
        return os.getpid()

    async def ping(self) -> str:
        return f"process-{self.kind}-{self.index}"
