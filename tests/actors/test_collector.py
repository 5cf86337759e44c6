"""Full garbage collections in a host: one every ``every`` seconds out of bursts, and one every
``at_most`` seconds even in an endless burst (so cyclic garbage never piles up for good)."""

from __future__ import annotations

import asyncio
import gc

from actors import collector


async def collections_during(monkeypatch, busy: bool, seconds: float) -> int:
    runs = []
    monkeypatch.setattr(gc, "collect", lambda *a: runs.append(a) or 0)
    task = asyncio.get_running_loop().create_task(
        collector.full_collections(lambda: busy, every=0.1, at_most=0.5, tick=0.02))
    await asyncio.sleep(seconds)
    task.cancel()
    return len(runs)


async def test_a_full_collection_runs_every_few_ticks_out_of_bursts(monkeypatch):
    assert 3 <= await collections_during(monkeypatch, busy=False, seconds=0.55) <= 6


async def test_a_burst_puts_full_collections_off_but_not_for_ever(monkeypatch):
    assert await collections_during(monkeypatch, busy=True, seconds=0.3) == 0
    assert await collections_during(monkeypatch, busy=True, seconds=0.65) == 1
