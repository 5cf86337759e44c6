"""Time, injectable: request actors ask their clock, never the system, so tests can drive time."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone


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
