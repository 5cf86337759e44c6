"""Process actors: one Ray actor per fulfilment process replica, named ``process-<kind>-<n>``.

A request actor delegates each step of its fulfilment as an *activity* with a stable id. A process
actor that receives an activity id it has already done returns the first outcome and does nothing
again; two concurrent deliveries of the same id share one execution.

An outcome is a dict: ``{"outcome": "completed", "result": {...}}`` when the step is done, or
``{"outcome": "needsPerson", "reason": "..."}`` when the step cannot be done automatically and a
CSR must take over. A raised exception is a technical failure: the request actor retries it.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

import ray

from bss.store import BssStore

Outcome = dict[str, Any]


def completed(result: dict[str, Any]) -> Outcome:
    return {"outcome": "completed", "result": result}


def needs_person(reason: str) -> Outcome:
    return {"outcome": "needsPerson", "reason": reason}


class BillingProcess:
    """billingInquiry: balance, due date, standing and last payment of a billing account."""

    kind = "billing"

    def __init__(self, bss: BssStore):
        self.bss = bss

    def accountSummary(self, request: dict[str, Any]) -> Outcome:
        account_id = request["characteristics"].get("billingAccountId")
        summary = self.bss.account_summary(str(account_id))
        if summary is None:
            return needs_person(f"billing account {account_id} not found")
        party_ids = {p["id"] for p in request["relatedParty"]}
        if summary["customerId"] not in party_ids:
            return needs_person(f"billing account {account_id} does not belong to the related party")
        return completed(summary)


PROCESSES: dict[str, type] = {BillingProcess.kind: BillingProcess}


def step(handler: object, activity_kind: str) -> Callable[[dict[str, Any]], Outcome]:
    fn = getattr(handler, activity_kind, None)
    if fn is None or activity_kind.startswith("_"):
        raise ValueError(f"process {getattr(handler, 'kind', '?')} has no activity {activity_kind!r}")
    return fn


@ray.remote(max_restarts=-1, max_task_retries=0)
class ProcessActor:
    def __init__(self, kind: str, index: int, bss_path: str):
        self.kind = kind
        self.index = index
        self.handler = PROCESSES[kind](BssStore(bss_path))
        self.done: dict[str, Outcome] = {}
        self.inflight: dict[str, asyncio.Task] = {}

    async def run(self, activity_id: str, activity_kind: str, request: dict[str, Any]) -> Outcome:
        if activity_id in self.done:
            return self.done[activity_id]
        task = self.inflight.get(activity_id)
        if task is None:
            fn = step(self.handler, activity_kind)
            task = self.inflight[activity_id] = asyncio.create_task(asyncio.to_thread(fn, request))
        try:
            outcome = await asyncio.shield(task)
        finally:
            if task.done():
                self.inflight.pop(activity_id, None)
        self.done[activity_id] = outcome
        return outcome

    async def ping(self) -> str:
        return f"process-{self.kind}-{self.index}"
