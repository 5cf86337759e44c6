"""Limits: body size (413, declared or streamed), JSON depth (422), per-key rate limits (429 with
Retry-After, channel keys higher), each refused before a route runs, so nothing is created."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest_asyncio

from gateway.keystore import Role
from gateway.limits import json_depth_over
from tests.conftest import Live, inquiry


@pytest_asyncio.fixture(scope="module")
async def limited(ray_session, settings_factory):
    """A runtime of its own with small limits."""
    rt = Live(settings_factory(max_body_bytes=4096, max_json_depth=8, rate_limit_per_second=1.0,
                               rate_limit_burst=5, channel_rate_limit_per_second=1.0, channel_rate_limit_burst=20))
    yield rt
    await rt.aclose()


async def count(live: Live, party: str) -> str:
    r = await live.client(Role.admin).get("/api/v1/requests", params={"relatedParty.id": party})
    return r.headers["X-Total-Count"]


async def test_a_body_over_the_limit_is_413_declared_or_streamed(live):
    http, party = live.http, f"CUST-{uuid.uuid4().hex[:6]}"
    big = json.dumps(inquiry(party=party, description="x" * (live.settings.max_body_bytes + 10))).encode()
    r = await http.post("/api/v1/requests", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "request.too_large"
    assert r.headers["content-type"] == "application/problem+json"

    async def chunks():  # no Content-Length: the middleware counts what arrives
        for i in range(0, len(big), 1000):
            yield big[i:i + 1000]
    r = await http.post("/api/v1/requests", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    r = await http.post("/api/v1/requests", content=b"{}", headers={"Content-Length": "lots"})
    assert r.status_code == 400
    assert await count(live, party) == "0"


async def test_deep_nesting_is_422_and_brackets_in_strings_do_not_count(live):
    http = live.http
    deep = "[" * 100 + "]" * 100
    r = await http.post("/api/v1/requests", content=f'{{"characteristics": {deep}}}'.encode(),
                        headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "request.too_deep"
    assert r.json()["errors"][0]["field"] == "body"
    r = await http.post("/api/v1/requests", json=inquiry(description="[[[[{{{{" * 50 + '\\"[[[['))
    assert r.status_code == 201, r.text
    assert not json_depth_over(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[\\"[[[[[[[[[[[[[[[[[[[["}', 3)
    assert json_depth_over(b'{"a": [[[{"b": 1}]]]}', 3)


async def test_limits_are_settings(limited):
    r = await limited.http.post("/api/v1/requests", json=inquiry(description="x" * 4000))
    assert r.status_code == 413  # 4,000 characters: over this runtime's 4 KiB
    r = await limited.http.post("/api/v1/requests", content=b'{"a": [[[[[[[[1]]]]]]]]}',
                                headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "request.too_deep"


async def test_over_the_rate_limit_is_429_with_retry_after_per_key(limited):
    op, other_op = limited.client(Role.operator), limited.client(Role.csr)
    codes = [(await op.get("/api/v1/requests")).status_code for _ in range(8)]
    assert codes[:4] == [200] * 4 and codes[-1] == 429  # a burst of 5 (less what the earlier test used)
    r = await op.get("/api/v1/requests")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.json()["code"] == "auth.rate_limited"
    assert (await other_op.get("/api/v1/requests")).status_code == 200  # another key has its own bucket
    channel = limited.client(Role.channel)  # a bigger burst for channel keys
    assert [(await channel.get("/api/v1/requests")).status_code for _ in range(15)] == [200] * 15
    assert (await limited.client().get("/healthz")).status_code == 200  # health is never limited


async def test_webhook_callbacks_to_private_addresses_are_refused_unless_allowed(live):
    from gateway.app import create_app
    from routing.client import RuntimeClient

    strict = create_app(RuntimeClient(live.settings.model_copy(update={"webhook_allow_private": False})))
    strict_live = httpx.AsyncClient(transport=httpx.ASGITransport(app=strict), base_url="http://switchboard",
                                    headers=live.http.headers)
    for callback in ("http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/hook",
                     "http://192.168.0.10/hook", "http://169.254.169.254/latest/meta-data", "http://0.0.0.0/hook",
                     "http://[::1]/hook", "http://[::ffff:127.0.0.1]/hook", "http://100.64.0.1/hook",
                     "https://user:pass@93.184.215.14/hook", "ftp://93.184.215.14/hook",
                     "http://no-such-host.invalid/hook"):
        r = await strict_live.post("/api/v1/hub", json={"callback": callback})
        assert r.status_code == 422, (callback, r.text)
        assert r.json()["errors"][0]["field"] == "callback", r.json()
    r = await strict_live.post("/api/v1/hub", json={"callback": "https://93.184.215.14/hook",
                                                    "query": {"relatedPartyId": f"P-{uuid.uuid4().hex[:8]}"}})
    assert r.status_code == 201, r.text  # a public address
    assert (await strict_live.delete(r.headers["Location"])).status_code == 204
    await strict_live.aclose()
    r = await live.http.post("/api/v1/hub", json={"callback": "http://127.0.0.1:9/hook",
                                                  "query": {"relatedPartyId": f"P-{uuid.uuid4().hex[:8]}"}})
    assert r.status_code == 201  # the tests' runtimes allow loopback receivers
    assert (await live.http.delete(r.headers["Location"])).status_code == 204
