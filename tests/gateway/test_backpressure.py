"""Overload: the gateway and the hosts answer 503 with Retry-After instead of queueing without
bound, and nothing acknowledged is lost (every 201 is in the journal; no 503 created anything)."""

from __future__ import annotations

import asyncio

from tests.conftest import Live, inquiry


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
