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
import os
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import ray
from ray.util import metrics as ray_metrics

from . import collector, names
from .clock import Clock, SystemClock
from .errors import IdempotencyConflict, Invalid, NotFound, Overloaded
from .journal import Journal, SQLiteJournal, Write, index_columns
from .models import RequestState, Status
from .policy import Placement, TypePolicy
from .request import RequestActor
from .timers import Scheduler

log = logging.getLogger(__name__)
TIMER_HORIZON = 900.0  # seconds: a passivated request's timer due later stays in the journal only
ARM_SLICE = 1000  # upcoming timers armed between two turns of the event loop
CLASSIFY_SLICE = 100  # creates of a batch classified between two turns of the event loop


class _Metrics:
    """Counters a host keeps: read by the gateway's /metrics and exported to the Ray dashboard.

    Counting is a dict increment; what goes to Ray's metrics agent is sent at most once a second
    (``flush``), as one increment per series: recording each transition with Ray costs its core
    worker more than the rest of the bookkeeping."""

    FLUSH_SECONDS = 1.0

    def __init__(self, host: str):
        self.transitions: Counter[tuple[str, str, str]] = Counter()
        self.sla_events: Counter[tuple[str, str, str]] = Counter()
        self._ray = ray_metrics.Counter(
            "switchboard_transitions",
            description="Request status transitions, by request type and target status.",
            tag_keys=("host", "requestType", "to"),
        )
        self._ray_sla = ray_metrics.Counter(
            "switchboard_sla_events",
            description="SLA warnings and breaches, by request type, event and target.",
            tag_keys=("host", "requestType", "event", "target"),
        )
        self._host = host
        self._sent_transitions: Counter[tuple[str, str]] = Counter()
        self._sent_sla: Counter[tuple[str, str, str]] = Counter()
        self._flusher: asyncio.TimerHandle | None = None

    def sla(self, state: RequestState, event: str, target: str) -> None:
        self.sla_events[(state.requestType, event, target)] += 1
        self._soon()

    def transition(self, state: RequestState, previous: Status, current: Status) -> None:
        self.transitions[(state.requestType, previous.value, current.value)] += 1
        self._soon()

    def _soon(self) -> None:
        if self._flusher is None:
            try:
                self._flusher = asyncio.get_running_loop().call_later(self.FLUSH_SECONDS, self.flush)
            except RuntimeError:  # no loop (a synchronous caller): send now
                self.flush()

    def flush(self) -> None:
        self._flusher = None
        by_target: Counter[tuple[str, str]] = Counter()
        for (rtype, _, to), n in self.transitions.items():
            by_target[(rtype, to)] += n
        for (rtype, to), n in by_target.items():
            if n > self._sent_transitions[(rtype, to)]:
                self._ray.inc(n - self._sent_transitions[(rtype, to)],
                              tags={"host": self._host, "requestType": rtype, "to": to})
                self._sent_transitions[(rtype, to)] = n
        for key, n in self.sla_events.items():
            if n > self._sent_sla[key]:
                rtype, event, target = key
                self._ray_sla.inc(n - self._sent_sla[key], tags={"host": self._host, "requestType": rtype,
                                                                 "event": event, "target": target})
                self._sent_sla[key] = n


@dataclass(frozen=True)
class Intake:
    """Fulfilment yields to bursts of creates. A batch of at least ``burst_batch`` creates reaching a
    host means creates pile up in their callers: the host then takes no new request up (those
    already driving go on) until no such batch has come for twice the usual gap between them (at
    least ``quiet_seconds``, at most ``max_quiet_seconds``: a campaign's batches come less often
    than a gateway's), or until the oldest waiting request has waited ``yield_seconds``: then
    requests are taken up as usual again, so fulfilment never waits longer than that for intake.
    Every create is journaled and answered either way; only when its fulfilment starts moves."""

    burst_batch: int = 8
    yield_seconds: float = 60.0
    quiet_seconds: float = 0.25
    max_quiet_seconds: float = 2.0


class Shard:
    """One shard's request actors, in memory while active and passivated when idle.

    Active actors live in ``self.actors``, least recently used first. An actor idle for
    ``passivate_after`` seconds (by its clock) is unloaded: its state is in the journal already, and
    its earliest timer stays armed in the shard's one scheduler, which wakes it when due. Any message
    or status query reactivates it from the journal, timers included. After a restart only requests
    with work to do are loaded; the others wait in the journal (and in the heap if they have a timer).

    Taking requests up is bounded: at most ``max_driving`` requests started here drive their
    fulfilment at once. A create beyond that is journaled as ``acknowledged`` (the answer does not
    wait for room) and its id waits in ``ready``, first in first out; as drivers finish, the next
    ones are loaded from the journal and started. So a burst of creates (a campaign, many channels
    at once) is acknowledged at the speed of the journal while fulfilment works through it at its
    own pace, and memory holds ids, not actors, for what waits. At most ``max_active`` actors stay
    in memory: past it the least recently used idle ones are passivated at once, not after
    ``passivate_after``.
    """

    def __init__(self, name: str, journal: Journal, policies: dict[str, TypePolicy],
                 processes: dict[str, list[Any]], clock: Clock | None = None,
                 passivate_after: float | None = None, dedicate: Callable[[RequestState], Any] | None = None,
                 max_backlog: int | None = None, max_driving: int | None = None, max_active: int | None = None,
                 max_ready: int | None = None, intake: Intake | None = None, classifier: Any = None,
                 timer_horizon: float | None = TIMER_HORIZON):
        """``classifier``: what turns a create's body into its initial state
        (``routing.router.Classifier``, from the routing table); without it the shard takes
        classified states only (``create_states``). ``timer_horizon``: see ``_wake_at`` (None:
        every timer in memory)."""
        self.name = name
        self.classifier = classifier
        self.journal = journal
        self.policies = policies
        self.processes = processes
        self.clock = clock or SystemClock()
        self.passivate_after = passivate_after
        self.max_backlog = max_backlog  # journal commits waiting: over it, new creates are refused
        self.dedicate = dedicate
        self.max_driving = max_driving  # requests taken up from creates driving at once; None: no bound
        self.max_active = max_active  # actors in memory; past it the least recently used idle ones sleep
        self.max_ready = max_ready  # creates waiting to be taken up; past it, new creates are refused
        self.ready: deque[tuple[str, float]] = deque()  # (id, when lined up): journaled as acknowledged,
        # waiting for room to be taken up
        self.in_line: set[str] = set()  # the same ids: loaded meanwhile (a query), they keep their turn
        self.driving = 0
        self.intake = intake
        self._burst_at = float("-inf")  # when the last burst batch of creates arrived (monotonic)
        self._quiet_for = intake.quiet_seconds if intake else 0.0  # no burst batch for this long: over
        self._resume: asyncio.TimerHandle | None = None
        self.metrics = _Metrics(name)
        self.actors: dict[str, RequestActor] = {}
        self.touched: dict[str, datetime] = {}
        self.dedicated: dict[str, Any] = {}
        self.creating: dict[str, asyncio.Future] = {}
        self.scheduler = Scheduler(self.clock)  # every timer of the shard's requests, active or passivated
        self.asleep: set[str] = set()  # passivated requests with a timer armed
        self.waking: deque[str] = deque()  # passivated requests whose timer is due, waiting for room
        self.waking_ids: set[str] = set()
        self.ringing = 0  # woken requests firing their timers now (at most max_driving)
        self.timer_horizon = timer_horizon
        self._armed_until: datetime | None = None  # every passivated request's timer due by then is armed
        self._horizon: asyncio.Task | None = None
        self._sweeper: asyncio.Task | None = None
        self.rehydrated = self.passivated = self.reactivated = self.deferred = 0

    def recover(self) -> None:
        """After a (re)start: requests with work to do are active again; the others are passivated,
        to be woken by their earliest timer or by their next message."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # recovered outside an event loop (a test's fixture): every timer in memory
            loop = None
        if self.timer_horizon is not None and loop is not None:
            self._armed_until = self.clock.now() + timedelta(seconds=self.timer_horizon)
            self._horizon = loop.create_task(self._horizon_loop(), name=f"{self.name}-timers")
        waiting = []
        for rid, status, request_type, wake_at in self.journal.open_ids():
            self.rehydrated += 1
            policy = self.policies.get(request_type)
            if status == Status.in_progress or (policy is not None and policy.placement == Placement.dedicated):
                self._load(rid, reactivation=False)
            elif status == Status.acknowledged:  # not taken up yet: in line again, as created
                waiting.append((rid, wake_at))
            elif wake_at is not None:
                self._wake_at(wake_at, rid)
        self._lined_up(waiting)
        if self.passivate_after:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_loop(), name=f"{self.name}-sweep")

    def _actor(self, state: RequestState, state_json: str | None = None) -> RequestActor:
        return RequestActor(state, self.policies[state.requestType], self.journal, self.processes,
                            self.metrics.transition, clock=self.clock, state_json=state_json,
                            on_sla=self.metrics.sla, on_final=self._closed, scheduler=self.scheduler)

    def _closed(self, actor: RequestActor) -> None:
        """A request reached a final status: its actor is stopped and its memory freed."""
        rid = actor.state.id
        if self.actors.get(rid) is actor:
            del self.actors[rid]
            self.touched.pop(rid, None)

    def _touch(self, rid: str) -> None:
        actor = self.actors.pop(rid, None)
        if actor is not None:
            self.actors[rid] = actor  # to the end: most recently used
            self.touched[rid] = self.clock.now()

    def _load(self, rid: str, reactivation: bool = True) -> RequestActor | str | None:
        """The request's actor, reactivated from the journal if it was passivated (counted unless
        this is the recovery after a restart); the journaled JSON when the request is final (the
        journal answers for it); None for a dedicated one (``self.dedicated``). Synchronous, so two
        messages can never load one request twice."""
        actor = self.actors.get(rid)
        if actor is not None:
            self._touch(rid)
            return actor
        if rid in self.dedicated:
            return None
        state_json = self.journal.state_json(rid)
        if state_json is None:
            raise NotFound(f"no request with id {rid}", "id")
        state = RequestState.model_validate_json(state_json)
        if state.is_final:
            return state_json
        if self.policies[state.requestType].placement == Placement.dedicated and self.dedicate is not None:
            self.dedicated[rid] = self.dedicate(state)  # as create does: hosted when it cannot spawn
            return None
        actor = self.actors[rid] = self._actor(state, state_json)
        self.touched[rid] = self.clock.now()
        self.asleep.discard(rid)
        self.reactivated += reactivation
        if rid in self.in_line:  # loaded for a query or a message before its turn: it keeps its turn
            actor._sync_timers()
        else:
            actor.start()
        self._trim()
        return actor

    # -- taking requests up -----------------------------------------------------------------
    def _bound(self) -> int | None:
        """How many may drive at once now: ``max_driving``, or none at all while a burst of creates
        comes in (``Intake``), unless the oldest waiting request has waited ``yield_seconds``."""
        if self._yielding():
            return 0
        return self.max_driving

    def _room(self) -> bool:
        bound = self._bound()
        return bound is None or self.driving < bound

    def _yielding(self) -> bool:
        intake, now = self.intake, time.monotonic()
        if intake is None or now - self._burst_at >= self._quiet_for:
            return False
        return not self.ready or now - self.ready[0][1] < intake.yield_seconds

    def _arrived(self, n: int) -> None:
        """A batch of ``n`` creates arrived. A large one means creates pile up behind each other in
        the callers (their batchers send at once when nothing is in flight): a burst. Fulfilment
        then yields to it, and a timer takes requests up again when the burst is over or the
        oldest has waited long enough (no driver may be left to end and call ``_take_up``)."""
        intake = self.intake
        if intake is None or n < intake.burst_batch:
            return
        now = time.monotonic()
        gap = now - self._burst_at
        if gap < intake.max_quiet_seconds:  # the same burst: its batches come about this often
            self._quiet_for = min(intake.max_quiet_seconds, max(intake.quiet_seconds, 2 * gap))
        else:
            self._quiet_for = intake.quiet_seconds
        self._burst_at = now
        if self._resume is None:
            self._resume = asyncio.get_running_loop().call_later(self._quiet_for, self._recheck)

    def _recheck(self) -> None:
        self._resume = None
        self._take_up()
        if self.ready and self._yielding():
            self._resume = asyncio.get_running_loop().call_later(self._quiet_for / 2, self._recheck)

    def _driven_by(self, actor: RequestActor) -> None:
        """Count the actor's driver (if it has one running) against ``max_driving`` until it ends."""
        task = actor._driver
        if task is not None and not task.done():
            self.driving += 1
            task.add_done_callback(self._driver_done)

    def _driver_done(self, _task: asyncio.Task) -> None:
        self.driving -= 1
        self._take_up()

    def _take_up(self) -> None:
        """Start waiting requests, oldest first, while there is room; keep memory within
        ``max_active``. Requests woken by their timers first, within their own room."""
        while self.waking and self._wake_room():
            self._wake_next()
        while self.ready and self._room():
            rid, _ = self.ready.popleft()
            self.in_line.discard(rid)
            try:
                found = self._load(rid, reactivation=False)  # from the journal, unless a query loaded it
            except Exception:  # one unreadable request must not stop the line
                log.exception("%s: could not take up request %s", self.name, rid)
                continue
            if isinstance(found, RequestActor):
                found.start()
                self._driven_by(found)
        self._trim()

    def _trim(self) -> None:
        """Past ``max_active`` actors in memory, passivate the least recently used idle ones (down
        to nine tenths of it, so that this runs once per many creates, not on each)."""
        if self.max_active is not None and len(self.actors) > self.max_active:
            self.passivate_idle(older_than=0, keep=self.max_active * 9 // 10)

    # -- passivation ------------------------------------------------------------------------
    def passivate_idle(self, older_than: float | None = None, keep: int | None = None) -> int:
        """Unload the actors idle for ``older_than`` seconds (the setting by default); with ``keep``,
        only the least recently used of them until ``keep`` actors are left. How many."""
        limit = self.passivate_after if older_than is None else older_than
        if limit is None:
            return 0
        cutoff = self.clock.now() - timedelta(seconds=limit)
        excess = None if keep is None else len(self.actors) - keep
        done = []
        for rid, actor in self.actors.items():  # least recently used first
            if excess is not None and len(done) >= excess:
                break
            if self.touched.get(rid, cutoff) > cutoff:
                break
            if actor.idle():
                done.append((rid, actor))
        for rid, actor in done:
            del self.actors[rid]
            self.touched.pop(rid, None)
            due = actor.passivate()
            if due is not None:
                self._wake_at(due, rid)  # replaces the actor's own callback: nothing refers to it
            else:
                self.scheduler.disarm(rid)
        self.passivated += len(done)
        return len(done)

    async def _sweep_loop(self) -> None:
        interval = max(0.05, min(self.passivate_after / 4, 30.0))
        while True:
            await self.clock.sleep(interval)
            try:
                self.passivate_idle()
            except Exception:  # never let one bad sweep stop passivation for good
                log.exception("%s: passivation sweep failed", self.name)

    def _wake_at(self, due: datetime, rid: str) -> None:
        """Reactivate a passivated request when its earliest timer is due; its actor then fires it.

        Only a timer due within the horizon (``timer_horizon`` seconds) is kept in memory: a
        resolved request waits days for its customer, and a host may hold millions of them. One
        due later is in the journal already (its row's ``wake_at``), and the host arms it when it
        comes within the horizon (``_arm_upcoming``). So a host's memory holds the timers of the
        next minutes, not of every open request."""
        if self._armed_until is not None and due > self._armed_until:
            self.asleep.discard(rid)
            self.scheduler.disarm(rid)  # the actor's own callback, if it had one: nothing refers to it
            return
        self.asleep.add(rid)
        self.scheduler.arm(rid, due, lambda: self._wake(rid))

    async def _horizon_loop(self) -> None:
        assert self.timer_horizon is not None
        while True:
            await self.clock.sleep(max(1.0, self.timer_horizon / 3))
            try:
                await self._arm_upcoming()
            except Exception:  # never let one bad look stop the timers for good
                log.exception("%s: arming upcoming timers failed", self.name)

    async def _arm_upcoming(self) -> None:
        """Arm the passivated requests whose timer has come within the horizon since the last
        look (the journal's ``wake_at``), a slice at a time."""
        assert self.timer_horizon is not None
        until = self.clock.now() + timedelta(seconds=self.timer_horizon)
        upcoming = self.journal.wakes(self._armed_until, until)
        self._armed_until = until  # meanwhile, a request passivated with a timer due by then arms it itself
        for n, (rid, due) in enumerate(upcoming):
            if n and n % ARM_SLICE == 0:
                await asyncio.sleep(0)  # a campaign's requests come within the horizon together
            if rid in self.actors or rid in self.dedicated or rid in self.asleep:
                continue  # an active actor arms its own timers
            self.asleep.add(rid)
            self.scheduler.arm(rid, due, lambda rid=rid: self._wake(rid))

    def _wake(self, rid: str) -> None:
        """A passivated request's timer is due: it is loaded and fires it as soon as fewer than
        ``max_driving`` woken requests are firing theirs. Thousands due at once (a campaign's
        requests, three days on) so come into memory a few hundred at a time, not all together."""
        self.asleep.discard(rid)
        if rid in self.actors or rid in self.waking_ids:
            return
        self.waking.append(rid)
        self.waking_ids.add(rid)
        self._take_up()

    def _wake_room(self) -> bool:
        return self.max_driving is None or self.ringing < self.max_driving

    def _wake_next(self) -> None:
        rid = self.waking.popleft()
        self.waking_ids.discard(rid)
        if rid in self.actors:
            return  # loaded meanwhile (a query, a message): its actor fired its timers itself
        try:
            actor = self._load(rid)
        except Exception:
            log.exception("%s: could not wake request %s", self.name, rid)
            return
        if isinstance(actor, RequestActor):
            actor._alarm()  # now, rather than when the scheduler comes to it
            ring = actor._ringing
            if ring is not None and not ring.done():
                self.ringing += 1
                ring.add_done_callback(self._ring_done)

    def _ring_done(self, _task: asyncio.Task) -> None:
        self.ringing -= 1
        self._take_up()

    def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._horizon is not None:
            self._horizon.cancel()
        if self._resume is not None:
            self._resume.cancel()
        self.scheduler.stop()
        for actor in self.actors.values():
            if actor._driver is not None:
                actor._driver.cancel()

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
            if self._dedicated_type(state.requestType):
                await self._actor(state, state_json).persist_created(body_hash)
                self.dedicated[rid] = self.dedicate(state)
            elif not self.ready and self._room():  # taken up at once: journaled with its first step
                self.driving += 1  # the room is held across the commit
                try:
                    actor = self._actor(state, state_json)
                    await actor.create(body_hash)
                finally:
                    self.driving -= 1
                self.actors[rid] = actor  # visible once durable
                self.touched[rid] = self.clock.now()
                self._driven_by(actor)
                self._trim()
            else:  # no room now: journaled as acknowledged, taken up in turn
                await self.journal.commit([Write(state, state_json, [("created", state_json)], body_hash)])
                self.deferred += 1
                self._lined_up([(rid, min(state.timers.values(), default=None))])
            fut.set_result(body_hash)
            return True, state_json.encode()  # the request as created (acknowledged); GET shows it since
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: a waiting duplicate sees it through _body_hash
            raise
        finally:
            self.creating.pop(rid, None)

    async def create_many(self, items: list[tuple[str, str | bytes, str | None, str, str | None]]
                          ) -> list[tuple[bool, bytes] | Exception]:
        """Many creates in one call, as their callers sent them: ``(id, body JSON, Idempotency-Key,
        actor, campaign id)``, the id as ``routing.router.request_id`` gave it where the create
        arrived. Each is classified here (``classifier.initial``: the initial state, its JSON and
        its journal columns), then created as ``create_states`` does; a body the model or the
        routing table refuses answers ``Invalid`` and fails nothing else. Refused as a whole
        (``Overloaded``) before any of that work when the shard is overloaded."""
        refused = self._refusal()
        if refused is not None:
            return [refused] * len(items)
        if self.classifier is None:
            raise RuntimeError(f"{self.name} has no classifier: it takes states only (create_states)")
        out: list[Any] = [None] * len(items)
        states: list[tuple[str, str, tuple]] = []
        at: list[int] = []
        now = self.clock.now()
        for n, (rid, body_json, key, actor, campaign_id) in enumerate(items):
            if n and n % CLASSIFY_SLICE == 0:
                await asyncio.sleep(0)  # a campaign's batch: queries and other creates get a turn
            try:
                states.append(self.classifier.initial(rid, body_json, key, actor, campaign_id, now))
                at.append(n)
            except Invalid as exc:
                out[n] = exc
        if states:
            for n, answer in zip(at, await self._create_states(states), strict=True):
                out[n] = answer
        return out

    def _refusal(self) -> Overloaded | None:
        """Why new creates are refused now, if they are: the journal or the line behind."""
        backlog = self.journal.backlog()
        if self.max_backlog is not None and backlog > self.max_backlog:
            return Overloaded(f"{self.name}: {backlog} journal writes are waiting; retry shortly")
        if self.max_ready is not None and len(self.ready) > self.max_ready:
            return Overloaded(f"{self.name}: {len(self.ready)} requests are waiting to be taken up; retry shortly")
        return None

    async def create_states(self, items: list[tuple[str, str] | tuple[str, str, tuple]]) -> list[tuple[bool, bytes] | Exception]:
        """Many creates in one call, classified already (by a ``Dispatcher``). Each item answers
        like ``create``, or with its own error: one bad item fails nothing else. An item is ``(state JSON, body hash)``, or with the row's
        ``index_columns`` as a third element (then the state is not parsed here unless it is
        taken up at once). As many as there is room for are taken up at once (each
        journaled with its first step); the others are journaled together, in one commit, as
        acknowledged, and lined up. An id the journal (or this batch) has already goes the way
        of ``create``, which answers the request it is. When the journal has more commits waiting
        than ``max_backlog``, or more than ``max_ready`` requests wait, every item is refused with
        ``Overloaded`` and nothing is created."""
        refused = self._refusal()
        if refused is not None:
            return [refused] * len(items)
        return await self._create_states(items)

    async def _create_states(self, items: list[tuple[str, str] | tuple[str, str, tuple]]) -> list[tuple[bool, bytes] | Exception]:
        self._arrived(len(items))  # counted once accepted: refusals never hold fulfilment back
        out: list[Any] = [None] * len(items)
        entries = []  # (index, columns, state JSON, body hash)
        for i, item in enumerate(items):
            state_json, body_hash, columns = item if len(item) == 3 else (*item, None)
            if columns is None:
                try:
                    columns = index_columns(RequestState.model_validate_json(state_json), body_hash)
                except ValueError as exc:
                    out[i] = exc
                    continue
            entries.append((i, columns, state_json, body_hash))
        keyed = [c[0] for _, c, _, _ in entries if c[6] is not None]
        known = self.journal.known(keyed) if keyed else set()
        bound = self._bound()
        room = 0 if self.ready else (len(entries) if bound is None else bound - self.driving)
        one_by_one, lined, seen = [], [], set()
        for entry in entries:
            i, columns, state_json, body_hash = entry
            rid = columns[0]
            if rid in known or rid in seen or rid in self.creating or self._dedicated_type(columns[2]):
                one_by_one.append((i, state_json, body_hash))  # a duplicate, or its own actor: as create does
            elif room > 0:
                room -= 1
                one_by_one.append((i, state_json, body_hash))
            else:
                lined.append(entry)
            seen.add(rid)
        loop = asyncio.get_running_loop()
        for _, columns, _, _ in lined:  # a duplicate arriving meanwhile waits for this commit
            self.creating[columns[0]] = loop.create_future()
        singles = asyncio.gather(*(self.create(sj, bh) for _, sj, bh in one_by_one), return_exceptions=True)
        if lined:
            try:
                await self.journal.commit([Write(None, sj, [("created", sj)], bh, columns)
                                           for _, columns, sj, bh in lined])
                failure = None
            except Exception as exc:
                failure = exc
            for i, columns, state_json, body_hash in lined:
                fut = self.creating.pop(columns[0])
                if failure is None:
                    fut.set_result(body_hash)
                    out[i] = (True, state_json.encode())
                else:
                    fut.set_exception(failure)
                    fut.exception()  # retrieved: a waiting duplicate sees it through _body_hash
                    out[i] = failure
            if failure is None:
                self.deferred += len(lined)
                self._lined_up([(c[0], datetime.fromisoformat(c[13]) if c[13] else None) for _, c, _, _ in lined])
        for (i, _, _), answer in zip(one_by_one, await singles, strict=True):
            out[i] = answer
        return out

    def _dedicated_type(self, request_type: str) -> bool:
        """Whether requests of this type run as their own Ray actor here."""
        return self.policies[request_type].placement == Placement.dedicated and self.dedicate is not None

    def _lined_up(self, waiting: list[tuple[str, datetime | None]]) -> None:
        """Journaled as acknowledged ``(id, earliest timer)``: in line, taken up in turn."""
        now = time.monotonic()
        for rid, due in waiting:
            self.ready.append((rid, now))
            self.in_line.add(rid)
            if due is not None:  # an SLA warning due before its turn takes it up then
                self._wake_at(due, rid)
        self._take_up()

    async def _body_hash(self, rid: str) -> str | None:
        if rid in self.creating:
            try:
                return await asyncio.shield(self.creating[rid])
            except Exception:
                return None  # the first create failed: this one may try again
        return self.journal.body_hash(rid)

    def _answer(self, rid: str) -> Any:
        """A status query's answer now (JSON bytes), or a reference to it for a dedicated request,
        which answers for itself. ``NotFound`` for an unknown id."""
        found = self._load(rid)
        if isinstance(found, RequestActor):
            return found.status_json()
        if isinstance(found, str):
            return found.encode()
        return self.dedicated[rid].status.remote()

    async def status(self, rid: str) -> bytes:
        """Answered by the request's actor (reactivated if it was passivated) while the request is
        open, from the journal once it is final: the same JSON either way."""
        answer = self._answer(rid)
        return answer if isinstance(answer, bytes) else await answer

    async def status_many(self, rids: list[str]) -> list[bytes | Exception]:
        """``status`` of many requests in one call, each answer or error (``NotFound``) on its own:
        the gateway sends the queries of concurrent clients to one host together."""
        out: list[Any] = []
        for rid in rids:
            try:
                out.append(self._answer(rid))
            except Exception as exc:  # noqa: BLE001 - the one query's answer, not the batch's
                out.append(exc)
        for i, answer in enumerate(out):
            if not isinstance(answer, (bytes, Exception)):  # a dedicated request's reference
                try:
                    out[i] = await answer
                except Exception as exc:  # noqa: BLE001
                    out[i] = exc
        return out

    async def act(self, rid: str, action: str, actor_name: str, data: dict[str, Any]) -> bytes:
        """An action on a request (``cancel``, or one of its flow's actions)."""
        found = self._load(rid)
        if isinstance(found, RequestActor):
            return await _act(found, action, actor_name, data)
        if isinstance(found, str):  # a final request: an actor over its journaled state refuses the change
            return await _act(self._actor(RequestState.model_validate_json(found)), action, actor_name, data)
        stub = self.dedicated[rid]
        body, final = await stub.act.remote(action, actor_name, data)
        if final:
            self.dedicated.pop(rid, None)
            ray.kill(stub)
        return body

    async def release_dedicated(self, rid: str) -> None:
        """A dedicated request closed by itself: stop its actor (its state is in the journal)."""
        stub = self.dedicated.pop(rid, None)
        if stub is not None:  # a moment later: the call that closed it may still be answering
            asyncio.get_running_loop().call_later(5.0, ray.kill, stub)

    async def ping(self) -> dict[str, Any]:
        return {"host": self.name, "pid": os.getpid(), "active": len(self.actors), "dedicated": len(self.dedicated),
                "rehydrated": self.rehydrated, "passivated": self.passivated, "reactivated": self.reactivated,
                "waiting": len(self.asleep), "ready": len(self.ready), "driving": self.driving,
                "waking": len(self.waking), "ringing": self.ringing,
                "deferred": self.deferred}

    async def metrics_snapshot(self) -> dict[str, Any]:
        return {"transitions": dict(self.metrics.transitions), "sla": dict(self.metrics.sla_events),
                "active": len(self.actors) + len(self.dedicated), "passivated": self.passivated,
                "reactivated": self.reactivated, "ready": len(self.ready),
                "journalBacklog": self.journal.backlog()}


@ray.remote(max_restarts=-1, max_task_retries=3)
class RequestHost(Shard):
    """A shard as a named Ray actor (``request-host-N``) with its own SQLite journal file."""

    def __init__(self, index: int, journal_path: str, policies: dict[str, TypePolicy], replicas: dict[str, int],
                 namespace: str, passivate_after: float | None = None, max_backlog: int | None = None,
                 max_driving: int | None = None, max_active: int | None = None, max_ready: int | None = None,
                 intake: Intake | None = None, classifier: Any = None, timer_horizon: float | None = TIMER_HORIZON):
        def dedicate(state: RequestState) -> Any:
            return DedicatedRequest.options(name=names.dedicated_name(state.id), namespace=namespace,
                                            get_if_exists=True).remote(state, policies[state.requestType],
                                                                       journal_path, replicas, namespace,
                                                                       names.host_name(index))

        super().__init__(names.host_name(index), SQLiteJournal(journal_path), policies,
                         names.processes(replicas, namespace), passivate_after=passivate_after, dedicate=dedicate,
                         max_backlog=max_backlog, max_driving=max_driving, max_active=max_active, max_ready=max_ready,
                         intake=intake, classifier=classifier, timer_horizon=timer_horizon)
        self.recover()  # Ray runs an async actor's constructor in its event loop
        if self.rehydrated:
            log.info("%s recovered %d open requests", self.name, self.rehydrated)
        collector.tune()  # no automatic full collections: one every few minutes, out of bursts
        self._collections = asyncio.get_running_loop().create_task(
            collector.full_collections(lambda: time.monotonic() - self._burst_at < 5.0), name=f"{self.name}-gc")


async def _act(actor: RequestActor, action: str, actor_name: str, data: dict[str, Any]) -> bytes:
    if action == "cancel":
        return await actor.cancel(actor_name, data.get("reason"))
    if action == "update":
        return await actor.update(actor_name, data)
    if action == "hide":
        return await actor.hide(actor_name, data.get("reason"))
    return await actor.act(action, actor_name, data)


@ray.remote(max_restarts=-1, max_task_retries=3)
class DedicatedRequest:
    """One request actor in a Ray actor of its own (``request-<id>``), for heavy, long-lived types."""

    def __init__(self, state: RequestState, policy: TypePolicy, journal_path: str, replicas: dict[str, int],
                 namespace: str, host: str):
        self.journal = SQLiteJournal(journal_path)
        latest = self.journal.get(state.id) or state  # after a restart, the journal knows best
        metrics = _Metrics(names.dedicated_name(state.id))
        processes = names.processes(replicas, namespace)
        self.host, self.namespace = host, namespace
        self.actor = RequestActor(latest, policy, self.journal, processes, metrics.transition, on_sla=metrics.sla,
                                  on_final=self._closed)
        self.actor.start()

    def _closed(self, actor: RequestActor) -> None:
        """Closed by itself (a timer): its host stops this actor, as it does after a final action."""
        names.lookup(self.host, self.namespace).release_dedicated.remote(actor.state.id)

    async def status(self) -> bytes:
        return self.actor.status_json()

    async def act(self, action: str, actor_name: str, data: dict[str, Any]) -> tuple[bytes, bool]:
        body = await _act(self.actor, action, actor_name, data)
        return body, self.actor.state.is_final
