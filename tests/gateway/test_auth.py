"""Who may do what: every role against every route group (allowed, refused), a customer kept to its
own party's requests (404, as for an unknown id), channels to their channel, tokens that are
missing, wrong, revoked, or JWTs that are forged, expired or for another audience."""

from __future__ import annotations

import time
import uuid

import httpx
import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.app import create_app
from gateway.keystore import Role
from routing.client import RuntimeClient
from tests.conftest import Live, inquiry, wait_status
from tests.gateway.support import messages, served, take

C, CH, CSR, OP, AD = Role.customer, Role.channel, Role.csr, Role.operator, Role.admin
OTHER = "CUST-0002"


@pytest_asyncio.fixture(scope="module")
async def ctx(live: Live):
    """Clients per role, a request of the customer's party (web) and one of another party (mobile)."""
    clients = {role: live.client(role) for role in Role}
    admin = clients[AD]
    own = (await admin.post("/api/v1/requests", json=inquiry(account="BA-9999"))).json()["id"]  # goes held
    other = (await admin.post("/api/v1/requests", json=inquiry(account="BA-0002", party=OTHER,
                                                               channel="mobile"))).json()["id"]
    await wait_status(admin, own, "held")
    return {"clients": clients, "own": own, "other": other, "anon": live.client()}


# (group, method, path, json) -> roles allowed; everyone else gets 403
MATRIX = [
    ("requests.create", "POST", "/api/v1/requests", lambda c: inquiry(), {C, CH, CSR, OP, AD}),
    ("requests.read", "GET", "/api/v1/requests/{own}", None, {C, CH, CSR, OP, AD}),
    ("requests.list", "GET", "/api/v1/requests", None, {C, CH, CSR, OP, AD}),
    ("requests.cancel", "POST", "/api/v1/requests/{fresh}/cancel", None, {C, CH, CSR, AD}),
    ("actions.customer", "POST", "/api/v1/requests/{own}/confirm", lambda c: {"partyId": "CUST-0001"}, {C, CH, AD}),
    ("actions.csr", "POST", "/api/v1/requests/{own}/release", lambda c: {"csrId": "CSR-001"}, {CSR, AD}),
    ("queue.csrs", "GET", "/api/v1/csrs", None, {CSR, OP, AD}),
    ("queue.of_a_csr", "GET", "/api/v1/csrs/CSR-001/queue", None, {CSR, OP, AD}),
    ("hub.list", "GET", "/api/v1/hub", None, {C, OP, AD}),
    ("hub.deadLetters", "GET", "/api/v1/hub/deadLetters", None, {OP, AD}),
    ("hub.replay", "POST", "/api/v1/hub/deadLetters/nosuch/replay", None, {OP, AD}),
    ("keys.list", "GET", "/api/v1/keys", None, {AD}),
    ("keys.revoke", "DELETE", "/api/v1/keys/nosuchkey", None, {AD}),
]


@pytest.mark.parametrize("group,method,path,body,allowed", MATRIX, ids=[m[0] for m in MATRIX])
async def test_each_role_against_each_route_group(ctx, group, method, path, body, allowed):
    for role in Role:
        client = ctx["clients"][role]
        fresh = ""
        if "{fresh}" in path:  # a request of CUST-0001 on the web channel, so every role may see it
            fresh = (await ctx["clients"][AD].post("/api/v1/requests", json=inquiry())).json()["id"]
        url = path.format(own=ctx["own"], fresh=fresh)
        r = await client.request(method, url, json=body(role) if body else None)
        if role in allowed:
            assert r.status_code not in (401, 403), (group, role, r.status_code, r.text)
        else:
            assert r.status_code == 403, (group, role, r.status_code, r.text)
            assert r.json()["code"] == "auth.forbidden" and r.headers["content-type"] == "application/problem+json"
        anon = await ctx["anon"].request(method, url, json=body(role) if body else None)
        assert anon.status_code == 401 and anon.headers["WWW-Authenticate"].startswith("Bearer"), anon.text


async def test_hub_subscribe_and_streams_by_role(ctx, live):
    cb = {"callback": "http://127.0.0.1:9/hook", "query": {"relatedPartyId": f"P-{uuid.uuid4().hex[:8]}"}}
    for role in Role:
        r = await ctx["clients"][role].post("/api/v1/hub", json=cb)
        if role in (C, OP, AD):
            assert r.status_code == 201, (role, r.text)
            assert (await ctx["clients"][AD].delete(r.headers["Location"])).status_code == 204
        else:
            assert r.status_code == 403, (role, r.text)
    assert (await ctx["clients"][CH].get("/api/v1/events")).status_code == 403  # channels: request streams only


async def test_health_metrics_and_docs_stay_open(ctx):
    anon = ctx["anon"]
    for path in ("/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"):
        assert (await anon.get(path)).status_code == 200, path
    spec = (await anon.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": spec["components"]["securitySchemes"]["bearer"]["description"]}
    assert spec["paths"]["/api/v1/requests"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in spec["paths"]["/healthz"]["get"]


async def test_bad_tokens_are_401(ctx, live):
    for header in ("Bearer sb_nosuch_secret", "Bearer not-a-key", "Basic dXNlcjpwYXNz",
                   f"Bearer {live.tokens[AD]}x", f"Bearer {live.tokens[AD][:-2]}"):
        r = await ctx["anon"].get("/api/v1/requests", headers={"Authorization": header})
        assert r.status_code == 401, header
        assert r.json()["code"] == "auth.unauthorized" and "WWW-Authenticate" in r.headers


# -- a customer sees and touches only its own party's requests -----------------------------------

async def test_a_customer_cannot_read_list_or_act_on_another_partys_request(ctx):
    me, other = ctx["clients"][C], ctx["other"]
    unknown = await me.get(f"/api/v1/requests/{'0' * 32}")
    hidden = await me.get(f"/api/v1/requests/{other}")
    assert unknown.status_code == hidden.status_code == 404
    same = {k: v for k, v in unknown.json().items() if k not in ("detail", "instance", "errors")}
    assert {k: v for k, v in hidden.json().items() if k not in ("detail", "instance", "errors")} == same
    assert hidden.json()["detail"] == unknown.json()["detail"].replace("0" * 32, other)
    assert (await me.get(f"/api/v1/requests/{ctx['own']}")).status_code == 200

    listed = await me.get("/api/v1/requests", params={"relatedParty.id": OTHER, "limit": 1000})
    assert listed.status_code == 200 and listed.json()
    assert all(r["relatedParty"][0]["id"] == "CUST-0001" for r in listed.json())
    assert other not in {r["id"] for r in listed.json()}

    for action, body in (("confirm", {}), ("information", {"text": "hello"}), ("cancel", None),
                         ("reopen", {"reason": "no"})):
        r = await me.post(f"/api/v1/requests/{other}/{action}", json=body)
        assert r.status_code == 404, (action, r.text)
    r = await me.post(f"/api/v1/requests/{ctx['own']}/confirm", json={"partyId": OTHER})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "partyId"
    r = await me.post("/api/v1/requests", json=inquiry(party=OTHER, account="BA-0002"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "relatedParty"
    state = (await ctx["clients"][AD].get(f"/api/v1/requests/{other}")).json()
    assert state["status"] not in ("cancelled", "closed")


async def test_a_customer_subscribes_and_streams_only_its_own_party(ctx, live):
    me = ctx["clients"][C]
    r = await me.get(f"/api/v1/requests/{ctx['other']}/events")
    assert r.status_code == 404 and r.json()["code"] == "request.not_found"
    sub = await me.post("/api/v1/hub", json={"callback": "http://127.0.0.1:9/hook",
                                             "query": {"relatedPartyId": OTHER, "eventTypes": ["closed"]}})
    assert sub.status_code == 201 and sub.json()["query"]["relatedPartyId"] == "CUST-0001"
    theirs = await ctx["clients"][AD].post("/api/v1/hub", json={"callback": "http://127.0.0.1:9/hook",
                                                                 "query": {"relatedPartyId": OTHER,
                                                                           "eventTypes": ["closed"]}})
    assert {s["id"] for s in (await me.get("/api/v1/hub")).json()} >= {sub.json()["id"]}
    assert theirs.json()["id"] not in {s["id"] for s in (await me.get("/api/v1/hub")).json()}
    assert (await me.get(f"/api/v1/hub/{theirs.json()['id']}")).status_code == 404
    assert (await me.delete(f"/api/v1/hub/{theirs.json()['id']}")).status_code == 404
    for s in (sub, theirs):
        assert (await ctx["clients"][AD].delete(s.headers["Location"])).status_code == 204

    async with served(live.app) as base, httpx.AsyncClient(timeout=30, headers=me.headers) as client:
        async with client.stream("GET", f"{base}/api/v1/events", params={"relatedParty.id": OTHER}) as stream:
            assert stream.status_code == 200
            events = messages(stream)
            await ctx["clients"][AD].post("/api/v1/requests", json=inquiry(party=OTHER, account="BA-0002"))
            mine = (await ctx["clients"][AD].post("/api/v1/requests", json=inquiry())).json()["id"]
            first = (await take(events, 1))[0]
    assert first.data["relatedPartyId"] == "CUST-0001" and first.data["requestId"] == mine


# -- channels, CSRs, timelines, idempotency ------------------------------------------------------

async def test_a_channel_creates_and_reads_its_own_channel_only(ctx):
    web = ctx["clients"][CH]
    r = await web.post("/api/v1/requests", json=inquiry(channel="mobile"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "channel"
    assert (await web.get(f"/api/v1/requests/{ctx['other']}")).status_code == 404  # a mobile request
    assert (await web.post(f"/api/v1/requests/{ctx['other']}/cancel")).status_code == 404
    listed = (await web.get("/api/v1/requests", params={"channel": "mobile", "limit": 1000})).json()
    assert listed and all(r["channel"] == "web" for r in listed)
    created = await web.post("/api/v1/requests", json=inquiry())
    assert created.status_code == 201
    assert created.json()["timeline"][0]["actor"] == "channel:web"


async def test_actions_are_recorded_with_who_did_them(ctx, live):
    admin, csr, me = ctx["clients"][AD], ctx["clients"][CSR], ctx["clients"][C]
    rid = (await admin.post("/api/v1/requests", json=inquiry(account="BA-9999"))).json()["id"]
    await wait_status(admin, rid, "held")
    r = await csr.post(f"/api/v1/requests/{rid}/claim", json={"csrId": "CSR-003"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "csrId"  # not this key's CSR
    assert (await csr.post(f"/api/v1/requests/{rid}/claim", json={})).json()["assignee"] == "csr:CSR-001"
    r = await csr.post(f"/api/v1/requests/{rid}/answer", json={"text": "the account number is wrong"})
    assert r.status_code == 200
    await wait_status(me, rid, "resolved")
    closed = await me.post(f"/api/v1/requests/{rid}/confirm", json={})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    actors = {e["event"]: e["actor"] for e in closed.json()["timeline"]}
    key_id = live.tokens[AD].split("_")[1]
    assert actors["created"] == f"admin:{key_id}"
    assert actors["action.claim"] == actors["action.answer"] == "csr:CSR-001"
    assert actors["action.confirm"] == "party:CUST-0001"


async def test_idempotency_keys_are_scoped_to_the_caller(ctx):
    key = f"same-{uuid.uuid4().hex}"
    a = await ctx["clients"][C].post("/api/v1/requests", json=inquiry(), headers={"Idempotency-Key": key})
    b = await ctx["clients"][CH].post("/api/v1/requests", json=inquiry(), headers={"Idempotency-Key": key})
    again = await ctx["clients"][C].post("/api/v1/requests", json=inquiry(), headers={"Idempotency-Key": key})
    assert (a.status_code, b.status_code, again.status_code) == (201, 201, 200)
    assert a.json()["id"] != b.json()["id"] and again.json()["id"] == a.json()["id"]


# -- keys ----------------------------------------------------------------------------------------

async def test_admin_manages_keys_and_a_revoked_key_stops_at_once(ctx, live):
    admin = ctx["clients"][AD]
    r = await admin.post("/api/v1/keys", json={"role": "customer", "partyId": OTHER, "name": "test"})
    assert r.status_code == 201
    made = r.json()
    assert made["token"].startswith(f"sb_{made['id']}_")
    bad = await admin.post("/api/v1/keys", json={"role": "customer"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "partyId"
    listed = (await admin.get("/api/v1/keys")).json()
    assert made["id"] in {k["id"] for k in listed}
    assert all("token" not in k and "hash" not in k for k in listed)
    theirs = live.client(token=made["token"])
    assert (await theirs.get(f"/api/v1/requests/{ctx['other']}")).status_code == 200
    assert (await admin.delete(f"/api/v1/keys/{made['id']}")).json()["revokedAt"]
    assert (await theirs.get(f"/api/v1/requests/{ctx['other']}")).status_code == 401
    assert made["token"].split("_", 2)[2] not in live.settings.keys_path.read_bytes().decode("latin-1")


# -- JWT -----------------------------------------------------------------------------------------

async def test_jwt_signature_audience_and_expiry_are_checked(live):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    settings = live.settings.model_copy(update={"jwt_public_key": pem, "jwt_audience": "switchboard",
                                                "jwt_issuer": "https://idp.example"})
    app = create_app(RuntimeClient(settings))
    claims = {"sub": "user-1", "role": "customer", "party_id": "CUST-0001", "aud": "switchboard",
              "iss": "https://idp.example", "exp": int(time.time()) + 300}
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tokens = {
        "good": (jwt.encode(claims, key, algorithm="RS256"), 200),
        "another audience": (jwt.encode({**claims, "aud": "someone-else"}, key, algorithm="RS256"), 401),
        "expired": (jwt.encode({**claims, "exp": int(time.time()) - 60}, key, algorithm="RS256"), 401),
        "another issuer": (jwt.encode({**claims, "iss": "https://evil.example"}, key, algorithm="RS256"), 401),
        "forged": (jwt.encode(claims, other_key, algorithm="RS256"), 401),
        "no role binding": (jwt.encode({**claims, "party_id": None}, key, algorithm="RS256"), 401),
        "alg none": (jwt.encode(claims, None, algorithm="none"), 401),
    }
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://switchboard") as c:
        for name, (token, status) in tokens.items():
            r = await c.get("/api/v1/requests", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == status, (name, r.text)
        r = await c.get("/api/v1/requests", params={"relatedParty.id": OTHER},
                        headers={"Authorization": f"Bearer {tokens['good'][0]}"})
        assert all(x["relatedParty"][0]["id"] == "CUST-0001" for x in r.json())  # a customer, scoped


async def test_a_jwt_with_an_unknown_channel_is_401(live):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    app = create_app(RuntimeClient(live.settings.model_copy(update={"jwt_public_key": pem,
                                                                    "jwt_audience": "switchboard"})))
    claims = {"sub": "gw", "role": "channel", "aud": "switchboard", "exp": int(time.time()) + 300}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://switchboard") as c:
        for channel, status in (("pigeon", 401), ("web", 200)):
            token = jwt.encode({**claims, "channel": channel}, key, algorithm="RS256")
            r = await c.get("/api/v1/requests", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == status, (channel, r.text)


async def test_many_requests_with_a_token_not_cached_verify_it_once(live):
    """64 connections of one client arriving together (or all of them when its cache entry expires)
    run argon2 once, not 64 times; a refused token refuses every waiter and is not cached."""
    import asyncio

    from gateway.auth import Authenticator, Unauthorized

    auth = Authenticator(live.settings)
    calls = []
    real = auth.keys.verify
    auth.keys.verify = lambda token: calls.append(token) or real(token)
    token = live.tokens[Role.channel]
    principals = await asyncio.gather(*(auth.authenticate(token) for _ in range(64)))
    assert len(calls) == 1 and {p.kind for p in principals} == {Role.channel}
    assert await auth.authenticate(token) is principals[0] and len(calls) == 1  # cached
    wrong = token[:-4] + "zzzz"
    refused = await asyncio.gather(*(auth.authenticate(wrong) for _ in range(8)), return_exceptions=True)
    assert all(isinstance(r, Unauthorized) for r in refused) and len(calls) == 2
    with pytest.raises(Unauthorized):
        await auth.authenticate(wrong)
    assert len(calls) == 3  # a refusal is not cached
