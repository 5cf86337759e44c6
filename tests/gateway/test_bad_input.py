"""Bad bodies get problem details naming the field, and create nothing."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import inquiry, wait_status


def without(body: dict, key: str) -> dict:
    return {k: v for k, v in body.items() if k != key}


CASES = [
    ("missing requestType", lambda b: without(b, "requestType"), 422, "requestType"),
    ("unknown requestType", lambda b: {**b, "requestType": "teleport"}, 422, "requestType"),
    ("wrong channel", lambda b: {**b, "channel": "pigeon"}, 422, "channel"),
    ("wrong direction", lambda b: {**b, "direction": "sideways"}, 422, "direction"),
    ("outbound inquiry", lambda b: {**b, "direction": "outbound"}, 422, "direction"),
    ("no party", lambda b: {**b, "relatedParty": []}, 422, "relatedParty"),
    ("party id with spaces", lambda b: {**b, "relatedParty": [{"id": "a b"}]}, 422, "relatedParty.0.id"),
    ("missing account", lambda b: {**b, "characteristics": {}}, 422, "characteristics.billingAccountId"),
    ("nested characteristic", lambda b: {**b, "characteristics": {"billingAccountId": {"x": 1}}}, 422,
     "characteristics.billingAccountId"),
    ("unknown field", lambda b: {**b, "colour": "red"}, 422, "colour"),
    ("priority out of range", lambda b: {**b, "priority": 9}, 422, "priority"),
    ("description too long", lambda b: {**b, "description": "x" * 5000}, 422, "description"),
]


@pytest.mark.parametrize("name,mutate,status,field", CASES, ids=[c[0] for c in CASES])
async def test_bad_body_names_the_field_and_creates_nothing(http, name, mutate, status, field):
    party = f"CUST-{uuid.uuid4().hex[:6]}"
    body = mutate(inquiry(party=party))
    r = await http.post("/api/v1/requests", json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == status
    assert field in [e["field"] for e in problem["errors"]], problem
    listed = await http.get("/api/v1/requests", params={"relatedParty.id": party})
    assert listed.headers["X-Total-Count"] == "0"


async def test_malformed_json_is_400(http):
    r = await http.post("/api/v1/requests", content=b'{"requestType": ', headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["code"] == "request.malformed"


async def test_bad_idempotency_key_is_422(http):
    r = await http.post("/api/v1/requests", json=inquiry(), headers={"Idempotency-Key": "x" * 300})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_bad_query_and_path_name_the_parameter(http):
    r = await http.get("/api/v1/requests", params={"limit": 0})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "limit"
    r = await http.get("/api/v1/requests", params={"status": "sleeping"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status"
    r = await http.get("/api/v1/requests/not%20an%20id")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "request_id"


HOSTILE = [
    "'; DROP TABLE requests; --",
    "\" OR 1=1 --",
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "{{7*7}} ${7*7} %s %n \\x00",
    "ünïcødé 🙂 \u202e reversed \u0000 nul",
    "line one\nline two\r\n\tdata: not an SSE field",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_free_text_is_stored_and_returned_verbatim(http, text):
    party = f"CUST-{uuid.uuid4().hex[:6]}"
    r = await http.post("/api/v1/requests", json=inquiry(party=party, description=text))
    assert r.status_code == 201, r.text
    assert r.json()["description"] == text
    got = await http.get(f"/api/v1/requests/{r.json()['id']}")
    assert got.json()["description"] == text and got.headers["content-type"] == "application/json"
    listed = await http.get("/api/v1/requests", params={"relatedParty.id": party})
    assert [x["description"] for x in listed.json()] == [text]


async def test_an_invalid_transition_is_409_and_changes_nothing(http):
    rid = (await http.post("/api/v1/requests", json=inquiry())).json()["id"]
    before = await wait_status(http, rid, "resolved")
    r = await http.post(f"/api/v1/requests/{rid}/cancel")
    assert r.status_code == 409 and r.json()["code"] == "request.invalid_transition"
    after = (await http.get(f"/api/v1/requests/{rid}")).json()
    assert after["status"] == "resolved" and after["timeline"] == before["timeline"]


async def test_wrong_types_and_unknown_action_fields_are_422(http):
    r = await http.post("/api/v1/requests", json={**inquiry(), "priority": "high"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "priority"
    r = await http.post("/api/v1/requests", json=[inquiry()])
    assert r.status_code == 422
    r = await http.post(f"/api/v1/requests/{'0' * 32}/confirm", json={"partyId": "CUST-0001", "admin": True})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "admin"
