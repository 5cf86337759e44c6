"""Dedicated placement (its own Ray actor) and activity retries when a process actor is gone."""

from __future__ import annotations

import pytest
import ray

from actors.names import dedicated_name, process_name
from actors.policy import RetryPolicy
from routing.table import RoutingTable
from tests.conftest import Live, eventually, inquiry, make_settings, wait_status


pytestmark = pytest.mark.usefixtures("ray_session")


def table_with(**changes) -> RoutingTable:
    raw = RoutingTable.load().model_dump(mode="json")
    raw["requestTypes"]["billingInquiry"].update(changes)
    return RoutingTable.model_validate(raw)


async def test_dedicated_request_runs_in_its_own_named_actor(tmp_path):
    live = Live(make_settings(tmp_path), table_with(placement="dedicated", confirmationMinutes=3 / 60))
    try:
        ns = live.settings.namespace
        r = await live.http.post("/api/v1/requests", json=inquiry())
        assert r.status_code == 201
        rid = r.json()["id"]
        assert r.json()["placement"] == "dedicated"
        done = await wait_status(live.http, rid, "resolved")
        assert done["result"]["balance"]["value"] == 42.5
        assert ray.get_actor(dedicated_name(rid), namespace=ns) is not None

        def gone(request_id):
            try:
                ray.get_actor(dedicated_name(request_id), namespace=ns)
                return False
            except ValueError:
                return True

        async def closed_and_gone():  # its confirmation window (3 s) ends: closed, and the actor stopped
            return (await live.http.get(f"/api/v1/requests/{rid}")).json()["status"] == "closed" and gone(rid)
        await eventually(closed_and_gone)

        held = (await live.http.post("/api/v1/requests", json=inquiry(account="BA-9999"))).json()["id"]
        await wait_status(live.http, held, "held")
        r = await live.http.post(f"/api/v1/requests/{held}/cancel")
        assert r.json()["status"] == "cancelled"

        async def actor_gone():
            return gone(held)
        await eventually(actor_gone)  # its memory is freed ...
        r = await live.http.get(f"/api/v1/requests/{held}")  # ... and the journal still answers
        assert r.json()["status"] == "cancelled"
    finally:
        await live.aclose()


async def test_failed_activity_is_retried_then_held(tmp_path):
    retry = {"maxAttempts": 3, "initialBackoffSeconds": 0.01, "backoffMultiplier": 1, "maxBackoffSeconds": 1}
    table = table_with(retry={**retry, "maxAttempts": 9})
    table.processes["billing"].retry = RetryPolicy(**retry)  # the process kind's limit wins over the type's
    live = Live(make_settings(tmp_path), table)
    try:
        ray.kill(ray.get_actor(process_name("billing", 0), namespace=live.settings.namespace), no_restart=True)
        rid = (await live.http.post("/api/v1/requests", json=inquiry())).json()["id"]
        held = await wait_status(live.http, rid, "held")
        [activity] = held["activities"]
        assert (activity["status"], activity["attempts"]) == ("failed", 3)
        assert "failed 3 times" in held["statusReason"]
        events = [e for r in live.client_rt.readers for e in r.events(rid) if e["type"] == "activityChanged"]
        assert [e["data"]["status"] for e in events] == ["running", "pending", "running", "pending", "running",
                                                         "failed"]  # the journal shows each retry
    finally:
        await live.aclose()
