"""Campaigns: from a BSS selection or from rows; paused, resumed, cancelled; interrupted half way
(the campaigns actor killed) and relaunched, ending with exactly one request per row."""

from __future__ import annotations

import asyncio
import uuid

import pytest_asyncio
import ray

from bss import open_bss
from tests.conftest import eventually


def rows(n: int, first: int = 4) -> list[dict]:
    return [{"key": f"row-{i}", "partyId": f"CUST-{i:06d}", "characteristics": {"billingAccountId": f"BA-{i:06d}"}}
            for i in range(first, first + n)]


TEMPLATE = {"requestType": "dunningNotice", "description": "Your account is overdue"}


@pytest_asyncio.fixture(scope="module")
async def live(ray_session, settings_factory):
    """A runtime of their own: campaigns leave hundreds of requests (many held in the collections
    queue), which the CSR work-queue tests must not see."""
    from tests.conftest import Live
    rt = Live(settings_factory())
    yield rt
    await rt.aclose()


@pytest_asyncio.fixture
def http(live):
    return live.http


async def finished(http, cid: str, status: str = "completed") -> dict:
    async def probe():
        c = (await http.get(f"/api/v1/campaigns/{cid}")).json()
        return c if c["status"] == status else None
    return await eventually(probe, timeout=120, interval=0.2)


async def test_a_selection_over_the_bss_becomes_one_request_per_overdue_account(live, http):
    overdue = open_bss(live.settings.bss_path).overdue_accounts(30)
    assert overdue
    r = await http.post("/api/v1/campaigns", json={"name": "dunning run", "template": TEMPLATE,
                                                  "selection": {"minDaysOverdue": 30}, "start": True})
    assert r.status_code == 201
    c = await finished(http, r.json()["id"])
    assert c["rows"] == c["created"] == len(overdue) and c["failed"] == 0
    assert sum(c["requestsByStatus"].values()) == len(overdue)
    listed = (await http.get("/api/v1/requests", params={"requestType": "dunningNotice", "limit": 1000})).json()
    mine = [x for x in listed if x["campaignId"] == c["id"]]
    assert sorted(x["characteristics"]["billingAccountId"] for x in mine) == sorted(a["id"] for a in overdue)
    assert all(x["direction"] == "outbound" and x["channel"] == "campaign" for x in mine)


async def test_interrupted_and_relaunched_gives_exactly_one_request_per_row(live, http):
    cid = f"c-{uuid.uuid4().hex[:8]}"
    body = {"id": cid, "name": "half way", "template": TEMPLATE, "rows": rows(120), "ratePerSecond": 40,
            "start": True}
    assert (await http.post("/api/v1/campaigns", json=body)).status_code == 201

    async def half_sent():
        c = (await http.get(f"/api/v1/campaigns/{cid}")).json()
        return 0 < c["cursor"] < 120
    await eventually(half_sent, timeout=60, interval=0.05)
    ray.kill(live.client_rt.campaigns, no_restart=False)  # a crash half way; Ray restarts the actor

    async def answers():
        return (await http.get(f"/api/v1/campaigns/{cid}")).status_code == 200
    await eventually(answers)
    async def relaunched():  # the same id, file and template; 503 (Retry-After) while Ray restarts the actor
        r = await http.post("/api/v1/campaigns", json=body)
        return r if r.status_code != 503 else None
    again = await eventually(relaunched)
    assert again.status_code == 201 and again.json()["rows"] == 120
    c = await finished(http, cid)
    assert c["created"] + c["existing"] == 120 and c["failed"] == 0
    assert sum(c["requestsByStatus"].values()) == 120  # exactly one request per row, none twice


async def test_pause_resume_cancel(http):
    cid = f"c-{uuid.uuid4().hex[:8]}"
    r = await http.post("/api/v1/campaigns", json={"id": cid, "name": "slow", "template": TEMPLATE,
                                                  "rows": rows(200, first=300), "ratePerSecond": 20})
    assert r.json()["status"] == "ready"
    assert (await http.post(f"/api/v1/campaigns/{cid}/pause")).status_code == 409  # not running
    assert (await http.post(f"/api/v1/campaigns/{cid}/start")).json()["status"] == "running"
    paused = (await http.post(f"/api/v1/campaigns/{cid}/pause")).json()
    assert paused["status"] == "paused"
    stopped_at = (await finished(http, cid, "paused"))["cursor"]
    assert stopped_at < 200
    assert (await http.post(f"/api/v1/campaigns/{cid}/resume")).json()["status"] == "running"
    cancelled = (await http.post(f"/api/v1/campaigns/{cid}/cancel")).json()
    assert cancelled["status"] == "cancelled" and cancelled["finishedAt"]
    assert (await http.post(f"/api/v1/campaigns/{cid}/start")).status_code == 409
    more = await http.post(f"/api/v1/campaigns/{cid}/rows", json=rows(1, first=900))
    assert more.status_code == 409
    r = await http.post("/api/v1/campaigns", json={"id": cid, "name": "slow", "template": {
        **TEMPLATE, "priority": 1}})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "id"  # another template
    assert (await http.get("/api/v1/campaigns/nope")).status_code == 404


async def test_a_campaign_still_uploading_waits_for_its_rows_instead_of_completing(http):
    """A launcher uploads in chunks and starts sending after the first: once every row so far is
    sent, the campaign is still running (it shows it waits for rows), and it completes only after
    the last upload's rows."""
    cid = f"c-{uuid.uuid4().hex[:8]}"
    assert (await http.post("/api/v1/campaigns", json={"id": cid, "name": "chunks", "template": TEMPLATE})).status_code == 201
    first = await http.post(f"/api/v1/campaigns/{cid}/rows", params={"more": "true"}, json=rows(30, first=1000))
    assert first.json()["awaitingRows"] is True
    assert (await http.post(f"/api/v1/campaigns/{cid}/start")).json()["status"] == "running"

    async def all_sent():
        c = (await http.get(f"/api/v1/campaigns/{cid}")).json()
        return c if c["cursor"] == 30 else None
    c = await eventually(all_sent, timeout=60, interval=0.1)
    for _ in range(5):  # and it stays so: sending caught up with the upload, the campaign is not over
        assert (c["status"], c["awaitingRows"], c["finishedAt"]) == ("running", True, None)
        await asyncio.sleep(0.2)
        c = (await http.get(f"/api/v1/campaigns/{cid}")).json()
    last = await http.post(f"/api/v1/campaigns/{cid}/rows", json=rows(20, first=1030))
    assert last.json()["awaitingRows"] is False
    done = await finished(http, cid)
    assert (done["rows"], done["cursor"], done["created"], done["failed"]) == (50, 50, 50, 0)
    assert sum(done["requestsByStatus"].values()) == 50


async def test_rows_upload_takes_5000_rows_beyond_the_body_limit_but_not_more(live, http):
    """The CLI uploads files in chunks of 5,000 rows (about 400 KB): far over the 64 KiB of an
    ordinary body, so the rows route has its own limit, and past it the answer is still 413."""
    cid = f"c-{uuid.uuid4().hex[:8]}"
    assert (await http.post("/api/v1/campaigns", json={"id": cid, "name": "big", "template": TEMPLATE})).status_code == 201
    many = [{**r, "key": f"k{i}"} for i, r in enumerate(rows(997) * 6)][:5000]
    r = await http.post(f"/api/v1/campaigns/{cid}/rows", json=many)
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == 5000 and r.json()["status"] == "ready"  # uploaded, nothing sent yet
    huge = b"[" + b",".join([b'{"key":"x","partyId":"CUST-000004","characteristics":{"t":"' + b"y" * 900 + b'"}}'] * 5000) + b"]"
    assert len(huge) > live.settings.max_upload_bytes
    r = await http.post(f"/api/v1/campaigns/{cid}/rows", content=huge, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "request.too_large"
    assert (await http.get(f"/api/v1/campaigns/{cid}")).json()["rows"] == 5000  # the refused upload added nothing
    assert (await http.post(f"/api/v1/campaigns/{cid}/cancel")).json()["status"] == "cancelled"


async def test_the_cli_launches_a_file_and_a_relaunch_creates_nothing_more(live, http, tmp_path):
    import asyncio

    from typer.testing import CliRunner

    from gateway.cli import app
    from tests.gateway.support import served

    csv_file = tmp_path / "notices.csv"
    csv_file.write_text("key,partyId,billingAccountId\n" + "".join(
        f"k{i},CUST-{i:06d},BA-{i:06d}\n" for i in range(500, 540)))
    runner = CliRunner()
    async with served(live.app) as url:
        token = http.headers["Authorization"].removeprefix("Bearer ")
        args = ["campaign", "launch", str(csv_file), "--type", "dunningNotice", "--api", url, "--token", token]
        first = await asyncio.to_thread(runner.invoke, app, args)
        assert first.exit_code == 0, first.output
        assert "completed; 40 rows, 40 created, 0 existed already, 0 failed" in first.output
        again = await asyncio.to_thread(runner.invoke, app, args)
        assert again.exit_code == 0 and "40 rows, 40 created" in again.output  # the same campaign, nothing new
    cid = next(c["id"] for c in (await http.get("/api/v1/campaigns")).json() if c["name"] == "notices.csv")
    c = (await http.get(f"/api/v1/campaigns/{cid}")).json()
    assert sum(c["requestsByStatus"].values()) == 40
