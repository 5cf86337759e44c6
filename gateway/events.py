"""Live events as server-sent events: one request's, or every request's of a party (or all).

Both streams tail the journal shards (a read every ``events_poll_seconds``, in a thread), so a
stream costs the request actors nothing. Each SSE message is::

    id: <cursor>
    event: <eventType>
    data: {"eventId": "<shard>:<seq>", "eventType", "eventTime", "requestId", "requestType",
           "relatedPartyId", "data"}

The cursor of a request's stream is the event's ``seq`` (a request lives in one shard). The cursor
of ``/events`` is the position in every shard after this event, ``<shard>:<seq>`` joined by ``.``
(``0:123.1:456``). A client that reconnects with ``Last-Event-ID: <cursor>`` gets exactly the events
after it (EventSource does this by itself).
"""

from __future__ import annotations

import asyncio
import heapq
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import StreamingResponse

from actors.errors import Invalid, NotFound
from actors.events import EventFilter, EventRow, EventType, event_json
from actors.models import FINAL_STATUSES, Id
from routing.client import RuntimeClient

from .auth import AllEventsReader, Reader, Role, scoped, visible
from .metrics import Metrics
from .routes import AppMetrics, RequestId, Runtime

BATCH = 200
SSE = "text/event-stream"
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
LastEventId = Annotated[str | None, Header(alias="Last-Event-ID", max_length=4096,
                                          description="Resume after this event id (sent by EventSource on reconnect).")]

router = APIRouter(prefix="/api/v1", tags=["events"])

STREAM_DOC = {
    200: {"description": "`text/event-stream`: one message per event (`id`, `event`, `data`).",
          "content": {SSE: {"schema": {"type": "string"}}}},
    422: {"description": "`Last-Event-ID` is not a cursor of this stream (problem details)."},
}


def message(event_id: str, row: EventRow, shard: int) -> str:
    data = event_json(shard, row).replace("\n", "\ndata: ")  # JSON text has no raw newline; if it ever did
    return f"id: {event_id}\nevent: {row.type}\ndata: {data}\n\n"


def is_final(row: EventRow) -> bool:
    return row.type == EventType.status_changed and json.loads(row.data).get("to") in FINAL_STATUSES


class Stream:
    """Timing of one stream: the poll interval, and a heartbeat comment when nothing was sent."""

    def __init__(self, rt: RuntimeClient):
        s = rt.settings
        self.poll, self.heartbeat, self.retry = s.events_poll_seconds, s.events_heartbeat_seconds, s.events_retry_ms
        self.last_sent = time.monotonic()

    def sent(self) -> None:
        self.last_sent = time.monotonic()

    def keep_alive(self) -> str | None:
        if time.monotonic() - self.last_sent < self.heartbeat:
            return None
        self.sent()
        return ": keep-alive\n\n"


def streaming(body: AsyncIterator[str], m: Metrics) -> StreamingResponse:
    """The SSE response, counted in ``switchboard_event_streams`` while it is open."""
    async def counted() -> AsyncIterator[str]:
        m.streams.inc()
        try:
            async for chunk in body:
                yield chunk
        finally:  # the client went away (the task is cancelled) or the stream ended
            m.streams.dec()
            await body.aclose()
    return StreamingResponse(counted(), media_type=SSE, headers=STREAM_HEADERS)


@router.get("/requests/{request_id}/events", summary="Live events of a request (SSE)",
            response_class=StreamingResponse,
            responses={**STREAM_DOC, 204: {"description": "The request is final and nothing follows `Last-Event-ID`."},
                       404: {"description": "No request with this id (problem details)."}})
async def request_events(request_id: RequestId, rt: Runtime, m: AppMetrics, who: Reader,
                         last_event_id: LastEventId = None) -> Response:
    """Every public event of the request from its creation (or after `Last-Event-ID`, a `seq`), then
    live ones as they are journaled. The stream ends once the request is final (rejected, cancelled,
    closed) and every event is sent; a reconnect after that answers 204, which stops EventSource.
    Customer and channel keys stream only the requests they can read (404 otherwise)."""
    after = _seq(last_event_id)
    status = await rt.request_status(request_id)
    missing = NotFound(f"No request {request_id!r}", "request_id")
    if status is None:
        raise missing
    if scoped(who):
        try:
            visible(who, request_id, await rt.status(request_id))
        except NotFound:
            raise missing from None
    shard, f = rt.shard(request_id), EventFilter(request_id=request_id)
    first = await rt.events(shard, after, f, BATCH)
    final = status in FINAL_STATUSES
    if final and not first:
        return Response(status_code=204)

    async def body() -> AsyncIterator[str]:
        nonlocal after, final
        stream, rows = Stream(rt), first
        yield f"retry: {stream.retry}\n\n"
        while True:
            for row in rows:
                final = final or is_final(row)
                after = row.seq
                yield message(str(row.seq), row, shard)
            if rows:
                stream.sent()
            if len(rows) < BATCH:
                if final:  # everything of the final commit was in this read: nothing can follow
                    return
                if beat := stream.keep_alive():
                    yield beat
                await asyncio.sleep(stream.poll)
            rows = await rt.events(shard, after, f, BATCH)

    return streaming(body(), m)


@router.get("/events", summary="Live events of a party's requests, or of all (SSE)", response_class=StreamingResponse,
            responses=STREAM_DOC)
async def events(
    rt: Runtime,
    m: AppMetrics,
    who: AllEventsReader,
    party_id: Annotated[Id | None, Query(alias="relatedParty.id", description="Only this party's requests.")] = None,
    event_type: Annotated[list[EventType] | None, Query(alias="eventType", description="Only these types.")] = None,
    request_type: Annotated[list[Id] | None,
                            Query(alias="requestType", description="Only these request types.")] = None,
    last_event_id: LastEventId = None,
) -> Response:
    """Events journaled from now on (or after `Last-Event-ID`, a cursor `0:123.1:456`), across every
    shard. Each event's `id` is the cursor after it; the first message carries the starting cursor,
    so a reconnect misses nothing even before the first event. A customer key gets its own
    party's events (`relatedParty.id` is forced to it); channel keys use the request streams."""
    if who.kind is Role.customer:
        party_id = who.party_id
    cursor = _cursor(last_event_id, len(rt.readers)) if last_event_id else await rt.heads()
    f = EventFilter(party_id=party_id, event_types=tuple(event_type or ()), request_types=tuple(request_type or ()))

    async def body() -> AsyncIterator[str]:
        stream = Stream(rt)
        yield f"retry: {stream.retry}\nid: {_format(cursor)}\n\n"
        while True:
            per_shard = await rt.events_all(cursor, f, BATCH)
            merged = heapq.merge(*([(row.at, shard, row) for row in rows] for shard, rows in enumerate(per_shard)),
                                 key=lambda item: item[:2])
            for _, shard, row in merged:
                cursor[shard] = row.seq
                yield message(_format(cursor), row, shard)
            if any(per_shard):
                stream.sent()
            if all(len(rows) < BATCH for rows in per_shard):
                if beat := stream.keep_alive():
                    yield beat
                await asyncio.sleep(stream.poll)

    return streaming(body(), m)


def _seq(last_event_id: str | None) -> int:
    if last_event_id is None:
        return 0
    if not last_event_id.isdigit():
        raise Invalid(f"Last-Event-ID {last_event_id!r} is not an event id of this stream (a seq)", "Last-Event-ID")
    return int(last_event_id)


def _cursor(last_event_id: str, shards: int) -> list[int]:
    """``0:123.1:456`` -> ``[123, 456]``; a shard it does not name starts at its beginning."""
    cursor = [0] * shards
    try:
        for part in last_event_id.split("."):
            shard, seq = (int(x) for x in part.split(":"))
            if not 0 <= shard < shards or seq < 0:
                raise ValueError(part)
            cursor[shard] = seq
    except ValueError:
        raise Invalid(f"Last-Event-ID {last_event_id!r} is not a cursor of this stream "
                      f"(<shard>:<seq> joined by '.', shards 0..{shards - 1})", "Last-Event-ID") from None
    return cursor


def _format(cursor: list[int]) -> str:
    return ".".join(f"{shard}:{seq}" for shard, seq in enumerate(cursor))
