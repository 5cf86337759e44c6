"""Overload: the gateway and the hosts answer 503 with Retry-After instead of queueing without
bound, and nothing acknowledged is lost (every 201 is in the journal; no 503 created anything)."""

from __future__ import annotations

import asyncio

from tests.conftest import Live, eventually, inquiry


async def test_a_burst_beyond_the_queue_gets_503s_and_loses_nothing(ray_session, settings_factory):
    live = Live(settings_factory(max_waiting_creates=4))
    try:
        answers = await asyncio.gather(*(live.http.post("/api/v1/requests", json=inquiry()) for _ in range(120)))
        codes = [a.status_code for a in answers]
        assert set(codes) <= {201, 503} and codes.count(503) > 0 and codes.count(201) > 0
        refused = next(a for a in answers if a.status_code == 503)
        assert refused.headers["Retry-After"] == "1" and refused.json()["code"] == "runtime.overloaded"
        created = {a.json()["id"] for a in answers if a.status_code == 201}
        listed = await live.http.get("/api/v1/requests", params={"limit": 1000})
        assert {r["id"] for r in listed.json()} == created  # each 201 journaled; no 503 left a request
        for rid in created:
            assert (await live.http.get(f"/api/v1/requests/{rid}")).status_code == 200
        metrics = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
                   for line in (await live.http.get("/metrics")).text.splitlines() if not line.startswith("#")}
        refusals = 'switchboard_http_request_duration_seconds_count{method="POST",route="/api/v1/requests",status="503"}'
        assert metrics[refusals] == codes.count(503)  # an operator sees the refusals
        assert metrics["switchboard_creates_waiting"] == 0  # every create answered: none held
        assert 0 <= metrics["switchboard_requests_ready"] <= len(created)
        assert metrics["switchboard_journal_backlog"] >= 0
    finally:
        await live.aclose()


async def test_a_host_slower_than_the_deadline_gets_504_and_the_create_is_made_once(ray_session, settings_factory):
    """A deadline shorter than any create (a Ray call and an fsync): the client gets 504 at once,
    told the call had left (so it may still be done), and the create it sent is made exactly once,
    also when the client sends it again with its Idempotency-Key."""
    live = Live(settings_factory(call_timeout_seconds=0.001))
    try:
        key = {"Idempotency-Key": "deadline-1"}
        first = await live.http.post("/api/v1/requests", json=inquiry(), headers=key)
        assert first.status_code == 504, first.text
        assert first.json()["code"] == "runtime.timeout" and "may still be done" in first.json()["detail"]
        assert first.headers["Retry-After"] == "1"
        again = await live.http.post("/api/v1/requests", json=inquiry(), headers=key)
        assert again.status_code == 504

        async def listed():
            rows = (await live.http.get("/api/v1/requests")).json()  # read from the journal: no deadline
            return rows if rows else None
        rows = await eventually(listed, timeout=30, interval=0.1)
        await asyncio.sleep(0.5)  # had the repeat made a second one, it would be there by now
        assert len((await live.http.get("/api/v1/requests")).json()) == len(rows) == 1
    finally:
        await live.aclose()
