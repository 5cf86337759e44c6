"""The classifier builds a new request's state without validating it again (``Model.trusted``)
and its SLA clock from a template: the result must be exactly what validation and ``sla.start`` /
``sla.sync`` give, field order included (a request's JSON keeps ``sla`` last)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest

from actors import sla
from actors.models import RequestState, Status
from routing.models import RequestCreate
from routing.router import IDEMPOTENCY_NAMESPACE, Classifier, request_id
from routing.table import RoutingTable

TABLE = RoutingTable.load()
NOW = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
BODIES = [
    {"requestType": "dunningNotice", "direction": "outbound", "channel": "campaign", "description": "overdue",
     "relatedParty": [{"id": "CUST-000004", "role": "customer"}], "characteristics": {"billingAccountId": "BA-1"}},
    {"requestType": "billingInquiry", "direction": "inbound", "channel": "web", "priority": 1, "externalId": "x-1",
     "relatedParty": [{"id": "CUST-0001", "role": "customer"}, {"id": "P-9", "role": "prospect", "name": "Ann"}],
     "characteristics": {"billingAccountId": "BA-0001", "n": 3, "flag": True}, "interaction": {"reason": "bill"}},
]


@pytest.mark.parametrize("raw", BODIES, ids=lambda b: b["requestType"])
def test_a_classified_state_is_what_validation_gives(raw):
    body = RequestCreate.model_validate(raw)
    state = Classifier(TABLE).classify(body, "key-1", "party:CUST-0001", now=NOW, campaign_id="c-1")
    text = state.model_dump_json()
    again = RequestState.model_validate_json(text)
    assert again.model_dump_json() == text
    assert list(json.loads(text))[-1] == "sla"
    rt = TABLE.requestTypes[body.requestType]
    policy = TABLE.slaPolicies[rt.slaPolicy]
    clock = sla.start(policy, rt.slaPolicy, body.priority, NOW)
    assert state.timers == sla.sync(clock, policy, Status.acknowledged, NOW)
    assert state.sla == clock
    body.characteristics["changed"] = "later"  # the state has its own containers
    assert "changed" not in state.characteristics


def test_two_states_share_no_mutable_part():
    c = Classifier(TABLE)
    body = RequestCreate.model_validate(BODIES[0])
    a, b = c.classify(body, None, "api", now=NOW), c.classify(body, None, "api", now=NOW)
    a.sla.warned.append("response")
    a.activities.append("x")
    a.timers.clear()
    assert b.sla.warned == [] and b.activities == [] and b.timers and a.id != b.id


def test_derived_ids_are_uuid5_of_caller_and_key():
    for caller, key in [("party:CUST-1", "k"), ("campaign:c", "campaign:c:row-ü")]:
        assert request_id(key, caller) == uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{caller}\n{key}").hex
