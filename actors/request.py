"""The request actor: one request's state, its child-activity handles and its lock.

It is a plain object, hosted by a ``RequestHost`` shard or by a ``DedicatedRequest`` Ray actor; the
same class either way. Every message that changes the request takes ``self.lock``, so messages to
one request are handled strictly one at a time. What the request does next is decided by its
flow (``actors.flows``); the actor applies the flow's effects and journals the result, in one
commit with the event that caused them, before the change is acknowledged or visible: status reads
answer the last committed JSON, and a failed commit puts the last committed state back.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
import logging
import zlib
from datetime import datetime, timedelta
from typing import Any, Callable


from . import lifecycle
from .batching import Batcher
from .clock import Clock, SystemClock
from .errors import Conflict, NotFound, NotReady
from .flows import FLOWS, Effect, Flow, Hold, Note, Resolve, Run, Wait
from .journal import Journal, Write
from .models import (
    TERMINAL_ACTIVITY,
    Activity,
    ActivityStatus,
    RequestState,
    Status,
    TimelineEntry,
)
from .policy import TypePolicy

log = logging.getLogger(__name__)

TransitionHook = Callable[[RequestState, Status, Status], None]

SYSTEM = "system"
OPEN_WORK = (Status.acknowledged, Status.in_progress)


def flow_for(policy: TypePolicy) -> Flow:
    return FLOWS.get(policy.requestType, Flow)(policy.rules)


class RequestActor:
    def __init__(
        self,
        state: RequestState,
        policy: TypePolicy,
        journal: Journal,
        processes: dict[str, list[Batcher]],
        on_transition: TransitionHook | None = None,
        clock: Clock | None = None,
        state_json: str | None = None,
    ):
        self.state = state
        self.policy = policy
        self.flow = flow_for(policy)
        self.journal = journal
        self.processes = processes
        self.on_transition = on_transition
        self.clock = clock or SystemClock()
        self.lock = asyncio.Lock()
        self._json = state_json or state.model_dump_json()  # the last committed state
        self._committed_status = state.status
        self._events: list[tuple[str, str]] = []
        self._driver: asyncio.Task | None = None
        self._timers: dict[str, asyncio.Task] = {}

    # -- reads ------------------------------------------------------------------------------
    def status_json(self) -> bytes:
        return self._json.encode()

    # -- messages ---------------------------------------------------------------------------
    async def persist_created(self, body_hash: str | None = None) -> None:
        """Journal the new request (the create is acknowledged only after this returns)."""
        async with self.lock:
            write = Write(self.state, self._json, [("created", self._json)], body_hash)
            await self.journal.commit([write])

    def start(self) -> None:
        """Begin, or resume after a restart, whatever the request has to do by itself: the next
        activity, and its timers."""
        self._sync_timers()
        if self._runnable() and (self._driver is None or self._driver.done()):
            self._driver = asyncio.get_running_loop().create_task(self._drive(), name=f"drive-{self.state.id}")

    def _sync_timers(self) -> None:
        """One task per armed timer of the committed state; disarmed ones are cancelled."""
        for name in [n for n in self._timers if n not in self.state.timers]:
            self._timers.pop(name).cancel()
        for name, due in self.state.timers.items():
            if name not in self._timers:
                self._timers[name] = asyncio.get_running_loop().create_task(self._timer(name, due))

    @asynccontextmanager
    async def _change(self):
        """One message's change: under the lock, committed at the end; any error puts back the last
        committed state, so a refused or failed message leaves the request exactly as it was."""
        async with self.lock:
            try:
                yield
                await self._commit()
            except BaseException:
                self.state, self._events = RequestState.model_validate_json(self._json), []
                raise

    async def transition(self, target: Status, actor: str, reason: str | None) -> bytes:
        """Move the request to ``target`` if the lifecycle table allows it, else ``InvalidTransition``
        and nothing changes. Cancelling also cancels every activity still running."""
        async with self._change():
            self._transition(target, actor, reason)
            if target == Status.cancelled:
                for act in self.state.activities:
                    if act.status not in TERMINAL_ACTIVITY:
                        self._activity(act, ActivityStatus.cancelled, "request cancelled")
        if target not in OPEN_WORK and self._driver is not None and not self._driver.done():
            self._driver.cancel()
        self.start()
        return self.status_json()

    async def cancel(self, actor: str, reason: str | None) -> bytes:
        return await self.transition(Status.cancelled, actor, reason or "cancelled on request")

    async def act(self, name: str, actor: str, data: dict[str, Any]) -> bytes:
        """A CSR's or the customer's action (claim, release, approve, accept, ...)."""
        async with self._change():
            if actor.startswith("party:") and actor[6:] not in {p.id for p in self.state.relatedParty}:
                raise NotFound(f"no request with id {self.state.id}", "id")  # not theirs: no hint it exists
            if self.state.is_final:
                raise Conflict(f"request {self.state.id} is {self.state.status}: it takes no more actions", "action")
            # Recorded first, so the timeline reads action then its consequences; a refused action
            # raises below and the whole change, this entry included, is put back.
            self.state.timeline.append(TimelineEntry(event=f"action.{name}", actor=actor, at=self.clock.now(),
                                                     reason=data.get("reason") or data.get("text")))
            self._events.append((f"action.{name}", json.dumps({"actor": actor, "data": data}, default=str)))
            if name == "claim":
                self._claim(actor, data.get("skills"))
            elif name == "release":
                self._holds_claim(actor, name)
                self.state.assignee, self.state.claimExpiresAt = None, None
            elif name == "information":
                lifecycle.check(self.state.id, self.state.status, Status.in_progress)
                self._transition(Status.in_progress, actor, "the customer added information")
                self._apply([Note(result={"information": data.get("text")}),
                             Hold(self.flow.queue, "the customer added information: a CSR reviews it")], actor)
            else:
                if actor.startswith("csr:"):
                    self._holds_claim(actor, name)
                effects = self.flow.action(self.state, name, {**data, "by": actor})
                self._apply(effects, actor)
        self.start()
        return self.status_json()

    def _claim(self, actor: str, skills: list[str] | None) -> None:
        s, now = self.state, self.clock.now()
        if s.status != Status.held:
            raise Conflict(f"only a held request can be claimed; this one is {s.status}", "action")
        if skills is not None and s.queue not in skills:
            raise Conflict(f"request {s.id} waits in the {s.queue} queue; {actor} has no {s.queue} skill", "csrId")
        if s.assignee and s.assignee != actor and s.claimExpiresAt and s.claimExpiresAt > now:
            raise Conflict(f"request {s.id} is claimed by {s.assignee} until {s.claimExpiresAt:%H:%M:%S}", "assignee")
        s.assignee = actor
        s.claimExpiresAt = now + timedelta(minutes=self.policy.claimMinutes)

    def _holds_claim(self, actor: str, action: str) -> None:
        s = self.state
        if s.assignee != actor or (s.claimExpiresAt and s.claimExpiresAt <= self.clock.now()):
            raise Conflict(f"{action} needs a claim on the request by {actor}; claim it first", "assignee")

    # -- fulfilment -------------------------------------------------------------------------
    def _runnable(self) -> bool:
        s = self.state
        return s.status == Status.acknowledged or (
            s.status == Status.in_progress and any(a.status not in TERMINAL_ACTIVITY for a in s.activities))

    async def _drive(self) -> None:
        try:
            while await self._step():
                pass
        except asyncio.CancelledError:
            raise
        except Exception:  # a journal failure: the request stays as last committed; a restart resumes it
            log.exception("request %s: fulfilment stopped", self.state.id)

    async def _step(self) -> bool:
        """Run one activity attempt; False when there is nothing more to do by itself."""
        async with self._change():
            s = self.state
            if s.status == Status.acknowledged:
                self._transition(Status.in_progress, SYSTEM, f"handled by process {self.policy.process}")
                if self.policy.selfService:
                    effects = self.flow.start(s)
                else:
                    effects = [Hold(self.flow.queue, f"no self service for {s.requestType}: waiting for a CSR")]
                self._apply(effects, SYSTEM)
            act = self._next_activity()
            if act is None:
                return False
            act.attempts += 1
            act.startedAt = act.startedAt or self.clock.now()
            self._activity(act, ActivityStatus.running, f"attempt {act.attempts}")
            activity_id, kind, attempt, process = act.id, act.kind, act.attempts, act.process
            payload = {
                "activityId": act.id,
                "requestId": s.id,
                "requestType": s.requestType,
                "channel": s.channel.value,
                "description": s.description,
                "characteristics": s.characteristics,
                "relatedParty": [p.model_dump(mode="json") for p in s.relatedParty],
                "input": act.input,
            }

        try:  # outside the lock: status queries, actions and cancel are answered meanwhile
            outcome = await self._process(process, activity_id).submit((activity_id, kind, payload))
            error = None
        except Exception as exc:  # the process died, or failed on this activity: a technical failure, retried
            outcome, error = None, f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}"

        async with self._change():
            s = self.state
            act = next(a for a in s.activities if a.id == activity_id)
            if s.status != Status.in_progress or act.status != ActivityStatus.running:
                return False  # cancelled or moved on meanwhile; the result is dropped
            policy = self.policy.retry_for(process)
            retry = outcome is None and attempt < policy.maxAttempts
            if outcome is not None and outcome["outcome"] == "completed":
                act.result = outcome["result"]
                self._activity(act, ActivityStatus.completed)
                self._apply(self.flow.completed(s, act), act.process)
            elif retry:
                act.error = error
                self._activity(act, ActivityStatus.pending, f"retry after: {error}")
            else:  # needsPerson (no retry), or a technical failure out of attempts: the flow decides
                act.error = outcome["reason"] if outcome is not None else f"failed {attempt} times: {error}"
                self._activity(act, ActivityStatus.failed, act.error)
                self._apply(self.flow.failed(s, act), act.process)
        if retry:
            await self.clock.sleep(policy.delay(attempt))
        return True

    def _next_activity(self) -> Activity | None:
        if self.state.status != Status.in_progress:
            return None
        return next((a for a in self.state.activities if a.status not in TERMINAL_ACTIVITY), None)

    def _process(self, kind: str, activity_id: str) -> Batcher:
        replicas = self.processes.get(kind)
        if not replicas:
            raise NotReady(f"no process actor of kind {kind}")
        return replicas[zlib.crc32(activity_id.encode()) % len(replicas)]  # stable across restarts

    async def _timer(self, name: str, due: datetime) -> None:
        await self.clock.sleep_until(due)
        async with self._change():
            if self._timers.get(name) is asyncio.current_task():
                del self._timers[name]
            if self.state.timers.get(name) != due:
                return  # disarmed or re-armed meanwhile
            del self.state.timers[name]
            self.state.timeline.append(TimelineEntry(event=f"timer.{name}", actor=SYSTEM, at=self.clock.now()))
            self._events.append((f"timer.{name}", "{}"))
            self._apply(self.flow.timer(self.state, name), SYSTEM)
        self.start()

    # -- state changes: in place, under the lock, then _commit -----------------------------
    def _apply(self, effects: list[Effect], actor: str) -> None:
        s = self.state
        for eff in effects:
            if isinstance(eff, Run):
                if s.status != Status.in_progress:
                    self._transition(Status.in_progress, actor, f"{eff.kind} by process {eff.process}")
                n = len(s.activities) + 1
                s.activities.append(Activity(id=f"{s.id}:{n}:{eff.kind}", kind=eff.kind, process=eff.process,
                                             input=eff.input, createdAt=self.clock.now()))
            elif isinstance(eff, Hold):
                self._via_in_progress(Status.held, actor, eff.reason)
                s.queue = eff.queue
            elif isinstance(eff, Wait):
                self._via_in_progress(Status.pending, actor, eff.reason)
                for name, after in eff.timers.items():
                    s.timers[name] = self.clock.now() + after
            elif isinstance(eff, Resolve):
                self._transition(Status.resolved, actor, eff.reason)
                s.resolution = eff.resolution
            elif isinstance(eff, Note):
                if eff.result:
                    s.result = {**(s.result or {}), **eff.result}
                s.references.extend(r for r in eff.references if r not in s.references)

    def _via_in_progress(self, target: Status, actor: str, reason: str) -> None:
        """held <-> pending go through inProgress, as the lifecycle table has it."""
        if self.state.status != Status.in_progress and not lifecycle.allowed(self.state.status, target):
            self._transition(Status.in_progress, actor, reason)
        self._transition(target, actor, reason)

    def _transition(self, target: Status, actor: str, reason: str | None) -> None:
        s = self.state
        lifecycle.check(s.id, s.status, target)
        previous = s.status
        s.timeline.append(TimelineEntry(event="statusChanged", actor=actor, fromStatus=previous, toStatus=target,
                                        reason=reason, at=self.clock.now()))
        s.status, s.statusReason = target, reason
        if previous == Status.held:
            s.queue = s.assignee = s.claimExpiresAt = None
        if target != Status.pending:
            s.timers.clear()  # a wait's timers mean nothing once the request moves on
        self._events.append(("statusChanged", json.dumps(
            {"from": previous.value, "to": target.value, "actor": actor, "reason": reason})))

    def _activity(self, act: Activity, status: ActivityStatus, reason: str | None = None) -> None:
        act.status = status
        if status in TERMINAL_ACTIVITY:
            act.endedAt = self.clock.now()
        self._events.append(("activityChanged", act.model_dump_json(exclude={"result", "input"})))

    async def _commit(self) -> None:
        """Journal the state as changed in place since the last commit; on failure, put back the
        last committed state so the change never happened."""
        if not self._events:
            return
        s, events, self._events = self.state, self._events, []
        s.lastUpdate = self.clock.now()
        state_json = s.model_dump_json()
        await self.journal.commit([Write(s, state_json, events)])  # on failure, _change puts the state back
        before, self._json, self._committed_status = self._committed_status, state_json, s.status
        if s.timers or self._timers:
            self._sync_timers()
        if self.on_transition is not None and before != s.status:
            self.on_transition(s, before, s.status)
