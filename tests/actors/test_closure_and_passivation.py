"""Close Request (confirmation window, reopen, 409 after) and passivation (unloaded when idle,
reactivated by a message, a status query or its own timer), on a simulated clock."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from actors.errors import Conflict, InvalidTransition, NotFound
from actors.host import Shard
from actors.journal import SQLiteJournal
from tests.actors.shard_support import ShardRig, local_processes

NO_SELF_SERVICE = {"selfService": False}
WINDOW = 4320  # minutes: the default confirmationMinutes


@pytest.fixture
def rig(tmp_path):
    r = ShardRig(tmp_path, inquiry=NO_SELF_SERVICE)
    yield r
    r.close()


async def resolved_inquiry(rig: ShardRig) -> str:
    rid = await rig.create("inquiry")
    await rig.act(rid, "claim", "csr:CSR-001", skills=["general"])
    done = await rig.act(rid, "answer", "csr:CSR-001", text="Gnomes are welcome.")
    if done["status"] != "resolved":
        await rig.settle()
        done = await rig.status(rid)
    assert done["status"] == "resolved" and done["resolution"] == "answeredByCsr"
    return rid


async def refuses_every_change(rig: ShardRig, rid: str) -> None:
    for action, actor, data in [("claim", "csr:CSR-001", {"skills": ["general"]}), ("confirm", "party:CUST-0001", {}),
                                ("reopen", "party:CUST-0001", {"reason": "again"}),
                                ("information", "party:CUST-0001", {"text": "x"})]:
        with pytest.raises(Conflict):
            await rig.shard.act(rid, action, actor, data)
    with pytest.raises(InvalidTransition):
        await rig.shard.act(rid, "cancel", "api", {})


async def test_resolved_request_closes_by_itself_when_the_window_ends(rig):
    rid = await resolved_inquiry(rig)
    resolved = await rig.status(rid)
    assert [e["type"] for e in rig.events(rid, "resolved")] == ["resolved"]
    assert "close.confirmation" in resolved["timers"]

    await rig.advance(minutes=WINDOW - 1)
    assert (await rig.status(rid))["status"] == "resolved"
    await rig.advance(minutes=2)
    closed = await rig.status(rid)
    assert (closed["status"], closed["resolution"]) == ("closed", "answeredByCsr")
    assert closed["closedAt"] is not None and closed["timers"] == {}
    assert [e["data"]["status"] for e in rig.events(rid, "closed")] == ["closed"]
    assert rid not in rig.shard.actors  # stopped, its memory freed
    assert await rig.shard.status(rid) == rig.journal.state_json(rid).encode()  # the journal answers, same shape
    await refuses_every_change(rig, rid)


async def test_the_customer_reopens_inside_the_window_then_confirms(rig):
    rid = await resolved_inquiry(rig)
    await rig.advance(minutes=60)
    reopened = await rig.act(rid, "reopen", "party:CUST-0001", reason="The gnome is still there.")
    assert (reopened["status"], reopened["queue"], reopened["resolution"]) == ("held", "general", None)
    assert "close.confirmation" not in reopened["timers"]
    assert reopened["sla"]["resolvedAt"] is None and "resolution" in reopened["sla"]["timeLeft"]
    assert [t["toStatus"] for t in reopened["timeline"] if t["event"] == "statusChanged"][-2:] == ["inProgress", "held"]

    await rig.act(rid, "claim", "csr:CSR-001", skills=["general"])
    await rig.act(rid, "answer", "csr:CSR-001", text="Removed.")
    await rig.settle()
    assert (await rig.status(rid))["status"] == "resolved"
    closed = await rig.act(rid, "confirm", "party:CUST-0001")
    assert (closed["status"], closed["resolution"]) == ("closed", "answeredByCsr")
    assert closed["timeline"][-1]["actor"] == "party:CUST-0001"
    await refuses_every_change(rig, rid)


async def test_reopen_after_the_window_is_refused(rig):
    rid = await resolved_inquiry(rig)
    await rig.advance(minutes=WINDOW + 1)
    with pytest.raises(Conflict):
        await rig.shard.act(rid, "reopen", "party:CUST-0001", {"reason": "too late"})
    assert (await rig.status(rid))["status"] == "closed"


async def test_cancel_closes_with_a_resolution_code(rig):
    rid = await rig.create("inquiry")
    cancelled = await rig.act(rid, "cancel", "party:CUST-0001", reason="never mind")
    assert (cancelled["status"], cancelled["resolution"]) == ("cancelled", "cancelled")
    assert cancelled["closedAt"] is not None and rid not in rig.shard.actors
    await refuses_every_change(rig, rid)


async def test_an_idle_request_is_passivated_and_answers_again(tmp_path):
    rig = ShardRig(tmp_path, passivate_after=60, inquiry=NO_SELF_SERVICE)
    try:
        rid = await rig.create("inquiry")
        before = await rig.status(rid)
        await rig.advance(seconds=30)
        assert rid in rig.shard.actors  # not idle long enough
        await rig.advance(seconds=61)
        assert rid not in rig.shard.actors and rig.shard.passivated == 1

        again = await rig.status(rid)  # reactivated by the query
        assert again["timeline"] == before["timeline"] and again["status"] == "held"
        assert rid in rig.shard.actors and rig.shard.reactivated == 1
        await rig.advance(seconds=91)
        assert rid not in rig.shard.actors
        claimed = await rig.act(rid, "claim", "csr:CSR-001", skills=["general"])  # and by a message
        assert claimed["assignee"] == "csr:CSR-001"
    finally:
        rig.close()


async def test_a_passivated_request_fires_its_timers_after_reactivation(tmp_path):
    rig = ShardRig(tmp_path, passivate_after=60, inquiry=NO_SELF_SERVICE)
    try:
        waiting = await rig.create("inquiry")  # its SLA response warning is due in 48 minutes
        done = await resolved_inquiry(rig)  # its confirmation window ends in three days
        await rig.advance(minutes=2)
        assert rig.shard.actors == {}  # both passivated, woken by nothing but their timers

        await rig.advance(minutes=47)
        assert [e["data"]["target"] for e in rig.events(waiting, "slaWarning")] == ["response"]
        await rig.advance(minutes=WINDOW)
        assert (await rig.status(done))["status"] == "closed"
        assert [e["type"] for e in rig.events(done, "closed")] == ["closed"]
        assert rig.shard.reactivated >= 2
    finally:
        rig.close()


async def test_a_passivated_request_holds_no_memory_for_a_timer_days_away_and_still_fires_it(tmp_path):
    """A resolved request waits three days for its customer: passivated, its timer stays in the
    journal, not in the host's memory, until it comes within the horizon (15 minutes); it then
    fires on time, across a restart of the host too."""
    rig = ShardRig(tmp_path, passivate_after=60, inquiry=NO_SELF_SERVICE)
    restarted = journal = None
    try:
        waiting = await rig.create("inquiry")  # its SLA response warning is due in 48 minutes
        done = await resolved_inquiry(rig)  # its confirmation window ends in three days
        await rig.advance(minutes=2)
        assert rig.shard.actors == {} and rig.shard.asleep == set() and len(rig.shard.scheduler) == 0

        await rig.advance(minutes=36)  # the warning is 10 minutes away now: armed
        assert rig.shard.asleep == {waiting} and len(rig.shard.scheduler) == 1
        await rig.advance(minutes=11)
        assert [e["data"]["target"] for e in rig.events(waiting, "slaWarning")] == ["response"]
        assert rig.shard.asleep.isdisjoint({done})  # three days away still: not in memory

        rig.shard.stop()  # a restart: the new host learns the window from the journal alone
        journal = SQLiteJournal(tmp_path / "shard.db")
        restarted = Shard("test-host", journal, rig.shard.policies, local_processes(tmp_path / "bss.db"),
                          clock=rig.clock, passivate_after=60)
        restarted.recover()
        assert done not in restarted.asleep and done not in restarted.actors
        await rig.clock.advance(timedelta(minutes=WINDOW - 60))  # an hour before the window ends
        assert journal.get(done).status == "resolved" and done not in restarted.actors
        await rig.clock.advance(timedelta(minutes=120))  # nothing but the timer wakes it
        for _ in range(200):
            if [e["type"] for e in journal.events(done) if e["type"] == "closed"]:
                break
            await asyncio.sleep(0.01)
        assert json.loads(await restarted.status(done))["status"] == "closed"
    finally:
        if restarted is not None:
            restarted.stop()
            journal.close()
        rig.close()


async def test_after_a_restart_only_requests_with_work_are_loaded(tmp_path):
    rig = ShardRig(tmp_path, inquiry=NO_SELF_SERVICE)
    rid = await rig.create("inquiry")
    rig.close()
    journal = SQLiteJournal(tmp_path / "shard.db")
    again = Shard("test-host", journal, rig.shard.policies, local_processes(tmp_path / "bss.db"), clock=rig.clock)
    try:
        again.recover()
        assert again.rehydrated == 1 and again.actors == {}  # held: waits passivated
        assert again.asleep == set()  # its first timer (48 minutes) is beyond the horizon: in the journal only
        assert b'"status":"held"' in await again.status(rid)
        assert rid in again.actors
    finally:
        again.stop()
        journal.close()


async def test_another_party_cannot_cancel_and_learns_nothing(rig):
    rid = await rig.create("inquiry")
    with pytest.raises(NotFound):
        await rig.shard.act(rid, "cancel", "party:CUST-0002", {"reason": "not mine"})
    assert (await rig.status(rid))["status"] == "held"
    assert (await rig.act(rid, "cancel", "party:CUST-0001"))["status"] == "cancelled"


async def test_many_timers_due_at_once_load_their_requests_a_few_at_a_time(tmp_path):
    """Forty resolved requests reach the end of their confirmation window together: they are
    loaded and closed at most ``max_driving`` (4) at a time, not all in memory at once, and every
    one of them closes."""
    from routing.router import request_id
    from tests.actors.test_create_bodies import body

    rig = ShardRig(tmp_path, passivate_after=60, shard_options={"max_driving": 4})
    try:
        ids = [request_id(None, "channel:web") for _ in range(40)]
        answers = await rig.shard.create_many([(rid, body(), None, "channel:web", None) for rid in ids])
        assert all(a[0] is True for a in answers)
        for _ in range(100):
            await rig.settle()
            if all(rig.journal.get(rid).status == "resolved" for rid in ids):
                break
        await rig.advance(minutes=2)
        assert rig.shard.actors == {}  # all passivated, the window three days away

        peak = 0

        async def watch() -> None:
            nonlocal peak
            while True:
                peak = max(peak, len(rig.shard.actors))
                await asyncio.sleep(0)
        watcher = asyncio.create_task(watch())
        await rig.advance(minutes=WINDOW + 1)
        for _ in range(300):
            if all(rig.journal.get(rid).status == "closed" for rid in ids):
                break
            await asyncio.sleep(0.01)
        watcher.cancel()
        assert [rig.journal.get(rid).status for rid in ids] == ["closed"] * 40
        assert 1 <= peak <= 4 and rig.shard.ringing == 0 and not rig.shard.waking
    finally:
        rig.close()
