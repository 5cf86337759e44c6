"""Taking requests up: a burst of creates beyond ``max_driving`` is acknowledged at once (journaled)
and fulfilled in turn, oldest first; memory stays within ``max_active``; requests acknowledged but
not taken up when a host stops are taken up after its restart."""

from __future__ import annotations

import asyncio
import json

from actors.errors import NotFound
from actors.host import Intake, Shard
from actors.journal import SQLiteJournal
from tests.actors.shard_support import ShardRig, local_processes

NO_SELF_SERVICE = {"selfService": False}


def first_step_seq(rig: ShardRig, rid: str) -> int:
    """The journal position of the request's first change after it was created."""
    events = rig.events(rid)
    return next(e["seq"] for e in events if e["type"] != "created")


async def test_a_burst_beyond_max_driving_is_acknowledged_at_once_and_fulfilled_in_turn(tmp_path):
    rig = ShardRig(tmp_path, shard_options={"max_driving": 2})
    try:
        news = [rig.new("billingInquiry", party="CUST-0001", billingAccountId="BA-0001") for _ in range(12)]
        most = 0

        async def watch():
            nonlocal most
            while True:
                most = max(most, rig.shard.driving)
                await asyncio.sleep(0)

        watcher = asyncio.get_running_loop().create_task(watch())
        answers = await rig.shard.create_states([(sj, bh) for _, sj, bh in news])
        assert all(created for created, _ in answers)
        assert [json.loads(body)["status"] for _, body in answers] == ["acknowledged"] * 12
        waiting = [rid for rid, _, _ in news if rig.journal.get(rid).status.value == "acknowledged"]
        assert rig.shard.deferred == len(waiting) >= 10  # journaled, answered, not taken up yet

        await rig.settle()
        watcher.cancel()
        assert most <= 2
        for rid, _, _ in news:
            done = await rig.status(rid)
            assert done["status"] == "resolved" and done["result"]["billingAccountId"] == "BA-0001"
        order = [first_step_seq(rig, rid) for rid in waiting]
        assert order == sorted(order)  # taken up oldest first
    finally:
        rig.close()


async def test_at_most_max_active_actors_stay_in_memory_and_the_others_still_answer(tmp_path):
    rig = ShardRig(tmp_path, shard_options={"max_active": 5}, inquiry=NO_SELF_SERVICE)
    try:
        ids = [await rig.create("inquiry") for _ in range(20)]
        assert len(rig.shard.actors) <= 5
        assert rig.shard.passivated >= 15
        for rid in ids:
            assert (await rig.status(rid))["status"] == "held"  # reactivated from the journal to answer
    finally:
        rig.close()


async def test_requests_waiting_their_turn_are_taken_up_after_a_restart(tmp_path):
    rig = ShardRig(tmp_path, shard_options={"max_driving": 0})  # no room at all: every create waits
    ids = []
    for _ in range(5):
        rid, state_json, body_hash = rig.new("billingInquiry", party="CUST-0001", billingAccountId="BA-0001")
        created, _ = await rig.shard.create(state_json, body_hash)
        assert created
        ids.append(rid)
    assert (await rig.status(ids[0]))["status"] == "acknowledged"  # a query answers, and does not jump the line
    await asyncio.sleep(0.2)
    assert (await rig.status(ids[0]))["status"] == "acknowledged" and [rid for rid, _ in rig.shard.ready] == ids
    rig.close()

    journal = SQLiteJournal(tmp_path / "shard.db")
    again = Shard("test-host", journal, rig.shard.policies, local_processes(tmp_path / "bss.db"), clock=rig.clock)
    try:
        again.recover()
        assert again.rehydrated == 5
        for _ in range(400):
            if all(journal.get(rid).status.value == "resolved" for rid in ids):
                break
            await asyncio.sleep(0.01)
        assert [journal.get(rid).status.value for rid in ids] == ["resolved"] * 5
    finally:
        again.stop()
        journal.close()


async def test_a_batch_sent_again_answers_the_same_requests_and_creates_nothing(tmp_path):
    """What a relaunched campaign does: keyed creates, some taken up at once and some lined up, a
    duplicate inside the batch, then the whole batch again."""
    rig = ShardRig(tmp_path, shard_options={"max_driving": 1})
    try:
        items = [rig.new("billingInquiry", key=f"row-{i}", billingAccountId="BA-0001") for i in range(6)]
        items.append(items[0])
        first = await rig.shard.create_states([(sj, bh) for _, sj, bh in items])
        assert [created for created, _ in first] == [True] * 6 + [False]
        assert rig.shard.deferred >= 4
        again = await rig.shard.create_states([(sj, bh) for _, sj, bh in items[:6]])
        assert [created for created, _ in again] == [False] * 6
        assert [json.loads(body)["id"] for _, body in again] == [rid for rid, _, _ in items[:6]]
        await rig.settle()
        ids = [rid for rid, _, _ in items[:6]]
        assert rig.journal.known(ids + ["nope"]) == set(ids)
        assert [(await rig.status(rid))["status"] for rid in ids] == ["resolved"] * 6
        other = rig.new("billingInquiry", key="row-0", billingAccountId="BA-0002")  # the same key, another body
        [conflict] = await rig.shard.create_states([(other[1], other[2])])
        assert getattr(conflict, "code", None) == "request.idempotency_conflict", conflict
    finally:
        rig.close()


def bursts(rig: ShardRig, n: int) -> list[tuple[str, str, str]]:
    return [rig.new("billingInquiry", party="CUST-0001", billingAccountId="BA-0001") for _ in range(n)]


async def test_fulfilment_yields_to_a_burst_of_creates_and_catches_up_when_it_ends(tmp_path):
    intake = Intake(burst_batch=8, yield_seconds=60, quiet_seconds=0.3)
    rig = ShardRig(tmp_path, shard_options={"intake": intake})
    try:
        small = bursts(rig, 3)  # a batch below burst_batch is no burst: taken up at once
        await rig.shard.create_states([(sj, bh) for _, sj, bh in small])
        await rig.settle()
        assert [(await rig.status(rid))["status"] for rid, _, _ in small] == ["resolved"] * 3

        first, second = bursts(rig, 10), bursts(rig, 10)
        answers = await rig.shard.create_states([(sj, bh) for _, sj, bh in first])
        assert all(created for created, _ in answers)
        await asyncio.sleep(0.1)
        answers = await rig.shard.create_states([(sj, bh) for _, sj, bh in second])  # still bursting
        assert all(created for created, _ in answers)
        await asyncio.sleep(0.1)
        statuses = [(await rig.status(rid))["status"] for rid, _, _ in first + second]
        assert statuses == ["acknowledged"] * 20 and rig.shard.driving == 0  # journaled, answered, waiting

        for _ in range(100):  # the burst is over: taken up again, by the shard's own timer
            if [(await rig.status(rid))["status"] for rid, _, _ in first + second] == ["resolved"] * 20:
                break
            await asyncio.sleep(0.05)
        done = [await rig.status(rid) for rid, _, _ in first + second]
        assert [d["status"] for d in done] == ["resolved"] * 20
        order = [first_step_seq(rig, rid) for rid, _, _ in first + second]
        assert order == sorted(order)  # oldest first, as ever
    finally:
        rig.close()


async def test_a_request_waits_at_most_yield_seconds_for_a_burst_that_goes_on(tmp_path):
    intake = Intake(burst_batch=4, yield_seconds=0.5, quiet_seconds=0.3)
    rig = ShardRig(tmp_path, shard_options={"intake": intake})
    try:
        oldest = bursts(rig, 4)
        await rig.shard.create_states([(sj, bh) for _, sj, bh in oldest])
        statuses = []
        for _ in range(20):  # the burst never stops for quiet_seconds
            await rig.shard.create_states([(sj, bh) for _, sj, bh in bursts(rig, 4)])
            await asyncio.sleep(0.1)
            statuses = [(await rig.status(rid))["status"] for rid, _, _ in oldest]
            if statuses == ["resolved"] * 4:
                break
        assert statuses == ["resolved"] * 4  # taken up once they had waited 0.5 s, burst or not
    finally:
        rig.close()


async def test_one_status_call_answers_many_requests_each_on_its_own(tmp_path):
    rig = ShardRig(tmp_path, inquiry=NO_SELF_SERVICE)
    try:
        a, b = await rig.create("inquiry"), await rig.create("inquiry")
        answers = await rig.shard.status_many([a, "0" * 32, b])
        assert [json.loads(answers[i])["id"] for i in (0, 2)] == [a, b]
        assert isinstance(answers[1], NotFound)
    finally:
        rig.close()
