"""Properties of the request lifecycle under random sequences of actions from random roles
(hypothesis), on an in-process shard with a manual clock (no Ray):

- every status change recorded is in the lifecycle table, and every status is a known one;
- a final request never changes again (status, timeline, journal);
- a party never acts on, nor sees (``gateway.auth.visible``), a request it is not a party of (for
  cancel, which the request actor does not scope, through the gateway's own check);
- any refusal is a coded domain error, never a crash of the request actor.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors import lifecycle
from actors.errors import NotFound, SwitchboardError
from actors.models import FINAL_STATUSES, Status
from gateway.auth import Principal, visible
from gateway.keystore import Role
from tests.actors.shard_support import ShardRig

OWNER, STRANGER = "CUST-0001", "CUST-0002"
SKILLS = {"CSR-001": ["billing", "general"], "CSR-003": ["collections", "general"], "CSR-002": ["sales", "orders"]}
ACTORS = ["party:CUST-0001", "party:CUST-0002", "csr:CSR-001", "csr:CSR-002", "csr:CSR-003", "channel:web",
          "operator:k1", "system"]
CREATES = [  # (request type, characteristics): self-served, held for a CSR, pending for the customer
    ("billingInquiry", {"billingAccountId": "BA-0001"}),
    ("billingInquiry", {"billingAccountId": "BA-9999"}),
    ("inquiry", {}),
    ("billingDispute", {"billingAccountId": "BA-0001", "amount": 120}),
    ("quote", {"offeringId": "PO-TV-BASIC", "quantity": 1}),
    ("quote", {"custom": True}),
]
DATA = {
    "claim": {}, "release": {}, "answer": {"text": "<script>alert(1)</script>'; DROP TABLE requests; --"},
    "approve": {}, "reject": {"reason": "no"}, "requestInformation": {"question": "which month?"},
    "buildQuote": {"items": [{"offeringId": "PO-FIBRE-500", "quantity": 1}]}, "retry": {},
    "accept": {}, "decline": {"reason": "too dear"}, "information": {"text": "March"}, "confirm": {},
    "reopen": {"reason": "still wrong"}, "promise": {"amount": 10.0, "date": date(2026, 12, 1).isoformat()},
    "dispute": {"text": "not mine"}, "cancel": {"reason": "changed my mind"}, "nosuchaction": {},
}

step = st.one_of(
    st.tuples(st.just("act"), st.sampled_from(sorted(DATA)), st.sampled_from(ACTORS)),
    st.tuples(st.just("advance"), st.sampled_from([1, 45, 60 * 24, 60 * 24 * 4]), st.just("")),
)


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    loop = asyncio.new_event_loop()
    r = ShardRig(tmp_path_factory.mktemp("props"))
    yield loop, r
    r.close()
    loop.run_until_complete(asyncio.sleep(0.05))  # let the cancelled timers finish
    loop.close()


def check_state(s: dict) -> None:
    assert s["status"] in set(Status)
    for entry in s["timeline"]:
        if entry.get("fromStatus") and entry.get("toStatus"):
            assert lifecycle.allowed(Status(entry["fromStatus"]), Status(entry["toStatus"])), entry


def test_random_actions_keep_the_lifecycle_finality_and_party_scoping(rig):
    loop, r = rig
    stranger = Principal(Role.customer, "k2", party_id=STRANGER)
    owner = Principal(Role.customer, "k1", party_id=OWNER)

    async def run(create: tuple[str, dict], steps: list[tuple[str, str, str]]) -> None:
        rtype, chars = create
        rid = await r.create(rtype, party=OWNER, **chars)
        for kind, what, actor in steps:
            before = await r.status(rid)
            events_before = len(r.events(rid))
            if kind == "advance":
                await r.advance(minutes=int(what) if isinstance(what, int) else 1)
            else:
                data = dict(DATA[what])
                if what == "claim" and actor.startswith("csr:"):
                    data["skills"] = SKILLS[actor[4:]]
                try:
                    if what == "cancel" and actor.startswith("party:"):
                        # The request actor checks the party on actions but not on cancel: the
                        # gateway's cancel route does, with this check (gateway/routes.py).
                        visible(Principal(Role.customer, "k", party_id=actor[6:]), rid, json.dumps(before))
                    await r.act(rid, what, actor, **data)
                    assert actor != f"party:{STRANGER}", "a stranger acted on the request"
                except NotFound:
                    assert actor == f"party:{STRANGER}" or what == "nosuchaction", (what, actor)
                except SwitchboardError:
                    pass  # refused (409, 422): a coded error, and the request is as it was
            after = await r.status(rid)
            check_state(after)
            if before["status"] in FINAL_STATUSES:
                assert after["status"] == before["status"]
                assert after["timeline"] == before["timeline"]
                assert len(r.events(rid)) == events_before
            with pytest.raises(NotFound):
                visible(stranger, rid, json.dumps(after))
            visible(owner, rid, json.dumps(after))

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(create=st.sampled_from(CREATES), steps=st.lists(step, min_size=1, max_size=6))
    def prop(create, steps):
        loop.run_until_complete(run(create, steps))

    prop()
