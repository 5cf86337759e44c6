"""Python's cyclic garbage collector in processes that hold many long-lived objects (request hosts).

A host keeps up to ``max_active`` request actors in memory, hundreds of thousands of objects. The
collector's automatic full collections walk all of them each time the heap has grown by a quarter,
and find nothing: request actors are freed by reference counting when they are passivated or
closed. Measured in a host during a burst of creates: full collections of 0.3 to 0.7 s, every few
seconds, each stalling every create and query of that host (p99 of 64 clients 115 ms -> 102 ms, and
about 10% more creates a second, with them off).

So in a host: what exists after recovery is frozen (never walked again), the young generations are
collected as usual (the cycles asyncio makes die young), automatic full collections are off, and
``full_collections`` runs one itself every ``every`` seconds when the host is not in a burst, and
at least every ``at_most`` seconds whatever happens.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

NEVER = 1_000_000_000  # young collections before a full one: never, in practice


def tune() -> None:
    gc.collect()
    gc.freeze()
    young0, young1, _ = gc.get_threshold()
    gc.set_threshold(young0, young1, NEVER)


async def full_collections(busy: Callable[[], bool], every: float = 300.0, at_most: float = 1800.0,
                           tick: float = 5.0) -> None:
    last = time.monotonic()
    while True:
        await asyncio.sleep(tick)
        since = time.monotonic() - last
        if (since >= every and not busy()) or since >= at_most:
            started = time.perf_counter()
            found = gc.collect()
            last = time.monotonic()
            log.info("full garbage collection: %d objects in %.0f ms", found, (time.perf_counter() - started) * 1000)
