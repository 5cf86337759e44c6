"""The shard's one timer scheduler: callbacks at their due time, re-armed and disarmed, in order."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from actors.clock import ManualClock
from actors.timers import Scheduler


async def test_callbacks_fire_in_due_order_and_rearming_replaces():
    clock = ManualClock()
    t0 = clock.now()
    fired: list[str] = []
    s = Scheduler(clock)
    s.arm("a", t0 + timedelta(minutes=10), lambda: fired.append("a"))
    s.arm("b", t0 + timedelta(minutes=5), lambda: fired.append("b"))
    s.arm("c", t0 + timedelta(minutes=7), lambda: fired.append("c"))
    s.arm("a", t0 + timedelta(minutes=1), lambda: fired.append("a-early"))  # re-armed earlier: replaces
    s.arm("c", t0 + timedelta(minutes=30), lambda: fired.append("c-late"))  # re-armed later: replaces
    s.disarm("b")
    await clock.advance(timedelta(minutes=2))
    assert fired == ["a-early"]
    await clock.advance(timedelta(minutes=20))
    assert fired == ["a-early"]  # b disarmed, c moved on
    await clock.advance(timedelta(minutes=10))
    assert fired == ["a-early", "c-late"] and len(s) == 0


async def test_a_callback_may_arm_again_without_a_second_runner():
    clock = ManualClock()
    t0 = clock.now()
    fired: list[int] = []
    s = Scheduler(clock)

    def again() -> None:
        fired.append(len(fired))
        if len(fired) < 3:
            s.arm("x", clock.now(), again)  # due at once: fired by the same loop, once
    s.arm("x", t0 + timedelta(seconds=1), again)
    await clock.advance(timedelta(seconds=1))
    assert fired == [0, 1, 2]


async def test_stale_entries_do_not_pile_up():
    clock = ManualClock()
    s = Scheduler(clock)
    for n in range(5000):  # the same key re-armed over and over, as a busy request does
        s.arm("k", clock.now() + timedelta(days=3, seconds=n), lambda: None)
    assert len(s) == 1 and len(s._heap) < 2000
    s.stop()


async def test_thousands_due_at_once_leave_the_host_turns_and_all_fire_once():
    """A campaign's requests reach their timers together (three days on): the host must still
    answer meanwhile, so the scheduler gives the event loop a turn between slices of callbacks;
    a timer armed by someone else during such a turn is fired too, and nothing twice."""
    clock = ManualClock()
    due = clock.now() + timedelta(days=3)
    fired: list[str] = []
    s = Scheduler(clock)
    for n in range(1000):
        s.arm(f"r{n}", due + timedelta(microseconds=n), lambda n=n: fired.append(f"r{n}"))
    seen: list[int] = []

    async def a_query_meanwhile() -> None:
        while len(fired) < 1001:
            seen.append(len(fired))
            if len(fired) > 500 and "late" not in s._armed and all(k != "late" for k in fired):
                s.arm("late", clock.now(), lambda: fired.append("late"))  # armed by another task
            await asyncio.sleep(0)
    probe = asyncio.create_task(a_query_meanwhile())
    await clock.advance(timedelta(days=3, seconds=1))
    await asyncio.wait_for(probe, 5)
    assert any(0 < n < 1000 for n in seen)  # it ran while the timers fired, not only before and after
    assert sorted(fired) == sorted([f"r{n}" for n in range(1000)] + ["late"]) and len(s) == 0
