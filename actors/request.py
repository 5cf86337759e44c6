"""The request actor: one request's state, its child-activity handles and its lock.

It is a plain object, hosted by a ``RequestHost`` shard or by a ``DedicatedRequest`` Ray actor; the
same class either way. Every message that changes the request takes ``self.lock``, so messages to
one request are handled strictly one at a time, and every change is journaled before it becomes
the actor's state (a failed journal write leaves the request as it was). Status reads take no lock:
they see the last committed state, which is swapped in whole.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from typing import Any, Callable

import ray

from . import lifecycle
from .errors import NotReady
from .journal import Journal, Write
from .models import (
    TERMINAL_ACTIVITY,
    Activity,
    ActivityStatus,
    RequestState,
    Status,
    TimelineEntry,
    utcnow,
)
from .policy import TypePolicy

log = logging.getLogger(__name__)

Event = tuple[str, dict[str, Any]]
TransitionHook = Callable[[RequestState, Status, Status], None]

SYSTEM = "system"


class RequestActor:
    def __init__(
        self,
        state: RequestState,
        policy: TypePolicy,
        journal: Journal,
        processes: dict[str, list[Any]],
        on_transition: TransitionHook | None = None,
    ):
        self.state = state
        self.policy = policy
        self.journal = journal
        self.processes = processes
        self.on_transition = on_transition
        self.lock = asyncio.Lock()
        self._driver: asyncio.Task | None = None
        self._json: bytes | None = None

    # -- reads ------------------------------------------------------------------------------
    def status_json(self) -> bytes:
        if self._json is None:
            self._json = public_json(self.state)
        return self._json

    # -- messages ---------------------------------------------------------------------------
    async def persist_created(self) -> None:
        """Journal the new request (the create is acknowledged only after this returns)."""
        async with self.lock:
            await self._commit(self.state, [("created", self.state.model_dump(mode="json"))])

    def start(self) -> None:
        """Begin, or resume after a restart, the fulfilment of an open request."""
        if self.state.status in (Status.acknowledged, Status.in_progress) and (
            self._driver is None or self._driver.done()
        ):
            self._driver = asyncio.get_running_loop().create_task(self._drive(), name=f"drive-{self.state.id}")

    async def transition(self, target: Status, actor: str, reason: str | None) -> bytes:
        """Move the request to ``target`` if the lifecycle table allows it, else ``InvalidTransition``
        and nothing changes. Cancelling also cancels every activity still running."""
        async with self.lock:
            new = self.state.model_copy(deep=True)
            events = [self._transition(new, target, actor, reason)]
            if target == Status.cancelled:
                for act in new.activities:
                    if act.status not in TERMINAL_ACTIVITY:
                        events.append(self._activity(new, act, ActivityStatus.cancelled, actor, "request cancelled"))
            await self._commit(new, events)
        if target != Status.in_progress and self._driver is not None and not self._driver.done():
            self._driver.cancel()
        self.start()  # back to inProgress: fulfilment goes on
        return self.status_json()

    async def cancel(self, actor: str, reason: str | None) -> bytes:
        return await self.transition(Status.cancelled, actor, reason or "cancelled on request")

    # -- fulfilment -------------------------------------------------------------------------
    async def _drive(self) -> None:
        try:
            while await self._step():
                pass
        except asyncio.CancelledError:
            raise
        except Exception:  # a journal failure: the request stays as last committed; a restart resumes it
            log.exception("request %s: fulfilment stopped", self.state.id)

    async def _step(self) -> bool:
        """Run one activity attempt; False when there is nothing more to do now."""
        async with self.lock:
            if self.state.status == Status.acknowledged:
                new = self.state.model_copy(deep=True)
                ev = self._transition(new, Status.in_progress, SYSTEM, f"fulfilment by process {self.policy.process}")
                await self._commit(new, [ev])
            if self.state.status != Status.in_progress:
                return False
            if not self.policy.selfService and not self.state.activities:
                new = self.state.model_copy(deep=True)
                reason = f"no self service for {new.requestType}: waiting for a CSR"
                await self._commit(new, [self._transition(new, Status.held, SYSTEM, reason)])
                return False
            new = self.state.model_copy(deep=True)
            act = next((a for a in new.activities if a.status not in TERMINAL_ACTIVITY), None)
            if act is None:
                done = [a for a in new.activities if a.status == ActivityStatus.completed]
                if len(done) >= len(self.policy.activities):
                    ev = self._transition(new, Status.resolved, SYSTEM, "every activity completed")
                    await self._commit(new, [ev])
                    return False
                kind = self.policy.activities[len(done)]
                act = Activity(id=f"{new.id}:{len(done) + 1}:{kind}", kind=kind, process=self.policy.process)
                new.activities.append(act)
            act.attempts += 1
            act.startedAt = act.startedAt or utcnow()
            events = [self._activity(new, act, ActivityStatus.running, SYSTEM, f"attempt {act.attempts}")]
            await self._commit(new, events)
            activity_id, activity_kind, attempt = act.id, act.kind, act.attempts
            payload = {
                "requestId": new.id,
                "requestType": new.requestType,
                "characteristics": new.characteristics,
                "relatedParty": [p.model_dump(mode="json") for p in new.relatedParty],
            }

        try:  # outside the lock: status queries and cancel are answered meanwhile
            outcome = await self._process(activity_id).run.remote(activity_id, activity_kind, payload)
            error = None
        except ray.exceptions.RayError as exc:
            outcome, error = None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"

        async with self.lock:
            if self.state.status != Status.in_progress:
                return False  # cancelled meanwhile; the result is dropped
            new = self.state.model_copy(deep=True)
            act = next(a for a in new.activities if a.id == activity_id)
            if outcome is not None and outcome["outcome"] == "completed":
                act.result = outcome["result"]
                new.result = {**(new.result or {}), **outcome["result"]}
                await self._commit(new, [self._activity(new, act, ActivityStatus.completed, act.process)])
                return True
            if outcome is not None:  # needsPerson: no retry, a CSR takes over
                act.error = outcome["reason"]
                events = [self._activity(new, act, ActivityStatus.failed, act.process, outcome["reason"])]
                events.append(self._transition(new, Status.held, act.process, outcome["reason"]))
                await self._commit(new, events)
                return False
            act.error = error
            if attempt >= self.policy.retry.maxAttempts:
                reason = f"activity {act.kind} failed {attempt} times: {error}"
                events = [self._activity(new, act, ActivityStatus.failed, SYSTEM, error)]
                events.append(self._transition(new, Status.held, SYSTEM, reason))
                await self._commit(new, events)
                return False
            events = [self._activity(new, act, ActivityStatus.pending, SYSTEM, f"retry after: {error}")]
            await self._commit(new, events)
        await asyncio.sleep(self.policy.retry.delay(attempt))
        return True

    def _process(self, activity_id: str) -> Any:
        replicas = self.processes.get(self.policy.process)
        if not replicas:
            raise NotReady(f"no process actor of kind {self.policy.process}")
        return replicas[zlib.crc32(activity_id.encode()) % len(replicas)]  # stable across restarts

    # -- state changes (on a copy; committed by _commit) -----------------------------------
    def _transition(self, new: RequestState, target: Status, actor: str, reason: str | None) -> Event:
        lifecycle.check(new.id, new.status, target)
        previous = new.status
        new.timeline.append(
            TimelineEntry(event="statusChanged", actor=actor, fromStatus=previous, toStatus=target, reason=reason)
        )
        new.status = target
        new.statusReason = reason
        return ("statusChanged", {"from": previous.value, "to": target.value, "actor": actor, "reason": reason})

    def _activity(
        self, new: RequestState, act: Activity, status: ActivityStatus, actor: str, reason: str | None = None
    ) -> Event:
        act.status = status
        if status in TERMINAL_ACTIVITY:
            act.endedAt = utcnow()
        new.timeline.append(TimelineEntry(event=f"activity.{status.value}", actor=actor, reason=f"{act.kind}: {reason or status.value}"))
        return ("activityChanged", act.model_dump(mode="json"))

    async def _commit(self, new: RequestState, events: list[Event]) -> None:
        new.lastUpdate = utcnow()
        await self.journal.commit([Write(new, events)])
        previous, self.state, self._json = self.state, new, None
        if self.on_transition is not None and previous.status != new.status:
            self.on_transition(new, previous.status, new.status)


def public_json(state: RequestState) -> bytes:
    return state.model_dump_json(exclude={"bodyHash"}).encode()
