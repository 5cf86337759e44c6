"""TMF630 filters as SQL over a real journal file: each attribute, native and TMF683-created rows,
without a runtime."""

from __future__ import annotations

import json

import pytest

from actors.errors import Invalid
from actors.journal import Query, SQLiteReader
from gateway.tmf683.filters import conditions

AT = "2026-11-27T10:00:00.000000Z"


def row(rid: str, interaction: dict | None, **over) -> dict:
    state = {"id": rid, "href": f"/api/v1/requests/{rid}", "requestType": "billingInquiry", "channel": "ivr",
             "direction": "inbound", "status": "held", "priority": 2, "description": None,
             "relatedParty": [{"id": "P1", "role": "customer"}], "creationDate": AT,
             "timeline": [{"at": AT, "event": "created", "toStatus": "acknowledged"},
                          {"at": "2026-11-27T10:00:01.000000Z", "event": "statusChanged", "toStatus": "held"}],
             "interaction": interaction, "sla": {"policy": "standard"}}
    state.update(over)
    return state


@pytest.fixture
def reader(tmp_path):
    r = SQLiteReader(tmp_path / "shard-0.db")
    native = row("n1", None)
    tmf = row("t1", {"channel": [{"id": "C-9", "name": "web", "href": "h"}], "note": [{"author": "ivr"}],
                     "relatedParty": [{"id": "P2", "role": "Customer"}], "@type": "Acme",
                     "interactionDate": {"startDateTime": "2026-01-01T00:00:00Z"}},
              channel="web", description="bill too high", relatedParty=[{"id": "P2", "role": "customer"}],
              status="cancelled", priority=3)
    for i, s in enumerate([native, tmf]):
        r._conn.execute(
            "INSERT INTO requests (id, status, request_type, channel, direction, party_id, priority, created_at, "
            "updated_at, hidden, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
            (s["id"], s["status"], s["requestType"], s["channel"], s["direction"], s["relatedParty"][0]["id"],
             s["priority"], f"{AT[:-2]}{i}Z", AT, json.dumps(s)))
    yield r
    r.close()


def ids(reader, **params) -> tuple[set[str], int]:
    rows, total = reader.query(Query(where=conditions(list(params.items()))))
    return {rid for _, rid, _ in rows}, total


@pytest.mark.parametrize("params, expected", [
    ({"id": "n1"}, {"n1"}),
    ({"href": "/tmf-api/partyInteraction/v4/partyInteraction/t1"}, {"t1"}),
    ({"reason": "billingInquiry"}, {"n1"}),  # a native request without description: its type
    ({"reason": "bill too high"}, {"t1"}),
    ({"status": "cancelled"}, {"t1"}),
    ({"direction": "inbound"}, {"n1", "t1"}),
    ({"priority": "2"}, {"n1"}),
    ({"requestType": "billingInquiry"}, {"n1", "t1"}),
    ({"statusChangeDate": "2026-11-27T10:00:01.000000Z"}, {"n1", "t1"}),
    ({"creationDate.gte": AT}, {"n1", "t1"}),
    ({"creationDate.lt": AT}, set()),
    ({"@type": "Acme"}, {"t1"}),
    ({"@type": "SwitchboardPartyInteraction"}, {"n1"}),
    ({"@baseType": "PartyInteraction"}, {"n1", "t1"}),
    ({"channel.id": "ivr"}, {"n1"}),
    ({"channel.id": "C-9"}, {"t1"}),  # as sent: the id, though the request's channel is its name
    ({"channel.name": "web"}, {"t1"}),
    ({"relatedParty.id": "P1"}, {"n1"}),
    ({"relatedParty.role": "Customer"}, {"t1"}),
    ({"interactionItem.item.@referredType": "billingInquiry"}, {"n1"}),
    ({"interactionItem.item.id": "n1"}, {"n1"}),
    ({"note.author": "ivr"}, {"t1"}),
    ({"interactionDate.startDateTime": AT}, {"n1"}),
    ({"interactionDate.startDateTime.lt": "2026-06-01"}, {"t1"}),
    ({"sla.policy": "standard"}, {"n1", "t1"}),
    ({"timeline.event": "statusChanged"}, {"n1", "t1"}),
])
def test_each_attribute_filters_in_sql(reader, params, expected):
    assert ids(reader, **params) == (expected, len(expected))


def test_repeated_is_any_and_names_are_anded(reader):
    rows, total = reader.query(Query(where=conditions([("status", "held"), ("status", "cancelled"),
                                                       ("direction", "inbound")])))
    assert total == 2
    assert ids(reader, status="held", **{"channel.id": "C-9"}) == (set(), 0)


@pytest.mark.parametrize("name", ["colour", "channel", "note", "relatedParty.id'--", "sort"])
def test_unknown_or_structures_are_refused(reader, name):
    with pytest.raises(Invalid):
        conditions([(name, "x")])
