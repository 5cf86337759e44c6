"""One Ray instance for the whole session; runtimes in their own namespaces and data directories."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import ray

from gateway.app import create_app
from gateway.keystore import KeyStore, Role
from routing.client import RuntimeClient
from routing.config import Settings
from routing.runtime import Runtime
from routing.table import RoutingTable

DEMO_CUSTOMERS = 200


def pytest_collection_modifyitems(items):
    """Tests that start their own Ray (a real `switchboard serve`) run first, before the session's
    Ray instance exists, so that two Ray instances never share this machine."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("own_ray") else 1)


@pytest.fixture(scope="session")
def ray_session():
    ray.init(num_cpus=2, include_dashboard=False, namespace="tests", log_to_driver=False)
    yield
    ray.shutdown()


# The key each role gets in a Live runtime, and its binding.
ROLE_KEYS: dict[Role, dict[str, str]] = {
    Role.customer: {"party_id": "CUST-0001"},
    Role.channel: {"channel": "web"},
    Role.csr: {"csr_id": "CSR-001"},
    Role.operator: {},
    Role.admin: {},
}


class Live:
    """A started runtime with a gateway app and HTTP clients talking to it in-process: ``http``
    carries an admin key (admins may do everything, acting for a CSR or a party named in the body,
    which is how most tests act); ``client(role)`` one of another role (``ROLE_KEYS``)."""

    def __init__(self, settings: Settings, table: RoutingTable | None = None):
        self.settings = settings
        self.runtime = Runtime(settings, table).start()
        self.client_rt = RuntimeClient(settings, self.runtime.table)
        self.app = create_app(self.client_rt)
        self.keys = KeyStore(settings.keys_path)
        self.tokens = {role: self.keys.create(role, name=f"tests {role}", **binding)[1]
                       for role, binding in ROLE_KEYS.items()}
        self._clients: list[httpx.AsyncClient] = []
        self.http = self.client(Role.admin)

    def client(self, role: Role | None = None, token: str | None = None) -> httpx.AsyncClient:
        """An in-process client with the key of ``role`` (or ``token``; neither: no Authorization)."""
        token = token or (self.tokens[role] if role else None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://switchboard",
                              headers=headers)
        self._clients.append(c)
        return c

    async def aclose(self) -> None:
        for c in self._clients:
            await c.aclose()
        self.runtime.stop()


def make_settings(data_dir: Path, **kw) -> Settings:
    """Test settings: loopback webhook receivers allowed, rate limits out of the way (test_limits
    sets its own)."""
    defaults = {"webhook_allow_private": True, "rate_limit_per_second": 10_000.0, "rate_limit_burst": 10_000,
                "channel_rate_limit_per_second": 10_000.0, "channel_rate_limit_burst": 10_000}
    return Settings(data_dir=data_dir, namespace=f"t-{uuid.uuid4().hex[:8]}", hosts=2,
                    demo_customers=DEMO_CUSTOMERS, dashboard=False, **{**defaults, **kw})


@pytest.fixture(scope="session")
def settings_factory(tmp_path_factory):
    def make(**kw) -> Settings:
        return make_settings(tmp_path_factory.mktemp("data"), **kw)
    return make


@pytest_asyncio.fixture(scope="session")
async def live(ray_session, settings_factory):
    rt = Live(settings_factory())
    yield rt
    await rt.aclose()


@pytest.fixture
def http(live) -> httpx.AsyncClient:
    return live.http


def inquiry(account: str = "BA-0001", party: str = "CUST-0001", **extra) -> dict:
    body = {
        "requestType": "billingInquiry",
        "direction": "inbound",
        "channel": "web",
        "relatedParty": [{"id": party, "role": "customer"}],
        "characteristics": {"billingAccountId": account},
    }
    body.update(extra)
    return body


async def eventually(probe: Callable[[], Awaitable[object]], timeout: float = 30.0, interval: float = 0.05):
    """Poll ``probe`` until it returns a truthy value (returned) or the deadline passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = await probe()
        except (httpx.HTTPError, ray.exceptions.RayError) as exc:
            last = exc
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


async def wait_status(http: httpx.AsyncClient, rid: str, status: str, timeout: float = 30.0) -> dict:
    seen: list = [None]

    async def probe():
        r = await http.get(f"/api/v1/requests/{rid}")
        seen[0] = r.json()
        return r.json() if r.status_code == 200 and r.json()["status"] == status else None
    try:
        return await eventually(probe, timeout)
    except AssertionError:
        raise AssertionError(f"request {rid} never became {status}; last seen: {seen[0]}") from None
