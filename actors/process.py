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


def _run_all(calls: list[tuple[Any, dict[str, Any]]]) -> list[Any]:
    """In the worker thread: each activity's outcome, or the exception it raised."""
    out: list[Any] = []
    for fn, payload in calls:
        try:
            out.append(fn(payload))
        except Exception as exc:
            out.append(exc)
    return out


@ray.remote(max_restarts=-1, max_task_retries=0)
class ProcessActor:
    def __init__(self, kind: str, index: int, bss_path: str, bss_url: str | None = None, nice: int = 0):
        if nice > 0:  # fulfilment yields the CPU to intake (hosts, gateway) when both want it
            os.nice(nice)
        self.kind = kind
        self.index = index
        bss = open_bss(bss_url, local=bss_path) if bss_url else open_bss(bss_path)
        self.handler = PROCESSES[kind](bss)
        self.remote_bss = bool(bss_url)
        self.done: OrderedDict[str, Outcome] = OrderedDict()
        self.inflight: dict[str, asyncio.Future] = {}

    async def run(self, activity_id: str, activity_kind: str, payload: dict[str, Any]) -> Outcome:
        (answer,) = await self.run_many([(activity_id, activity_kind, payload)])
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def run_many(self, items: list[tuple[str, str, dict[str, Any]]]) -> list[Outcome | Exception]:
        """Several activities ``(id, kind, payload)`` in one call, each answered with its outcome or
        its own error. With the embedded BSS the new ones run one after another in one worker thread
        (one thread hop per batch, not per activity); with a BSS over HTTP each has its own thread.
        An id done before is answered from memory, and an id in flight
        waits for that execution."""
        out: list[Outcome | Exception | None] = [None] * len(items)
        loop = asyncio.get_running_loop()
        todo: list[tuple[int, str, Any, dict[str, Any], asyncio.Future]] = []
        waits: list[tuple[int, asyncio.Future]] = []
        for i, (activity_id, kind, payload) in enumerate(items):
            if activity_id in self.done:
                out[i] = self.done[activity_id]
            elif activity_id in self.inflight:
                waits.append((i, self.inflight[activity_id]))
            else:
                try:
                    fn = step(self.handler, kind)
                except ValueError as exc:
                    out[i] = exc
                    continue
                fut = self.inflight[activity_id] = loop.create_future()
                todo.append((i, activity_id, fn, payload, fut))
        if todo:
            try:
                calls = [(fn, payload) for _, _, fn, payload, _ in todo]
                if self.remote_bss:  # network round trips: one thread each, so they overlap
                    parts = await asyncio.gather(*(asyncio.to_thread(_run_all, [c]) for c in calls))
                    results = [r for part in parts for r in part]
                else:  # the embedded SQLite BSS answers in microseconds: one thread hop per batch
                    results = await asyncio.to_thread(_run_all, calls)
            except BaseException as exc:  # cancelled: nobody may wait forever on these ids
                for _, activity_id, _, _, fut in todo:
                    self.inflight.pop(activity_id, None)
                    if not fut.done():
                        fut.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
                        fut.exception()
                raise
            for (i, activity_id, _, _, fut), result in zip(todo, results, strict=True):
                self.inflight.pop(activity_id, None)
                out[i] = result
                if isinstance(result, Exception):
                    fut.set_exception(result)
                    fut.exception()  # retrieved: a waiter may never come
                else:
                    self._remember(activity_id, result)
                    fut.set_result(result)
        for i, fut in waits:
            try:
                out[i] = await asyncio.shield(fut)
            except Exception as exc:
                out[i] = exc
        return out  # type: ignore[return-value]

    def _remember(self, activity_id: str, outcome: Outcome) -> None:
        self.done[activity_id] = outcome
        if len(self.done) > REMEMBERED:
            self.done.popitem(last=False)

    async def inflight(self) -> list[str]:
        """The activity ids this process is working on right now."""
        return sorted(self.inflight)

    async def pid(self) -> int:
        """The OS process of this replica (it changes when Ray restarts the actor)."""
        return os.getpid()

    async def ping(self) -> str:
        return f"process-{self.kind}-{self.index}"
