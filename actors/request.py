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


from . import lifecycle, sla
from .batching import Batcher
from .clock import Clock, SystemClock
from .errors import Conflict, NotFound, NotReady
from .flows import FLOWS, Effect, Flow, Hold, Note, Resolve, Run, Wait
from .journal import Journal, Write, ts
from .models import (
    FINAL_STATUSES,
    TERMINAL_ACTIVITY,
    Activity,
    ActivityStatus,
    RequestState,
    Status,
    TimelineEntry,
)
from .policy import TypePolicy
from .timers import Scheduler

log = logging.getLogger(__name__)

TransitionHook = Callable[[RequestState, Status, Status], None]
SlaHook = Callable[[RequestState, str, str], None]  # (state, slaWarning|slaBreached, target)

SYSTEM = "system"
OPEN_WORK = (Status.acknowledged, Status.in_progress)
CONFIRMATION = "close.confirmation"  # resolved: closes when the customer has not answered by then
SYSTEM_TIMERS = (sla.PREFIX, "close.")  # the other timers are the flow's, and last one wait (pending)


def flow_timer(name: str) -> bool:
    return not name.startswith(SYSTEM_TIMERS)


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
        on_sla: SlaHook | None = None,
        on_final: Callable[[RequestActor], None] | None = None,
        scheduler: Scheduler | None = None,
    ):
        self.state = state
        self.policy = policy
        self.flow = flow_for(policy)
        self.journal = journal
        self.processes = processes
        self.on_transition = on_transition
        self.on_sla = on_sla
        self.on_final = on_final
        self.clock = clock or SystemClock()
        self.scheduler = scheduler if scheduler is not None else Scheduler(self.clock)  # a host shares one
        self.lock = asyncio.Lock()
        self.inflight = 0  # messages inside _change, waiting for the lock included
        self._json = state_json or state.model_dump_json()  # the last committed state
        self._sla_at = self._sla_offset(self._json)
        self._committed_status = state.status
        self._events: list[tuple[str, str]] = []
        self._body_hash: str | None = None  # set on the create's commit only
        self._driver: asyncio.Task | None = None
        self._ringing: asyncio.Task | None = None  # firing the timers that are due

    # -- reads ------------------------------------------------------------------------------
    def status_json(self) -> bytes:
        """The last committed state; while the SLA clock runs, its time left is as of now."""
        if self._sla_at < 0:
            return self._json.encode()
        sla.refresh(self._sla, self.clock.now())
        return f"{self._json[:self._sla_at]}{self._sla.model_dump_json()}}}".encode()

    def _sla_offset(self, state_json: str) -> int:
        """Where the ``sla`` object starts in the committed JSON when its time left runs, else -1;
        ``self._sla`` is then a copy of the committed clock. ``sla`` is the model's last field, so a
        fresh one is spliced in before the closing brace."""
        if not sla.running(self.state.sla):
            return -1
        c = self.state.sla  # a shallow copy and its own containers: a deep copy costs ~90 us
        self._sla = c.model_copy(update={"warned": list(c.warned), "breached": list(c.breached),
                                         "timeLeft": dict(c.timeLeft)})
        at = state_json.rfind(',"sla":')
        return at + len(',"sla":') if at >= 0 else -1

    def idle(self) -> bool:
        """Nothing in flight: no message, no activity being driven, no timer firing. Only an idle
        actor is passivated."""
        return (self.inflight == 0 and (self._driver is None or self._driver.done())
                and (self._ringing is None or self._ringing.done()))

    def passivate(self) -> datetime | None:
        """The earliest timer's due date (the state is in the journal already), so the host can
        arm its wake-up in this actor's place."""
        return min(self.state.timers.values(), default=None)

    # -- messages ---------------------------------------------------------------------------
    async def persist_created(self, body_hash: str | None = None) -> None:
        """Journal the new request (the create is acknowledged only after this returns)."""
        async with self.lock:
            write = Write(self.state, self._json, [("created", self._json)], body_hash)
            await self.journal.commit([write])

    async def create(self, body_hash: str | None = None) -> None:
        """Journal the new request together with its first step (inProgress, and the first
        activity started), one commit instead of two; then drive that activity. The create is
        acknowledged only after this returns."""
        async with self._change():
            self._events.append(("created", self._json))
            self._body_hash = body_hash
            job = self._begin() if self.state.status == Status.acknowledged else None
        if job is not None:
            self._driver = asyncio.get_running_loop().create_task(self._drive(job), name=f"drive-{self.state.id}")
        else:
            self.start()

    def start(self) -> None:
        """Begin, or resume after a restart, whatever the request has to do by itself: the next
        activity, and its timers."""
        self._sync_timers()
        if self._runnable() and (self._driver is None or self._driver.done()):
            self._driver = asyncio.get_running_loop().create_task(self._drive(), name=f"drive-{self.state.id}")

    def _sync_timers(self) -> None:
        """The scheduler calls this actor back at the earliest timer of its committed state."""
        due = min(self.state.timers.values(), default=None)
        if due is None:
            self.scheduler.disarm(self.state.id)
        else:
            self.scheduler.arm(self.state.id, due, self._alarm)

    def _alarm(self) -> None:
        if self._ringing is None or self._ringing.done():
            self._ringing = asyncio.get_running_loop().create_task(self._ring(), name=f"timers-{self.state.id}")

    @asynccontextmanager
    async def _change(self):
        """One message's change: under the lock, committed at the end; any error puts back the last
        committed state, so a refused or failed message leaves the request exactly as it was."""
        self.inflight += 1
        try:
            async with self.lock:
                try:
                    yield
                    await self._commit()
                except BaseException:
                    self.state, self._events = RequestState.model_validate_json(self._json), []
                    raise
        finally:
            self.inflight -= 1

    async def transition(self, target: Status, actor: str, reason: str | None) -> bytes:
        """Move the request to ``target`` if the lifecycle table allows it, else ``InvalidTransition``
        and nothing changes. A final status goes through Close Request (``_close``)."""
        async with self._change():
            self._party_may_act(actor)
            if target in FINAL_STATUSES:
                self._close(target, actor, reason)
            else:
                self._transition(target, actor, reason)
        if target not in OPEN_WORK and self._driver is not None and not self._driver.done():
            self._driver.cancel()
        self.start()
        return self.status_json()

    def _party_may_act(self, actor: str) -> None:
        """A party acts only on requests it is a related party of; another's answers 404, as an
        unknown id would (the gateway checks too: this holds for any caller of the actor)."""
        if actor.startswith("party:") and actor[6:] not in {p.id for p in self.state.relatedParty}:
            raise NotFound(f"no request with id {self.state.id}", "id")

    async def cancel(self, actor: str, reason: str | None) -> bytes:
        return await self.transition(Status.cancelled, actor, reason or "cancelled on request")

    async def update(self, actor: str, changes: dict[str, Any]) -> bytes:
        """Change descriptive attributes (``description``, ``interaction``; the TMF683 PATCH): recorded
        in the timeline and as an ``updated`` event naming them. A final request refuses (409)."""
        async with self._change():
            s = self.state
            if s.is_final:
                raise Conflict(f"request {s.id} is {s.status}: it takes no more changes", "status")
            changed = [k for k in ("description", "interaction") if k in changes and changes[k] != getattr(s, k)]
            if not changed:
                return self.status_json()
            for k in changed:
                setattr(s, k, changes[k])
            names = sorted(set(changes.get("attributes") or changed))
            s.timeline.append(TimelineEntry(event="updated", actor=actor, at=self.clock.now(),
                                            reason=f"changed: {', '.join(names)}"))
            self._events.append(("updated", json.dumps({"attributes": names, "actor": actor})))
        return self.status_json()

    async def hide(self, actor: str, reason: str | None) -> bytes:
        """Deleted through the TMF683 API: hidden there from now on (a ``deleted`` event), kept in the
        journal. Allowed on a final request; a second call changes nothing."""
        async with self._change():
            s = self.state
            if not s.hidden:
                s.hidden = True
                s.timeline.append(TimelineEntry(event="deleted", actor=actor, at=self.clock.now(), reason=reason))
                self._events.append(("deleted", json.dumps({"actor": actor, "reason": reason})))
        return self.status_json()

    async def act(self, name: str, actor: str, data: dict[str, Any]) -> bytes:
        """A CSR's or the customer's action (claim, release, approve, accept, ...)."""
        async with self._change():
            self._party_may_act(actor)
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
            elif name == "requestInformation":
                self._request_information(actor, data["question"])
            elif name == "information":
                lifecycle.check(self.state.id, self.state.status, Status.in_progress)
                self._transition(Status.in_progress, actor, "the customer added information")
                self._apply([Note(result={"information": data.get("text")}),
                             Hold(self.flow.queue, "the customer added information: a CSR reviews it")], actor)
            elif name == "confirm":
                self._in_confirmation_window(name)
                self._close(Status.closed, actor, data.get("reason") or "the customer confirmed the resolution")
            elif name == "reopen":
                self._in_confirmation_window(name)
                self._transition(Status.in_progress, actor, f"reopened: {data.get('reason') or 'no reason given'}")
                self._apply([Hold(self.flow.queue, "reopened by the customer: a CSR looks again")], actor)
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
        self._responded()

    def _request_information(self, actor: str, question: str) -> None:
        """A CSR asks the customer: the request waits (pending, the SLA clock stops) for the
        customer's ``information``, which brings it back to the CSR queue."""
        s = self.state
        if s.status != Status.held:
            raise Conflict(f"only a held request can ask the customer for information; this one is {s.status}",
                           "action")
        self._holds_claim(actor, "requestInformation")
        self._apply([Wait(f"waiting for the customer: {question}")], actor)
        self._events.append(("informationRequired", json.dumps({"question": question, "actor": actor})))

    def _in_confirmation_window(self, action: str) -> None:
        s = self.state
        if s.status != Status.resolved:
            raise Conflict(f"{action} needs a resolved request; this one is {s.status}", "action")
        ends = s.timers.get(CONFIRMATION)
        if ends is not None and ends <= self.clock.now():
            raise Conflict(f"the confirmation window of request {s.id} ended at {ends:%Y-%m-%d %H:%M:%S} UTC; "
                           f"it is being closed", "action")

    def _responded(self) -> None:
        """The request is taken up: the SLA's response target is met."""
        if self.state.sla is not None and self.state.sla.respondedAt is None:
            self.state.sla.respondedAt = self.clock.now()

    def _holds_claim(self, actor: str, action: str) -> None:
        s = self.state
        if s.assignee != actor or (s.claimExpiresAt and s.claimExpiresAt <= self.clock.now()):
            raise Conflict(f"{action} needs a claim on the request by {actor}; claim it first", "assignee")

    # -- fulfilment -------------------------------------------------------------------------
    def _runnable(self) -> bool:
        s = self.state
        return s.status == Status.acknowledged or (
            s.status == Status.in_progress and any(a.status not in TERMINAL_ACTIVITY for a in s.activities))

    async def _drive(self, first: tuple | None = None) -> None:
        try:
            if first is not None and not await self._run(first):
                return
            while await self._step():
                pass
        except asyncio.CancelledError:
            raise
        except Exception:  # a journal failure: the request stays as last committed; a restart resumes it
            log.exception("request %s: fulfilment stopped", self.state.id)

    async def _step(self) -> bool:
        """Run one activity attempt; False when there is nothing more to do by itself."""
        async with self._change():
            job = self._begin()
        return False if job is None else await self._run(job)

    def _begin(self) -> tuple | None:
        """Under the lock: take the request up if it is new, and start its next activity; the job
        to run, or None when there is nothing to do by itself."""
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
            return None
        act.attempts += 1
        act.startedAt = act.startedAt or self.clock.now()
        self._responded()
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
        return activity_id, kind, attempt, process, payload

    async def _run(self, job: tuple) -> bool:
        """Run a started activity (outside the lock), then record its outcome; False when the
        request moved on meanwhile."""
        activity_id, kind, attempt, process, payload = job
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

    async def _ring(self) -> None:
        """Fire every timer due by now, earliest first, each in its own change."""
        while not self.state.is_final:
            now = self.clock.now()
            ready = sorted((d, n) for n, d in self.state.timers.items() if d <= now)
            if not ready:
                break
            await self._fire(ready[0][1], ready[0][0])
        if not self.state.is_final:
            self.start()

    async def _fire(self, name: str, due: datetime) -> None:
        async with self._change():
            if self.state.timers.get(name) != due:
                return  # disarmed or re-armed meanwhile
            del self.state.timers[name]
            if name.startswith(sla.PREFIX):
                self._sla_fired(name)
            elif name == CONFIRMATION:
                self._confirmation_ended()
            else:
                self.state.timeline.append(TimelineEntry(event=f"timer.{name}", actor=SYSTEM, at=self.clock.now()))
                self._events.append((f"timer.{name}", "{}"))
                self._apply(self.flow.timer(self.state, name), SYSTEM)

    def _sla_fired(self, name: str) -> None:
        s, policy = self.state, self.policy.sla
        if s.sla is None or policy is None:
            return
        fired = sla.fire(s.sla, policy, name)
        if fired is None:
            return
        event, target, action = fired
        target_due = s.sla.responseDue if target == sla.RESPONSE else s.sla.resolutionDue
        reason = f"{target} due at {target_due:%Y-%m-%d %H:%M:%S} UTC ({s.sla.policy} policy)"
        if action.raisePriority and s.priority > 1:
            s.priority -= 1
            reason += f"; priority raised to {s.priority}"
        if action.escalateTo:
            s.sla.escalatedTo = action.escalateTo
            reason += f"; escalated to the {action.escalateTo} queue"
            if s.status == Status.held:
                s.queue, s.assignee, s.claimExpiresAt = action.escalateTo, None, None
        s.timeline.append(TimelineEntry(event=event, actor=SYSTEM, at=self.clock.now(), reason=reason))
        self._events.append((event, json.dumps({
            "target": target, "due": ts(target_due), "policy": s.sla.policy, "priority": s.priority,
            "escalatedTo": action.escalateTo})))
        if self.on_sla is not None:
            self.on_sla(s, event, target)

    def _confirmation_ended(self) -> None:
        s = self.state
        if any(a.status not in TERMINAL_ACTIVITY for a in s.activities):  # not before they end
            s.timers[CONFIRMATION] = self.clock.now() + timedelta(minutes=self.policy.confirmationMinutes)
            return
        self._close(Status.closed, SYSTEM, "the confirmation window ended without an answer from the customer")

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
                s.queue = s.sla.escalatedTo if s.sla is not None and s.sla.escalatedTo else eff.queue
            elif isinstance(eff, Wait):
                self._via_in_progress(Status.pending, actor, eff.reason)
                for name, after in eff.timers.items():
                    s.timers[name] = self.clock.now() + after
            elif isinstance(eff, Resolve):
                s.resolution = eff.resolution
                self._transition(Status.resolved, actor, eff.reason)
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
        if target != Status.pending:  # a wait's timers mean nothing once the request moves on
            for name in [n for n in s.timers if flow_timer(n)]:
                del s.timers[name]
        self._events.append(("statusChanged", json.dumps(
            {"from": previous.value, "to": target.value, "actor": actor, "reason": reason})))
        now = self.clock.now()
        if target == Status.resolved:
            self._responded()
            if s.sla is not None:
                s.sla.resolvedAt = now
            s.timers[CONFIRMATION] = now + timedelta(minutes=self.policy.confirmationMinutes)
            self._events.append(("resolved", json.dumps({"resolution": s.resolution, "reason": reason,
                                                         "confirmBy": ts(s.timers[CONFIRMATION])})))
        elif previous == Status.resolved and target == Status.in_progress:  # reopened
            s.timers.pop(CONFIRMATION, None)
            s.resolution = None
            if s.sla is not None:
                s.sla.resolvedAt = None

    def _close(self, target: Status, actor: str, reason: str | None) -> None:
        """Close Request: the only way to a final status. Closing needs every activity ended;
        cancelling or rejecting cancels those still running. Records ``closedAt`` and the resolution
        code, and emits ``closed``; the host then frees the actor."""
        s = self.state
        lifecycle.check(s.id, s.status, target)
        running = [a for a in s.activities if a.status not in TERMINAL_ACTIVITY]
        if target == Status.closed and running:
            raise Conflict(f"request {s.id} has activities still running ({', '.join(a.kind for a in running)}); "
                           f"it closes once they end", "status")
        for act in running:
            self._activity(act, ActivityStatus.cancelled, f"request {target}")
        self._transition(target, actor, reason)
        s.closedAt = self.clock.now()
        s.resolution = s.resolution or target.value
        s.timers.clear()
        s.queue = s.assignee = s.claimExpiresAt = None
        self._events.append(("closed", json.dumps({"status": target.value, "resolution": s.resolution,
                                                   "closedAt": ts(s.closedAt), "actor": actor, "reason": reason})))

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
        body_hash, self._body_hash = self._body_hash, None
        s.lastUpdate = now = self.clock.now()
        if s.sla is not None and self.policy.sla is not None:
            wanted = sla.sync(s.sla, self.policy.sla, s.status, now)
            for name in [n for n in s.timers if n.startswith(sla.PREFIX) and n not in wanted]:
                del s.timers[name]
            s.timers.update(wanted)
        state_json = s.model_dump_json()
        await self.journal.commit([Write(s, state_json, events, body_hash)])  # on failure, _change puts it back
        before, self._json, self._committed_status = self._committed_status, state_json, s.status
        self._sla_at = self._sla_offset(state_json)
        if s.timers or self.scheduler.due(s.id) is not None:
            self._sync_timers()
        if self.on_transition is not None and before != s.status:
            self.on_transition(s, before, s.status)
        if s.is_final:
            if self._driver is not None and not self._driver.done() and self._driver is not asyncio.current_task():
                self._driver.cancel()
            if self.on_final is not None:
                self.on_final(self)
