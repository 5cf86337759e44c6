"""Time, injectable: request actors ask their clock, never the system, so tests can drive time."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone


class Clock:
    def now(self) -> datetime:
        raise NotImplementedError

    async def sleep(self, seconds: float) -> None:
        raise NotImplementedError

    async def sleep_until(self, when: datetime) -> None:
        await self.sleep(max(0.0, (when - self.now()).total_seconds()))


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock(Clock):
    """A clock that moves only when told (``advance``): tests drive timers with it, never by sleeping."""

    def __init__(self, start: datetime | None = None):
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
        self._sleepers: dict[asyncio.Future, datetime] = {}

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self._now + timedelta(seconds=seconds))

    async def sleep_until(self, when: datetime) -> None:
        if when <= self._now:
            await asyncio.sleep(0)
            return
        fut = asyncio.get_running_loop().create_future()
        self._sleepers[fut] = when
        try:
            await fut
        finally:
            self._sleepers.pop(fut, None)

    async def advance(self, delta: timedelta) -> None:
        """Move time on, wake every sleeper now due, and let what they start run to quiescence."""
        self._now += delta
        for fut, when in list(self._sleepers.items()):
            if when <= self._now and not fut.done():
                fut.set_result(None)
        for _ in range(50):  # a few rounds of the loop: woken tasks commit, start others, ...
            await asyncio.sleep(0.002)
