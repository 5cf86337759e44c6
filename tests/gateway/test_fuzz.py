"""Schema-driven fuzzing (schemathesis) of the gateway's own OpenAPI: generated valid and invalid
calls to every operation, with an admin key (every route reachable) and a customer key (the
narrowest), never answer 5xx and never answer a body that breaks the schema the API publishes.

The app runs under uvicorn in a thread of its own (real HTTP, its own event loop). Left out: the
live event streams (they never end by themselves) and `POST /api/v1/hub`, whose generated callbacks
would have the webhooks actor POST events to arbitrary hosts (test_hub.py and test_limits.py test
it with their own receivers). Examples per operation are bounded so that the
run takes about a minute here."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
import schemathesis
from schemathesis import GenerationMode
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from gateway.app import create_app
from gateway.keystore import Role
from routing.client import RuntimeClient

EXAMPLES = 15  # per operation: about a minute here
STREAMS = ("/api/v1/requests/{request_id}/events", "/api/v1/events")


@pytest.fixture(scope="module")
def fuzz_base(live):
    """The live runtime behind a fresh gateway app, served on loopback by a thread."""
    app = create_app(RuntimeClient(live.settings))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.mark.fuzz
@pytest.mark.timeout(600)
def test_no_5xx_and_every_answer_fits_the_schema(live, fuzz_base):
    schema = schemathesis.openapi.from_url(f"{fuzz_base}/openapi.json")
    operations = [op.ok() for op in schema.get_all_operations()
                  if op.ok().path not in STREAMS and (op.ok().method.upper(), op.ok().path) != ("POST", "/api/v1/hub")]
    assert len(operations) > 30
    tokens = [live.tokens[Role.admin], live.tokens[Role.customer]]
    answered: dict[int, int] = {}
    for operation in operations:
        cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE))

        @given(case=cases, token=st.sampled_from(tokens))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case, token):
            r = case.call_and_validate(base_url=fuzz_base, headers={"Authorization": f"Bearer {token}"},
                                       checks=[not_a_server_error, response_schema_conformance], timeout=30)
            answered[r.status_code] = answered.get(r.status_code, 0) + 1
        fuzz()
    # valid and invalid input both reached the routes: successes, refusals and validation errors
    assert answered.get(200, 0) + answered.get(201, 0) > 20 and answered.get(422, 0) > 50, answered
    assert not any(status >= 500 for status in answered), answered
