"""One scheduler for the timers of many requests: a heap and one task, woken for the earliest.

Each request keeps its timers in its own state (``RequestState.timers``); its actor asks the
scheduler to call it back at the earliest one (``arm``), and arms again after every change. A
passivated request keeps its entry too, with a callback that reactivates it. So a host holding
100,000 requests runs one task for all their timers, and nothing ever scans the requests.

Entries are replaced lazily: re-arming a key leaves its old heap entry behind, skipped when it
comes up; the heap is rebuilt from the live entries when stale ones outnumber them.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Callable
from datetime import datetime, timezone

from .clock import Clock

log = logging.getLogger(__name__)
FIRE_SLICE = 64  # callbacks fired between two turns of the event loop
LOOKING = datetime.min.replace(tzinfo=timezone.utc)  # "_until" while the task is about to look at the heap


class Scheduler:
    def __init__(self, clock: Clock):
        self.clock = clock
        self._armed: dict[str, tuple[datetime, Callable[[], None]]] = {}
        self._heap: list[tuple[datetime, int, str]] = []
        self._seq = itertools.count()
        self._task: asyncio.Task | None = None
        self._until: datetime | None = None  # what the task sleeps until

    def __len__(self) -> int:
        return len(self._armed)

    def due(self, key: str) -> datetime | None:
        entry = self._armed.get(key)
        return entry[0] if entry else None

    def arm(self, key: str, due: datetime, callback: Callable[[], None]) -> None:
        """Call ``callback`` at ``due`` (replacing what ``key`` had armed)."""
        current = self._armed.get(key)
        self._armed[key] = (due, callback)
        if current is not None and current[0] == due:
            return  # the same time: the heap entry stands
        heapq.heappush(self._heap, (due, next(self._seq), key))
        if len(self._heap) > 2 * len(self._armed) + 1024:
            self._heap = [(d, next(self._seq), k) for k, (d, _) in self._armed.items()]
            heapq.heapify(self._heap)
        if self._task is None or self._task.done() or self._until is None or due < self._until:
            self._restart()

    def disarm(self, key: str) -> None:
        self._armed.pop(key, None)

    def _restart(self) -> None:
        if self._task is not None and not self._task.done():
            if self._task is asyncio.current_task():
                return  # armed from a callback: the running loop looks at the heap's top next
            self._task.cancel()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="timers")

    async def _run(self) -> None:
        fired = 0
        while self._heap:
            due, _, key = self._heap[0]
            entry = self._armed.get(key)
            if entry is None or entry[0] != due:
                heapq.heappop(self._heap)  # disarmed or re-armed since
                continue
            if due > self.clock.now():
                self._until = due
                await self.clock.sleep_until(due)
                continue
            heapq.heappop(self._heap)
            del self._armed[key]
            try:
                entry[1]()
            except Exception:  # one bad callback must not stop every other timer
                log.exception("timer callback of %s failed", key)
            fired += 1
            if fired % FIRE_SLICE == 0:  # many due at once (a campaign's requests, three days on)
                self._until = LOOKING  # an arm meanwhile starts no second task: this one looks next
                await asyncio.sleep(0)
        self._until = None

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._armed.clear()
        self._heap.clear()
