"""The create batcher: concurrent creates share calls, each gets its own answer or error."""

from __future__ import annotations

import asyncio

import pytest

from actors.batching import Batcher
from actors.errors import Overloaded, TimedOut


class Recorder:
    def __init__(self, fail_call: bool = False):
        self.calls: list[list[int]] = []
        self.fail_call = fail_call

    async def send(self, items):
        self.calls.append(list(items))
        await asyncio.sleep(0.01)  # a call takes time: creates arriving meanwhile wait for the next one
        if self.fail_call:
            raise ConnectionError("runtime gone")
        return [ValueError(f"bad {i}") if i % 10 == 3 else i * 2 for i in items]


async def test_one_create_alone_leaves_at_once():
    rec = Recorder()
    assert await Batcher(rec.send).submit(4) == 8
    assert rec.calls == [[4]]


async def test_concurrent_creates_share_calls_and_keep_their_own_answers():
    rec = Recorder()
    batcher = Batcher(rec.send, max_size=16, max_inflight=1)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(40)), return_exceptions=True)
    for i, r in enumerate(results):
        if i % 10 == 3:
            assert isinstance(r, ValueError) and str(r) == f"bad {i}"
        else:
            assert r == i * 2
    assert sorted(i for call in rec.calls for i in call) == list(range(40))  # each create sent once
    assert len(rec.calls) <= 5 and max(len(c) for c in rec.calls) <= 16


async def test_a_failed_call_fails_only_its_own_creates():
    rec = Recorder(fail_call=True)
    batcher = Batcher(rec.send)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(5)), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    rec.fail_call = False
    assert await batcher.submit(1) == 2  # and the batcher goes on


async def test_an_answer_of_the_wrong_length_fails_the_batch_instead_of_hanging():
    async def short(items):
        return items[:-1]
    results = await asyncio.gather(*(Batcher(short).submit(i) for i in range(1)), return_exceptions=True)
    assert isinstance(results[0], RuntimeError)


async def test_a_full_queue_refuses_at_once_and_creates_nothing():
    started = asyncio.Event()
    release = asyncio.Event()
    seen: list[list[int]] = []

    async def send(items):
        seen.append(items)
        started.set()
        await release.wait()
        return items

    batcher = Batcher(send, max_size=4, max_inflight=1, max_waiting=3)
    first = asyncio.ensure_future(batcher.submit(0))  # travels at once
    await started.wait()
    waiting = [asyncio.ensure_future(batcher.submit(n)) for n in (1, 2, 3)]
    await asyncio.sleep(0)
    with pytest.raises(Overloaded):
        await batcher.submit(4)
    release.set()
    assert await first == 0 and await asyncio.gather(*waiting) == [1, 2, 3]
    assert sorted(n for batch in seen for n in batch) == [0, 1, 2, 3]  # 4 was never sent


async def test_a_deadline_takes_out_what_was_not_sent_and_says_what_was():
    """Past its deadline a caller gets TimedOut: an item still waiting is never sent (nothing of it
    is done), and one already on its way is said to be possibly done."""
    release = asyncio.Event()
    calls: list[list[int]] = []

    async def stuck(items):
        calls.append(list(items))
        await release.wait()
        return [i * 2 for i in items]

    b = Batcher(stuck, max_inflight=1)
    on_its_way = asyncio.create_task(b.submit(1, timeout=0.05))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(b.submit(2, timeout=0.05))
    patient = asyncio.create_task(b.submit(3))
    with pytest.raises(TimedOut, match="it was sent, so it may still be done"):
        await on_its_way
    with pytest.raises(TimedOut, match="nothing was done"):
        await waiting
    release.set()
    assert await patient == 6
    assert calls == [[1], [3]]  # 2 was taken out before it left
