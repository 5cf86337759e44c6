"""SLA clocks on a simulated clock: warning and breach escalate as the routing table says, and a
pending request's clock does not run."""

from __future__ import annotations

import pytest

from tests.actors.shard_support import ShardRig

NO_SELF_SERVICE = {"selfService": False}  # straight to the CSR queue: no process needed to be held


@pytest.fixture
def shard(tmp_path):
    s = ShardRig(tmp_path, inquiry=NO_SELF_SERVICE)
    yield s
    s.close()


async def test_a_request_nobody_takes_up_warns_then_breaches_and_is_escalated(shard):
    rid = await shard.create("inquiry", priority=3)
    held = await shard.status(rid)
    assert (held["status"], held["queue"], held["priority"]) == ("held", "general", 3)
    assert held["sla"]["timeLeft"] == {"response": 3600.0, "resolution": 86400.0}  # standard: 60 min, 1 day

    await shard.advance(minutes=47)
    assert shard.events(rid, "slaWarning", "slaBreached") == []
    assert (await shard.status(rid))["sla"]["timeLeft"]["response"] == pytest.approx(13 * 60)

    await shard.advance(minutes=1)  # 80 % of the response target: a warning raises the priority
    warned = await shard.status(rid)
    assert [e["data"]["target"] for e in shard.events(rid, "slaWarning")] == ["response"]
    assert (warned["priority"], warned["queue"], warned["sla"]["warned"]) == (2, "general", ["response"])
    assert warned["timeline"][-1]["event"] == "slaWarning"

    await shard.advance(minutes=12)  # due: the breach raises the priority again and escalates
    breached = await shard.status(rid)
    assert [e["data"]["target"] for e in shard.events(rid, "slaBreached")] == ["response"]
    assert (breached["priority"], breached["queue"], breached["status"]) == (1, "escalations", "held")
    assert breached["sla"]["breached"] == ["response"] and breached["sla"]["escalatedTo"] == "escalations"
    assert "escalated to the escalations queue" in breached["timeline"][-1]["reason"]
    assert breached["sla"]["timeLeft"]["response"] == 0.0
    assert shard.shard.metrics.sla_events == {("inquiry", "slaWarning", "response"): 1,
                                              ("inquiry", "slaBreached", "response"): 1}

    await shard.advance(minutes=60)  # nothing fires twice
    assert len(shard.events(rid, "slaWarning", "slaBreached")) == 2


async def test_a_claim_meets_the_response_target(shard):
    rid = await shard.create("inquiry")
    await shard.advance(minutes=10)
    claimed = await shard.act(rid, "claim", "csr:CSR-001", skills=["general"])
    assert claimed["sla"]["respondedAt"] is not None and "response" not in claimed["sla"]["timeLeft"]
    await shard.advance(minutes=120)
    assert shard.events(rid, "slaWarning", "slaBreached") == []


async def test_the_clock_stops_while_pending_and_resumes_after(shard):
    rid = await shard.create("inquiry")
    await shard.act(rid, "claim", "csr:CSR-001", skills=["general"])
    await shard.advance(minutes=20)  # within the 30-minute claim
    asked = await shard.act(rid, "requestInformation", "csr:CSR-001", question="Which address?")
    assert asked["status"] == "pending"
    assert [e["data"]["question"] for e in shard.events(rid, "informationRequired")] == ["Which address?"]
    left = asked["sla"]["timeLeft"]["resolution"]
    assert left == pytest.approx((1440 - 20) * 60)
    assert not [n for n in asked["timers"] if n.startswith("sla.")]  # no SLA timer while paused

    await shard.advance(days=3)  # way past the one-day target, but the customer has the ball
    paused = await shard.status(rid)
    assert paused["sla"]["timeLeft"]["resolution"] == left
    assert shard.events(rid, "slaWarning", "slaBreached") == []

    back = await shard.act(rid, "information", "party:CUST-0001", text="12 Main St")
    assert back["status"] == "held" and back["sla"]["pausedSince"] is None
    assert back["sla"]["pausedSeconds"] == pytest.approx(3 * 86400)
    await shard.advance(minutes=1440 * 0.8 - 20 - 1)  # the warning comes 80 % in, pause excluded: not yet
    assert shard.events(rid, "slaWarning") == []
    await shard.advance(minutes=2)
    assert [e["data"]["target"] for e in shard.events(rid, "slaWarning")] == ["resolution"]


async def test_targets_follow_the_priority(shard):
    urgent = await shard.create("inquiry", priority=1)  # standard, byPriority.1: 15 min, 4 h
    assert (await shard.status(urgent))["sla"]["timeLeft"] == {"response": 900.0, "resolution": 14400.0}
