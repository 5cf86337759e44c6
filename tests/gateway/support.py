"""Serving an ASGI app on a real loopback port (SSE needs a real server: httpx's ASGITransport
collects the whole body before answering), reading server-sent events, and a webhook receiver."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import eventually


@asynccontextmanager
async def served(app) -> AsyncIterator[str]:
    """``app`` under uvicorn on a free loopback port, in this event loop; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                           timeout_graceful_shutdown=1))
    task = asyncio.create_task(server.serve(sockets=[sock]))

    async def started():
        return server.started
    await eventually(started, timeout=10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass
class Sse:
    id: str | None
    event: str | None
    data: dict | None


async def messages(response: httpx.Response) -> AsyncIterator[Sse]:
    """The messages of an event stream (comments skipped; a message without data is yielded too,
    it may carry an ``id``)."""
    fields: dict[str, list[str]] = {}
    async for line in response.aiter_lines():
        if line == "":
            if fields:
                data = "\n".join(fields["data"]) if "data" in fields else None
                yield Sse(fields.get("id", [None])[-1], fields.get("event", [None])[-1],
                          json.loads(data) if data is not None else None)
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value[1:] if value.startswith(" ") else value)


async def take(stream: AsyncIterator[Sse], n: int, timeout: float = 30.0) -> list[Sse]:
    """The next ``n`` events (messages with data) of the stream; fails after ``timeout``."""
    out: list[Sse] = []

    async def read():
        async for m in stream:
            if m.data is not None:
                out.append(m)
                if len(out) == n:
                    return
    try:
        await asyncio.wait_for(read(), timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"only {len(out)} of {n} events within {timeout}s: {out}") from None
    return out


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver: records every POST, answers ``status``; while ``hold`` is set to an
    unset event, it keeps each POST waiting."""

    got: list[Received] = field(default_factory=list)
    status: int = 200
    hold: asyncio.Event | None = None

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.got.append(Received({k.lower(): v for k, v in request.headers.items()}, await request.body()))
            if self.hold is not None:
                await self.hold.wait()
            return Response(status_code=self.status)
        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])

    def ids(self) -> list[str]:
        return [r.headers["x-switchboard-delivery"] for r in self.got]
