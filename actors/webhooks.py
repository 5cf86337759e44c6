"""The ``webhooks`` Ray actor: tails the journal shards and delivers matching public events to the
subscribed callbacks.

Request actors never call it: it reads each shard file (read-only, like the gateway's lists), so a
slow or failing receiver cannot slow a request. For each shard it reads the public events after its
cursor, writes one delivery per matching subscription to its outbox and moves the cursor, in one
transaction (``webhook_store.py``). One task per subscription then delivers that subscription's
outbox in order: a POST of the event JSON with ``deliveryId``, signed with HMAC-SHA256 of the body;
a failure is retried with exponential backoff, and the last failure becomes a dead letter an
operator can list and replay. A receiver that is retrying holds back only its own subscription.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import sqlite3
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import httpx
import ray

from .errors import DeadLetterNotFound, SubscriptionNotFound
from .events import EventFilter, EventRow, event_json
from .journal import SQLiteReader, ts
from .models import utcnow
from .party_interaction import tmf_event_json, tmf_event_type
from .webhook_store import Delivery, Subscription, WebhookStore

log = logging.getLogger(__name__)

READ_BATCH = 500
T = TypeVar("T")

SIGNATURE_HEADER = "X-Switchboard-Signature"
DELIVERY_HEADER = "X-Switchboard-Delivery"
EVENT_HEADER = "X-Switchboard-Event"


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout_seconds: float = 5.0
    max_attempts: int = 6
    initial_backoff_seconds: float = 1.0
    backoff_multiplier: float = 4.0
    max_backoff_seconds: float = 600.0
    poll_seconds: float = 0.2

    def backoff(self, failures: int) -> float:
        """The wait after the ``failures``-th failed attempt (1, 2, ...)."""
        return min(self.initial_backoff_seconds * self.backoff_multiplier ** (failures - 1), self.max_backoff_seconds)


def signature(secret: str, body: bytes) -> str:
    """The ``X-Switchboard-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery_id(sub_id: str, shard: int, seq: int) -> str:
    """Stable per (subscription, event): retries, restarts and replays send the same id."""
    return f"{sub_id}:{shard}:{seq}"


def matches(s: Subscription, shard: int, row: EventRow) -> bool:
    return (row.seq > s.start[shard]
            and (not s.event_types or row.type in s.event_types)
            and (not s.request_types or row.request_type in s.request_types)
            and (s.party_id is None or row.party_id == s.party_id))


def _log_crash(task: asyncio.Task) -> None:
    """A background task ended by a bug, not by cancellation: say so, with the cause."""
    if not task.cancelled() and task.exception() is not None:
        log.error("webhooks: task %s stopped", task.get_name(), exc_info=task.exception())


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None = None
    error: str | None = None


@ray.remote(max_restarts=-1)
class Webhooks:
    def __init__(self, store_path: str, journal_paths: list[str], policy: DeliveryPolicy):
        self.policy = policy
        self.readers = [SQLiteReader(p) for p in journal_paths]
        self._db_thread = ThreadPoolExecutor(1, thread_name_prefix="webhooks-db")  # the store's one writer
        self.store = WebhookStore(store_path)
        self.subs = {s.id: s for s in self.store.subscriptions()}
        self.cursors = self.store.cursors()
        for shard, reader in enumerate(self.readers):  # first start: from now on, not the whole history
            if shard not in self.cursors:
                self.cursors[shard] = reader.last_seq()
                self.store.hand_off(shard, self.cursors[shard], [])
        self.http = httpx.AsyncClient(timeout=policy.timeout_seconds, follow_redirects=False,
                                      headers={"User-Agent": "Switchboard-Webhooks/0.1"})
        self.wake: dict[str, asyncio.Event] = {}
        self.workers: dict[str, asyncio.Task] = {}
        for sub_id in self.subs:  # a restart: deliver what the outbox still holds
            self._start_worker(sub_id)
        self.tailer = asyncio.get_running_loop().create_task(self._tail(), name="webhooks-tail")
        self.tailer.add_done_callback(_log_crash)

    async def ping(self) -> str:
        return "ok"

    # -- subscriptions (called by the gateway) -----------------------------------------------
    async def subscribe(self, callback: str, secret: str | None, event_types: list[str],
                        request_types: list[str], party_id: str | None, format: str = "native",
                        query: str | None = None) -> dict[str, Any]:
        """Register a subscription; it gets the events journaled after this call. Answers the
        subscription with its ``secret`` (generated unless given): the only time it is shown.
        ``format`` ``tmf683`` delivers TMF683 events (``actors.party_interaction``) instead of the
        native shape; ``query`` is then the client's TMF query text, kept to show it back."""
        start = tuple(await asyncio.gather(*(asyncio.to_thread(r.last_seq) for r in self.readers)))
        sub = Subscription(uuid.uuid4().hex, callback, secret or secrets.token_urlsafe(32), tuple(event_types),
                           tuple(request_types), party_id, start, ts(utcnow()), format, query)
        await self._db(self.store.add, sub)
        self.subs[sub.id] = sub
        self._start_worker(sub.id)
        return {**sub.read(), "secret": sub.secret}

    async def subscriptions(self) -> list[dict[str, Any]]:
        return [s.read() for s in self.subs.values()]

    async def subscription(self, sub_id: str) -> dict[str, Any]:
        return self._sub(sub_id).read()

    async def subscription_format(self, sub_id: str) -> tuple[str, str | None]:
        """``(format, query)`` of a subscription: the TMF683 hub answers only for its own."""
        s = self._sub(sub_id)
        return s.format, s.query

    async def unsubscribe(self, sub_id: str) -> None:
        self._sub(sub_id)
        self.subs.pop(sub_id)
        task = self.workers.pop(sub_id, None)
        self.wake.pop(sub_id, None)
        if task is not None:
            task.cancel()
        await self._db(self.store.remove, sub_id)

    async def dead_letters(self, sub_id: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        return await self._db(self.store.dead_letters, sub_id, limit)

    async def replay(self, dl_id: str) -> dict[str, Any]:
        """Deliver a dead letter again now (one attempt): ``{"delivered": true}`` and the entry is gone,
        or ``{"delivered": false, "deadLetter": ...}`` with its new error."""
        d = await self._db(self.store.dead_letter_delivery, dl_id)
        if d is None:
            raise DeadLetterNotFound(f"No dead letter {dl_id!r}", "id")
        outcome = await self._attempt(self._sub(d.subscription_id), d)
        if outcome.ok:
            await self._db(self.store.replayed, dl_id)
            return {"delivered": True, "deliveryId": dl_id}
        entry = await self._db(self.store.replay_failed, dl_id, outcome.error, outcome.status, ts(utcnow()))
        return {"delivered": False, "deliveryId": dl_id, "deadLetter": entry}

    def _sub(self, sub_id: str) -> Subscription:
        try:
            return self.subs[sub_id]
        except KeyError:
            raise SubscriptionNotFound(f"No subscription {sub_id!r}", "id") from None

    # -- tailing the journal -----------------------------------------------------------------
    async def _tail(self) -> None:
        while True:
            try:
                full = await self._tail_once()
            except sqlite3.Error:  # a busy or briefly unreadable file: log it, read again next round
                log.exception("webhooks: reading the journal failed; retrying")
                full = False
            if not full:
                await asyncio.sleep(self.policy.poll_seconds)

    async def _tail_once(self) -> bool:
        """One read of every shard; True if some shard had more than one batch waiting."""
        full = False
        for shard, reader in enumerate(self.readers):
            if not self.subs:  # nobody to tell: skip to the end (read and set with no await between,
                last = reader.last_seq()  # so a subscription made meanwhile sees every later event)
                if last != self.cursors[shard]:
                    self.cursors[shard] = last
                    await self._db(self.store.hand_off, shard, last, [])
                continue
            rows = await asyncio.to_thread(reader.public_events, self.cursors[shard], EventFilter(), READ_BATCH)
            if not rows:
                continue
            full |= len(rows) == READ_BATCH
            pairs = [(row, s) for row in rows for s in self.subs.values() if matches(s, shard, row)]
            wanted = {row.request_id for row, s in pairs if s.format == "tmf683"}
            states = await asyncio.to_thread(lambda: {rid: reader.state_json(rid) for rid in wanted}) if wanted else {}
            out = [self._delivery(shard, row, s, states) for row, s in pairs]
            await self._db(self.store.hand_off, shard, rows[-1].seq, out)
            self.cursors[shard] = rows[-1].seq
            for sub_id in {d.subscription_id for d in out}:
                if sub_id in self.wake:
                    self.wake[sub_id].set()
        return full

    @staticmethod
    def _delivery(shard: int, row: EventRow, s: Subscription, states: dict[str, str | None]) -> Delivery:
        did = delivery_id(s.id, shard, row.seq)
        state = states.get(row.request_id)
        if s.format == "tmf683" and state is not None:  # the resource as of now: TMF683 events carry it whole
            return Delivery(did, s.id, tmf_event_type(row.type), tmf_event_json(shard, row.seq, row.at, row.type,
                                                                                 state, did), 0)
        return Delivery(did, s.id, row.type, event_json(shard, row, did), 0)

    # -- delivering --------------------------------------------------------------------------
    def _start_worker(self, sub_id: str) -> None:
        self.wake[sub_id] = asyncio.Event()
        task = self.workers[sub_id] = asyncio.get_running_loop().create_task(self._deliver(sub_id),
                                                                            name=f"deliver-{sub_id}")
        task.add_done_callback(_log_crash)

    async def _deliver(self, sub_id: str) -> None:
        """Deliver this subscription's outbox in order, until it is unsubscribed (cancelled)."""
        wake = self.wake[sub_id]
        while True:
            wake.clear()  # before reading: a hand-off after the read sets it again
            try:
                if not await self._deliver_next(sub_id):
                    await wake.wait()
            except sqlite3.Error:
                log.exception("webhooks: the outbox of %s failed; retrying", sub_id)
                await asyncio.sleep(self.policy.poll_seconds)

    async def _deliver_next(self, sub_id: str) -> bool:
        """One attempt at the subscription's oldest delivery; False if it has none."""
        d = await self._db(self.store.next_delivery, sub_id)
        if d is None:
            return False
        outcome = await self._attempt(self.subs[sub_id], d)
        if outcome.ok:
            await self._db(self.store.delivered, d.id)
        elif d.attempts + 1 >= self.policy.max_attempts:
            log.warning("webhooks: %s dead-lettered after %d attempts: %s", d.id, d.attempts + 1, outcome.error)
            await self._db(self.store.dead_letter, d, outcome.error, outcome.status, ts(utcnow()))
        else:
            await self._db(self.store.attempt_failed, d.id, outcome.error, outcome.status)
            await asyncio.sleep(self.policy.backoff(d.attempts + 1))
        return True

    async def _attempt(self, sub: Subscription, d: Delivery) -> Outcome:
        body = d.body.encode()
        headers = {"Content-Type": "application/json", DELIVERY_HEADER: d.id, EVENT_HEADER: d.event_type,
                   SIGNATURE_HEADER: signature(sub.secret, body)}
        try:
            r = await self.http.post(sub.callback, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])
        if 200 <= r.status_code < 300:
            return Outcome(True, r.status_code)
        return Outcome(False, r.status_code, f"HTTP {r.status_code}")

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db_thread, fn, *args)
