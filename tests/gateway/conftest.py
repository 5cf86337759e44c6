"""Fixtures of the gateway tests."""

from __future__ import annotations

import pytest_asyncio

from tests.gateway.support import Receiver, served


@pytest_asyncio.fixture
async def receiver():
    """A webhook receiver served on loopback by the test (``receiver.url``)."""
    r = Receiver()
    async with served(r.app()) as url:
        r.url = f"{url}/hook"
        yield r
