"""TMF683 Party Interaction v4, driven from the spec file: every path and method of the spec served,
responses validated against its definitions, the mandatory attributes, native requests visible as
PartyInteractions, PATCH through the lifecycle, DELETE, TMF630 queries, and the hub delivering
TMF683 events to a receiver."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import jsonschema
import pytest
import pytest_asyncio

from tests.conftest import eventually, inquiry, wait_status

SPEC_PATH = Path(__file__).resolve().parents[2] / "specs" / "tmf" / "TMF683-PartyInteraction-v4.0.0.swagger.json"
SPEC = json.loads(SPEC_PATH.read_text())
BASE = SPEC["basePath"].rstrip("/")
PI = f"{BASE}/partyInteraction"
METHODS = ("get", "post", "put", "patch", "delete")
CLIENT_SIDE = "notification listeners (client side)"  # the spec's tag for what a subscriber serves


def validate(instance, definition: str) -> None:
    """``instance`` against a definition of the swagger document (its ``$ref``s resolve in it)."""
    schema = {"definitions": SPEC["definitions"], "$ref": f"#/definitions/{definition}"}
    jsonschema.Draft4Validator(schema).validate(instance)


def party() -> str:
    return f"CUST-{uuid.uuid4().hex[:8]}"


def interaction(p: str | None = None, **extra) -> dict:
    body = {
        "reason": "Why is my bill so high?",
        "direction": "inbound",
        "channel": [{"id": "web", "href": "urn:switchboard:channel:web", "name": "web"}],
        "relatedParty": [{"id": p or party(), "href": "https://crm.example/party/1", "role": "customer",
                          "@referredType": "Individual"}],
    }
    body.update(extra)
    return body


def billing_item(account: str = "BA-0001") -> list[dict]:
    return [{"id": "1", "item": {"role": "request", "@referredType": "billingInquiry",
                                 "characteristic": [{"name": "billingAccountId", "value": account}]}}]


CREATED: list[str] = []


@pytest_asyncio.fixture(autouse=True, scope="module")
async def clean_up(live):
    """Delete (cancel) what these tests created: the session runtime's CSR queues are shared."""
    yield
    for pid in CREATED:
        await live.http.delete(f"{PI}/{pid}")


async def create(http, body: dict) -> dict:
    r = await http.post(PI, json=body)
    assert r.status_code == 201, r.text
    CREATED.append(r.json()["id"])
    validate(r.json(), "PartyInteraction")
    assert r.headers["Location"] == f"{PI}/{r.json()['id']}"
    return r.json()


async def get_pi(http, pid: str) -> dict:
    r = await http.get(f"{PI}/{pid}")
    assert r.status_code == 200, r.text
    validate(r.json(), "PartyInteraction")
    return r.json()


def assert_error(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    validate(r.json(), "Error")
    assert r.json()["status"] == str(status)
    assert {"code", "reason", "message", "referenceError"} <= set(r.json())
    return r.json()


# -- the spec ------------------------------------------------------------------------------------

def test_every_path_and_method_of_the_spec_is_served(live):
    served_ops = {(p, m) for p, ops in live.app.openapi()["paths"].items() for m in ops if m in METHODS}
    spec_ops = {(BASE + p, m) for p, ops in SPEC["paths"].items() for m, op in ops.items()
                if m in METHODS and CLIENT_SIDE not in op.get("tags", [])}
    assert len(spec_ops) == 7
    assert spec_ops <= served_ops, spec_ops - served_ops
    # the listener paths are the subscriber's to serve (the spec tags them client side)
    listeners = [p for p, ops in SPEC["paths"].items() if any(CLIENT_SIDE in o.get("tags", []) for o in ops.values())]
    assert sorted(listeners) == sorted(f"/listener/{e}" for e in (
        "partyInteractionCreateEvent", "partyInteractionAttributeValueChangeEvent",
        "partyInteractionDeleteEvent", "partyInteractionStatusChangeEvent"))
    tmf_tags = {tuple(op["tags"]) for p, ops in live.app.openapi()["paths"].items() if p.startswith(BASE)
                for op in ops.values()}
    assert tmf_tags == {("TMF683 partyInteraction",)}


# -- create and read -----------------------------------------------------------------------------

async def test_create_maps_to_a_request_and_reads_back(http):
    p = party()
    body = interaction(p, id="client-id", status="completed", note=[{"text": "called twice", "author": "ivr"}],
                       interactionItem=billing_item(), description="first contact",
                       **{"@type": "AcmePartyInteraction", "acmeScore": 7})
    pi = await create(http, body)
    assert pi["id"] != "client-id" and pi["status"] == "acknowledged"  # not trusted from the client
    assert (pi["reason"], pi["direction"], pi["channel"][0]["id"]) == ("Why is my bill so high?", "inbound", "web")
    assert pi["requestType"] == "billingInquiry" and pi["@type"] == "AcmePartyInteraction"
    assert pi["acmeScore"] == 7 and pi["note"] == body["note"] and pi["description"] == "first contact"
    assert "startDateTime" in pi["interactionDate"] and pi["@baseType"] == "PartyInteraction"
    native = await wait_status(http, pi["id"], "held")  # an account that is not the party's: a CSR looks
    assert native["description"] == body["reason"] and native["channel"] == "web"
    assert native["relatedParty"][0]["id"] == p and native["characteristics"] == {"billingAccountId": "BA-0001"}
    got = await get_pi(http, pi["id"])
    assert got["status"] == "held" and got["relatedParty"] == body["relatedParty"]
    assert got["statusChangeDate"] >= got["creationDate"]
    assert [a["kind"] for a in got["activities"]] and got["timeline"][0]["event"] == "created"


async def test_without_a_request_item_it_is_an_inquiry(http):
    pi = await create(http, {"reason": "How do I reset my password?", "direction": "inbound",
                             "channel": [{"name": "chat"}]})
    assert pi["requestType"] == "inquiry" and pi["channel"][0] == {"name": "chat", "id": "chat",
                                                                   "href": "urn:switchboard:channel:chat"}
    assert "relatedParty" not in pi


@pytest.mark.parametrize("missing", ["reason", "direction", "channel"])
async def test_create_without_a_mandatory_attribute_is_400(http, missing):
    body = interaction()
    del body[missing]
    err = assert_error(await http.post(PI, json=body), 400)
    assert missing in err["message"]


async def test_malformed_or_unknown_is_400_and_unknown_id_404(http):
    r = await http.post(PI, content=b"{not json", headers={"Content-Type": "application/json"})
    assert assert_error(r, 400)["code"] == "request.malformed"
    assert_error(await http.post(PI, json=["a list"]), 400)
    err = assert_error(await http.post(PI, json=interaction(channel=[{"id": "pigeon", "href": "x"}])), 400)
    assert "pigeon" in err["message"]
    assert_error(await http.post(PI, json=interaction(direction="sideways")), 400)
    assert_error(await http.post(PI, json=interaction(interactionItem=[{"item": {
        "role": "request", "@referredType": "teleportation"}}])), 400)
    big = [{"name": "scan.pdf", "content": "A" * 80_000}]  # over the gateway's body limit (64 KiB)
    assert "65536 bytes" in assert_error(await http.post(PI, json=interaction(attachment=big)), 413)["message"]
    assert_error(await http.post(PI, content=b" " * 300_000, headers={"Content-Type": "application/json"}), 413)
    assert_error(await http.get(f"{PI}/{uuid.uuid4().hex}"), 404)
    assert_error(await http.put(f"{PI}/{uuid.uuid4().hex}", json={}), 405)


async def test_every_native_request_appears_with_reason_direction_channel(http):
    p = party()
    rid = (await http.post("/api/v1/requests", json=inquiry(party=p, channel="ivr",
                                                            description="balance please"))).json()["id"]
    bare = (await http.post("/api/v1/requests", json=inquiry(party=p))).json()["id"]
    CREATED.extend([rid, bare])
    r = await http.get(PI, params={"relatedParty.id": p})
    assert r.status_code == 200
    for x in r.json():
        validate(x, "PartyInteraction")
    by_id = {x["id"]: x for x in r.json()}
    assert set(by_id) == {rid, bare}
    assert (by_id[rid]["reason"], by_id[rid]["direction"], by_id[rid]["channel"][0]["id"]) == \
        ("balance please", "inbound", "ivr")
    assert by_id[bare]["reason"] == "billingInquiry"  # no description: the request type says why
    item = by_id[rid]["interactionItem"][0]["item"]
    assert item["@referredType"] == "billingInquiry" and item["characteristic"] == [
        {"name": "billingAccountId", "value": "BA-0001"}]
    r = await http.get(PI, params={"relatedParty.id": p, "interactionItem.item.@referredType": "billingInquiry",
                                   "channel.id": "ivr"})
    assert [x["id"] for x in r.json()] == [rid] and r.headers["X-Total-Count"] == "1"


# -- PATCH and DELETE ------------------------------------------------------------------------------

async def patch(http, pid: str, body: dict):
    return await http.patch(f"{PI}/{pid}", content=json.dumps(body),
                            headers={"Content-Type": "application/merge-patch+json"})


async def test_patch_attributes_and_status_through_the_lifecycle(http):
    pi = await create(http, interaction(interactionItem=billing_item()))
    await wait_status(http, pi["id"], "held")
    r = await patch(http, pi["id"], {"note": [{"text": "customer called back"}], "reason": "Bill too high"})
    assert r.status_code == 200, r.text
    validate(r.json(), "PartyInteraction")
    assert r.json()["note"] == [{"text": "customer called back"}] and r.json()["reason"] == "Bill too high"
    native = (await http.get(f"/api/v1/requests/{pi['id']}")).json()
    assert native["description"] == "Bill too high" and native["timeline"][-1]["event"] == "updated"

    for refused in ({"id": "x"}, {"direction": "outbound"}, {"creationDate": "2020-01-01T00:00:00Z"},
                    {"activities": []}, {"status": "nonsense"}):
        assert_error(await patch(http, pi["id"], refused), 400)
    assert_error(await patch(http, pi["id"], {"status": "pending"}), 409)  # held -> pending: not in the table
    assert_error(await patch(http, pi["id"], {"status": "resolved"}), 409)  # the handling's to set
    assert_error(await patch(http, pi["id"], {"channel": [{"id": "email"}]}), 409)
    assert (await get_pi(http, pi["id"]))["status"] == "held"  # refused: nothing changed

    r = await patch(http, pi["id"], {"status": "cancelled"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert_error(await patch(http, pi["id"], {"note": [{"text": "too late"}]}), 409)  # final


async def test_delete_cancels_hides_and_the_journal_keeps_it(live, http):
    pi = await create(http, interaction(interactionItem=billing_item()))
    await wait_status(http, pi["id"], "held")
    r = await http.delete(f"{PI}/{pi['id']}")
    assert r.status_code == 204
    assert_error(await http.get(f"{PI}/{pi['id']}"), 404)
    assert_error(await http.delete(f"{PI}/{pi['id']}"), 404)
    assert_error(await patch(http, pi["id"], {"note": []}), 404)
    listed = (await http.get(PI, params={"id": pi["id"]}))
    assert listed.json() == [] and listed.headers["X-Total-Count"] == "0"
    native = (await http.get(f"/api/v1/requests/{pi['id']}")).json()  # operators still see it
    assert native["status"] == "cancelled" and native["hidden"] is True
    reader = live.client_rt.readers[live.client_rt.shard(pi["id"])]
    events = [e["type"] for e in reader.events(pi["id"])]
    assert events[-1] == "deleted" and "closed" in events


# -- TMF630 queries --------------------------------------------------------------------------------

async def test_fields_filters_paging_and_counts(http):
    p = party()
    ids = [(await create(http, interaction(p, reason=f"question {i}", channel=[{"id": c, "href": "h"}])))["id"]
           for i, c in enumerate(["web", "chat", "web"])]
    emailed = (await create(http, interaction(p, reason="by email", channel=[{"name": "email"}])))["id"]

    r = await http.get(PI, params={"relatedParty.id": p})
    assert r.headers["X-Total-Count"] == "4" and r.headers["X-Result-Count"] == "4"
    assert [x["id"] for x in r.json()] == [emailed, *reversed(ids)]  # newest first

    r = await http.get(PI, params={"relatedParty.id": p, "fields": "reason,status"})
    assert all(set(x) == {"reason", "status"} for x in r.json())
    r = await http.get(f"{PI}/{ids[0]}", params={"fields": "channel"})
    assert r.json() == {"channel": [{"id": "web", "href": "h"}]}

    async def ids_for(**params):
        r = await http.get(PI, params={"relatedParty.id": p, **params})
        assert r.status_code == 200, r.text
        assert r.headers["X-Result-Count"] == str(len(r.json()))
        return {x["id"] for x in r.json()}, int(r.headers["X-Total-Count"])

    assert await ids_for(**{"channel.id": "chat"}) == ({ids[1]}, 1)
    assert await ids_for(direction="inbound") == ({*ids, emailed}, 4)
    assert await ids_for(direction="outbound") == (set(), 0)
    assert await ids_for(**{"channel.name": "email"}) == ({emailed}, 1)
    assert await ids_for(reason="question 2") == ({ids[2]}, 1)
    assert await ids_for(id=ids[0]) == ({ids[0]}, 1)
    assert await ids_for(href=f"{PI}/{ids[1]}") == ({ids[1]}, 1)
    assert await ids_for(requestType="inquiry") == ({*ids, emailed}, 4)
    assert await ids_for(**{"@type": "SwitchboardPartyInteraction"}) == ({*ids, emailed}, 4)
    assert (await ids_for(**{"channel.id": "nowhere"})) == (set(), 0)
    first = await get_pi(http, ids[0])
    assert await ids_for(**{"creationDate.gt": first["creationDate"]}) == ({ids[1], ids[2], emailed}, 3)
    assert await ids_for(**{"interactionDate.startDateTime.lte": first["interactionDate"]["startDateTime"]}) \
        == ({ids[0]}, 1)
    # status of requests that move: filter on one that is final
    page, total = await ids_for(offset="1", limit="2")
    assert total == 4 and page == {ids[2], ids[1]}

    assert_error(await http.get(PI, params={"colour": "red"}), 400)
    assert_error(await http.get(PI, params={"limit": "0"}), 400)
    assert_error(await http.get(PI, params={"offset": "x"}), 400)


async def test_status_filter_counts_in_sql(http):
    p = party()
    held = [(await create(http, interaction(p, interactionItem=billing_item())))["id"] for _ in range(3)]
    for pid in held:
        await wait_status(http, pid, "held")
    await patch(http, held[0], {"status": "cancelled"})
    r = await http.get(PI, params={"relatedParty.id": p, "status": "held", "limit": "1"})
    assert r.headers["X-Total-Count"] == "2" and r.headers["X-Result-Count"] == "1"
    r = await http.get(PI, params=[("relatedParty.id", p), ("status", "held"), ("status", "cancelled")])
    assert r.headers["X-Total-Count"] == "3"


# -- events ----------------------------------------------------------------------------------------

async def test_hub_delivers_tmf683_events(http, receiver):
    r = await http.post(f"{BASE}/hub", json={"callback": receiver.url})
    assert r.status_code == 201, r.text
    validate(r.json(), "EventSubscription")
    sub = r.json()
    assert r.headers["Location"] == f"{BASE}/hub/{sub['id']}"
    only_status = (await http.post(f"{BASE}/hub", json={
        "callback": receiver.url + "?status", "query": "eventType=partyInteractionStatusChangeEvent"})).json()
    assert only_status["query"] == "eventType=partyInteractionStatusChangeEvent"
    assert_error(await http.post(f"{BASE}/hub", json={"query": "eventType=x"}), 400)

    pi = await create(http, interaction(interactionItem=billing_item()))
    await wait_status(http, pi["id"], "held")
    await patch(http, pi["id"], {"note": [{"text": "noted"}]})
    assert (await http.delete(f"{PI}/{pi['id']}")).status_code == 204

    async def all_types():
        types = {g.json["eventType"] for g in receiver.got
                 if g.json["event"]["partyInteraction"]["id"] == pi["id"]}
        return types >= {"partyInteractionCreateEvent", "partyInteractionStatusChangeEvent",
                         "partyInteractionAttributeValueChangeEvent", "partyInteractionDeleteEvent"}
    await eventually(all_types)
    names = {"partyInteractionCreateEvent": "PartyInteractionCreateEvent",
             "partyInteractionStatusChangeEvent": "PartyInteractionStatusChangeEvent",
             "partyInteractionAttributeValueChangeEvent": "PartyInteractionAttributeValueChangeEvent",
             "partyInteractionDeleteEvent": "PartyInteractionDeleteEvent"}
    for got in receiver.got:
        event = got.json
        validate(event, names[event["eventType"]])
        validate(event["event"]["partyInteraction"], "PartyInteraction")
        assert {"eventId", "eventTime", "eventType"} <= set(event)
        assert got.headers["x-switchboard-event"] == event["eventType"]
        assert event["deliveryId"] == got.headers["x-switchboard-delivery"]
    status_only = [g.json["eventType"] for g in receiver.got
                   if g.headers["x-switchboard-delivery"].startswith(only_status["id"] + ":")]
    assert status_only and set(status_only) == {"partyInteractionStatusChangeEvent"}

    assert (await http.delete(f"{BASE}/hub/{sub['id']}")).status_code == 204
    assert_error(await http.delete(f"{BASE}/hub/{sub['id']}"), 404)
    assert (await http.delete(f"{BASE}/hub/{only_status['id']}")).status_code == 204
    native = (await http.post("/api/v1/hub", json={"callback": receiver.url})).json()
    assert_error(await http.delete(f"{BASE}/hub/{native['id']}"), 404)  # not the TMF hub's
    assert (await http.delete(f"/api/v1/hub/{native['id']}")).status_code == 204


async def test_who_may_use_the_tmf_face(live, http):
    """Channel, operator and admin keys; a channel key sees its own channel's PartyInteractions only
    (another channel's answers 404, as an unknown id); customers and CSRs use the native API."""
    from gateway.keystore import Role

    ivr = (await http.post("/api/v1/requests", json=inquiry(channel="ivr", description="tmf scope"))).json()["id"]
    web = (await http.post("/api/v1/requests", json=inquiry(channel="web", description="tmf scope"))).json()["id"]
    CREATED.extend([ivr, web])
    async with live.client(Role.channel) as channel:  # bound to the web channel
        assert (await channel.get(f"{PI}/{web}")).status_code == 200
        assert_error(await channel.get(f"{PI}/{ivr}"), 404)
        listed = (await channel.get(PI, params={"limit": 1000})).json()
        assert web in {x["id"] for x in listed} and ivr not in {x["id"] for x in listed}
        assert {x["channel"][0]["id"] for x in listed} == {"web"}
        assert (await channel.patch(f"{PI}/{ivr}", json={"status": "cancelled"},
                                    headers={"Content-Type": "application/merge-patch+json"})).status_code == 404
    async with live.client(Role.operator) as operator:
        assert (await operator.get(f"{PI}/{ivr}")).status_code == 200
    for role in (Role.customer, Role.csr):
        async with live.client(role) as other:
            assert_error(await other.get(f"{PI}/{web}"), 403)
    async with live.client() as anonymous:
        assert_error(await anonymous.get(PI), 401)
