"""The lifecycle table, and the request actor refusing every transition outside it."""

from __future__ import annotations

import itertools

import pytest

from actors import lifecycle
from actors.errors import InvalidTransition
from actors.journal import SQLiteJournal
from actors.models import FINAL_STATUSES, Channel, Direction, RelatedParty, RequestState, Status
from actors.policy import TypePolicy
from actors.request import RequestActor

S = Status
DESIGN_TABLE = {  # copied from DESIGN.md, "Lifecycle"
    (S.acknowledged, S.in_progress), (S.acknowledged, S.rejected), (S.acknowledged, S.cancelled),
    (S.in_progress, S.pending), (S.in_progress, S.held), (S.in_progress, S.resolved), (S.in_progress, S.cancelled),
    (S.pending, S.in_progress), (S.pending, S.resolved), (S.pending, S.cancelled),
    (S.held, S.in_progress), (S.held, S.resolved), (S.held, S.cancelled),
    (S.resolved, S.closed), (S.resolved, S.in_progress),
}
ALL_PAIRS = list(itertools.product(Status, Status))


def test_table_is_the_design_table():
    assert {(a, b) for a, b in ALL_PAIRS if lifecycle.allowed(a, b)} == DESIGN_TABLE
    for final in FINAL_STATUSES:
        assert not lifecycle.TRANSITIONS[final]


def state_in(status: Status, rid: str) -> RequestState:
    return RequestState(id=rid, href=f"/api/v1/requests/{rid}", requestType="billingInquiry",
                        direction=Direction.inbound, channel=Channel.web, relatedParty=[RelatedParty(id="CUST-0001")],
                        process="billing", status=status)


POLICY = TypePolicy(requestType="billingInquiry", process="billing", selfService=False)


@pytest.mark.parametrize("current,target", [p for p in ALL_PAIRS if p not in DESIGN_TABLE],
                         ids=lambda s: str(s))
async def test_refused_transition_changes_nothing(tmp_path, current, target):
    journal = SQLiteJournal(tmp_path / "shard.db")
    actor = RequestActor(state_in(current, "r1"), POLICY, journal, processes={})
    await actor.persist_created()
    before_json, before_events = actor.status_json(), journal.events("r1")
    with pytest.raises(InvalidTransition) as err:
        await actor.transition(target, "tester", "try it")
    assert err.value.code == "request.invalid_transition"
    assert f"cannot become {target}" in err.value.detail
    assert actor.status_json() == before_json
    assert journal.get("r1").status == current
    assert journal.events("r1") == before_events
    journal.close()


@pytest.mark.parametrize("current,target", sorted(DESIGN_TABLE - {(S.acknowledged, S.in_progress),
                                                                  (S.held, S.in_progress),
                                                                  (S.pending, S.in_progress),
                                                                  (S.resolved, S.in_progress)}), ids=str)
async def test_allowed_transition_is_journaled_with_timeline(tmp_path, current, target):
    journal = SQLiteJournal(tmp_path / "shard.db")
    actor = RequestActor(state_in(current, "r2"), POLICY, journal, processes={})
    await actor.persist_created()
    await actor.transition(target, "csr-7", "because")
    stored = journal.get("r2")
    assert stored.status == target
    last = stored.timeline[-1]
    assert (last.fromStatus, last.toStatus, last.actor, last.reason) == (current, target, "csr-7", "because")
    events = journal.events("r2")
    changed = [e for e in events if e["type"] == "statusChanged"]
    assert changed[-1]["data"]["to"] == target.value
    if target in FINAL_STATUSES:  # a final status is reached only through Close Request
        assert events[-1]["type"] == "closed" and events[-1]["data"]["status"] == target.value
        assert stored.closedAt is not None
    journal.close()
