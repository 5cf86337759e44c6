"""Outbound campaigns: many requests from one template, launched in batches, resumable.

A campaign has an id, a request template, rows (each with a key: from a CSV/JSONL file uploaded
in chunks, or from a selection over the BSS), an optional rate limit, and a status
(``ready -> running <-> paused -> completed | cancelled``). While a launcher is still uploading
(``more=true`` on its uploads), a running campaign that has sent every row so far waits for the rest
instead of completing. The ``campaigns`` Ray actor runs the
running ones: it routes rows to the request hosts itself (a ``Dispatcher``) in batches of
``CHUNK``, two batches on their way at once, each create with the
Idempotency-Key ``campaign:<id>:<row key>``, and records each row's request id. Rows, cursor and
counts live in ``campaigns.db`` beside the journal, so a relaunch (after a crash, a Ctrl-C, or on
purpose) sends again only what is not recorded, and the idempotency keys make a row that was in
flight come back as the request it already created: exactly one request per row.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import time
import uuid
from collections import deque
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import ray
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from actors import names
from actors.errors import Conflict, Invalid, NotFound, Overloaded
from actors.journal import select_in
from actors.models import Channel, Direction, Id, LongText, Scalar
from bss import open_bss

from .models import CharName, RequestCreate
from .router import Dispatcher
from .table import RoutingTable

log = logging.getLogger(__name__)

CHUNK = 1000  # rows per batch
NAME = "campaigns"
RowKey = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$")]


class CampaignStatus(StrEnum):
    ready = "ready"  # rows may still come; nothing sent yet
    running = "running"
    paused = "paused"
    completed = "completed"
    cancelled = "cancelled"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Template(Strict):
    """What every request of the campaign has; a row adds its party and characteristics."""

    requestType: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    direction: Direction = Direction.outbound
    channel: Channel = Channel.campaign
    description: LongText | None = None
    characteristics: dict[CharName, Scalar] = Field(default_factory=dict, max_length=50)
    priority: int = Field(3, ge=1, le=5)


class Row(Strict):
    key: RowKey = Field(description="Unique in the campaign: relaunching never creates a second request for it.")
    partyId: Id
    characteristics: dict[CharName, Scalar] = Field(default_factory=dict, max_length=50)


ROWS = TypeAdapter(list[Row])  # an upload, validated and dumped at once (not row by row)


class Selection(Strict):
    """Rows taken from the BSS: every account overdue at least ``minDaysOverdue`` days (row key and
    characteristic ``billingAccountId`` = the account, party = its customer)."""

    kind: str = Field("overdueAccounts", pattern="^overdueAccounts$")
    minDaysOverdue: int = Field(30, ge=0, le=3650)
    limit: int | None = Field(None, ge=1, le=1_000_000)


class CampaignCreate(Strict):
    id: Id | None = Field(None, description="Given by the launcher to make a relaunch find the same "
                          "campaign (the CLI derives it from the file); new otherwise.")
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    template: Template
    rows: list[Row] = Field(default_factory=list, max_length=1000, description="First rows (more with "
                            "POST /campaigns/{id}/rows).")
    selection: Selection | None = None
    ratePerSecond: float | None = Field(None, gt=0, le=100_000, description="At most this many creates a second.")
    start: bool = Field(False, description="Start at once (a selection is complete when created).")


SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, template TEXT NOT NULL, rate REAL, status TEXT NOT NULL,
    total INTEGER NOT NULL DEFAULT 0, cursor INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL DEFAULT 0,
    existing INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, started_at REAL, finished_at REAL, updated_at REAL NOT NULL,
    awaiting_rows INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS campaign_rows (
    campaign_id TEXT NOT NULL, seq INTEGER NOT NULL, row_key TEXT NOT NULL, party_id TEXT NOT NULL,
    data TEXT NOT NULL, request_id TEXT, error TEXT,
    PRIMARY KEY (campaign_id, row_key)
);
CREATE UNIQUE INDEX IF NOT EXISTS campaign_rows_seq ON campaign_rows(campaign_id, seq);
"""


class CampaignStore:
    """``campaigns.db``: campaigns, their rows, cursors and counts (one writer: the actor)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        columns = {row[1] for row in self.conn.execute("PRAGMA table_info(campaigns)")}
        if columns and "awaiting_rows" not in columns:  # a store written before uploads said "more"
            self.conn.execute("ALTER TABLE campaigns ADD COLUMN awaiting_rows INTEGER NOT NULL DEFAULT 0")
        self.conn.executescript(SCHEMA)
        self.lock = threading.Lock()

    def get(self, cid: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT id, name, template, rate, status, total, cursor, created, existing, failed, "
                                "created_at, started_at, finished_at, awaiting_rows FROM campaigns WHERE id = ?",
                                (cid,)).fetchone()
        if row is None:
            return None
        keys = ("id", "name", "template", "ratePerSecond", "status", "rows", "cursor", "created", "existing",
                "failed", "createdAt", "startedAt", "finishedAt", "awaitingRows")
        out = dict(zip(keys, row, strict=True))
        out["template"] = json.loads(out["template"])
        out["awaitingRows"] = bool(out["awaitingRows"])
        return out

    def ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM campaigns ORDER BY created_at DESC")]

    def create(self, cid: str, c: CampaignCreate) -> bool:
        with self.lock:
            now = time.time()
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO campaigns (id, name, template, rate, status, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (cid, c.name, c.template.model_dump_json(), c.ratePerSecond, CampaignStatus.ready, now, now))
            return cur.rowcount == 1

    def add_rows(self, cid: str, rows: list[Row], more: bool = False) -> int:
        """Rows not seen before (by key) are appended; how many were new. ``more``: the launcher has
        more rows to upload (the campaign waits for them rather than completing)."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                total = self.conn.execute("SELECT total FROM campaigns WHERE id = ?", (cid,)).fetchone()[0]
                fresh: dict[str, Row] = {}
                for r in rows:  # the first of a key in this upload
                    fresh.setdefault(r.key, r)
                for (key,) in select_in(self.conn, "SELECT row_key FROM campaign_rows WHERE campaign_id = ? "
                                        "AND row_key IN ({})", list(fresh), cid):  # and not known from before
                    del fresh[key]
                self.conn.executemany(
                    "INSERT INTO campaign_rows (campaign_id, seq, row_key, party_id, data) VALUES (?, ?, ?, ?, ?)",
                    [(cid, total + n + 1, r.key, r.partyId, json.dumps(r.characteristics))
                     for n, r in enumerate(fresh.values())])  # seq stays dense: the cursor counts rows
                added = len(fresh)
                self.conn.execute("UPDATE campaigns SET total = total + ?, awaiting_rows = ?, updated_at = ? "
                                  "WHERE id = ?", (added, int(more), time.time(), cid))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            return added

    def set_status(self, cid: str, status: CampaignStatus) -> None:
        with self.lock:
            now = time.time()
            started = now if status == CampaignStatus.running else None
            finished = now if status in (CampaignStatus.completed, CampaignStatus.cancelled) else None
            self.conn.execute("UPDATE campaigns SET status = ?, updated_at = ?, started_at = coalesce(started_at, ?), "
                              "finished_at = coalesce(?, finished_at) WHERE id = ?",
                              (status, now, started, finished, cid))

    def next_rows(self, cid: str, after: int, n: int) -> list[tuple[int, str, str, dict[str, Any]]]:
        rows = self.conn.execute("SELECT seq, row_key, party_id, data FROM campaign_rows WHERE campaign_id = ? "
                                 "AND seq > ? ORDER BY seq LIMIT ?", (cid, after, n)).fetchall()
        return [(seq, key, party, json.loads(data)) for seq, key, party, data in rows]

    def record(self, cid: str, results: list[tuple[str, str | None, str | None]], cursor: int,
               created: int, existing: int, failed: int) -> None:
        """The rows' outcomes ``(row key, request id, error)`` and the new cursor, in one transaction."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.executemany("UPDATE campaign_rows SET request_id = ?, error = ? WHERE campaign_id = ? "
                                      "AND row_key = ?", [(rid, err, cid, key) for key, rid, err in results])
                self.conn.execute("UPDATE campaigns SET cursor = ?, created = created + ?, existing = existing + ?, "
                                  "failed = failed + ?, updated_at = ? WHERE id = ?",
                                  (cursor, created, existing, failed, time.time(), cid))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def errors(self, cid: str, limit: int = 20) -> list[dict[str, str]]:
        rows = self.conn.execute("SELECT row_key, error FROM campaign_rows WHERE campaign_id = ? AND error IS NOT NULL "
                                 "ORDER BY seq LIMIT ?", (cid, limit)).fetchall()
        return [{"key": k, "error": e} for k, e in rows]


def body_of(template: dict[str, Any], party: str, characteristics: dict[str, Any]) -> RequestCreate:
    return RequestCreate(requestType=template["requestType"], direction=template["direction"],
                         channel=template["channel"], description=template.get("description"),
                         priority=template.get("priority", 3),
                         relatedParty=[{"id": party, "role": "customer"}],
                         characteristics={**template.get("characteristics", {}), **characteristics})


@ray.remote(max_restarts=-1, max_task_retries=0)
class Campaigns:
    """The named actor ``campaigns``: creates, runs, pauses, resumes and cancels campaigns."""

    def __init__(self, store_path: str, bss_path: str, namespace: str, table: RoutingTable, hosts: int):
        self.store = CampaignStore(Path(store_path))
        self.bss_path = bss_path
        self.dispatcher = Dispatcher(table, [names.lookup(names.host_name(i), namespace) for i in range(hosts)])
        self.tasks: dict[str, asyncio.Task] = {}
        self.news: dict[str, asyncio.Event] = {}  # set when a campaign gets rows or changes status
        for cid in self.store.ids():  # after a restart, running campaigns go on where they were
            c = self.store.get(cid)
            if c is not None and c["status"] == CampaignStatus.running:
                self._run(cid)

    async def create(self, body_json: str) -> dict[str, Any]:
        c = CampaignCreate.model_validate_json(body_json)
        cid = c.id or uuid.uuid4().hex
        if not self.store.create(cid, c):
            existing = self.store.get(cid)
            if existing["template"] != json.loads(c.template.model_dump_json()):
                raise Conflict(f"campaign {cid} exists with another template", "id")
        if c.rows:
            self.store.add_rows(cid, c.rows)
        if c.selection is not None:
            self._select(cid, c.selection)
        if c.start:
            await self.start(cid)
        return self.store.get(cid)

    def _select(self, cid: str, sel: Selection) -> None:
        bss = open_bss(Path(self.bss_path))
        accounts = bss.overdue_accounts(sel.minDaysOverdue, sel.limit)
        rows = [Row(key=a["id"], partyId=a["customer_id"], characteristics={"billingAccountId": a["id"]})
                for a in accounts]
        for i in range(0, len(rows), 5000):
            self.store.add_rows(cid, rows[i:i + 5000])

    async def add_rows(self, cid: str, rows_json: str, more: bool = False) -> dict[str, Any]:
        c = self._get(cid)
        if c["status"] == CampaignStatus.cancelled:
            raise Conflict(f"campaign {cid} is cancelled: it takes no more rows", "status")
        rows = ROWS.validate_json(rows_json)  # a completed one: a relaunch
        added = self.store.add_rows(cid, rows, more)
        self._tell(cid)
        if c["status"] == CampaignStatus.running:
            self._run(cid)
        return {**self.store.get(cid), "added": added}

    async def start(self, cid: str) -> dict[str, Any]:
        c = self._get(cid)
        if c["status"] == CampaignStatus.cancelled:
            raise Conflict(f"campaign {cid} is cancelled", "status")
        if c["status"] == CampaignStatus.completed and c["cursor"] >= c["rows"]:
            return c
        self.store.set_status(cid, CampaignStatus.running)
        self._run(cid)
        return self.store.get(cid)

    async def pause(self, cid: str) -> dict[str, Any]:
        c = self._get(cid)
        if c["status"] != CampaignStatus.running:
            raise Conflict(f"only a running campaign can be paused; {cid} is {c['status']}", "status")
        self.store.set_status(cid, CampaignStatus.paused)  # the runner stops after its current batch
        self._tell(cid)
        return self.store.get(cid)

    async def resume(self, cid: str) -> dict[str, Any]:
        c = self._get(cid)
        if c["status"] != CampaignStatus.paused:
            raise Conflict(f"only a paused campaign can be resumed; {cid} is {c['status']}", "status")
        return await self.start(cid)

    async def cancel(self, cid: str) -> dict[str, Any]:
        c = self._get(cid)
        if c["status"] in (CampaignStatus.completed, CampaignStatus.cancelled):
            raise Conflict(f"campaign {cid} is {c['status']} already", "status")
        self.store.set_status(cid, CampaignStatus.cancelled)  # rows not sent yet never will be
        self._tell(cid)
        return self.store.get(cid)

    async def get(self, cid: str) -> dict[str, Any]:
        return {**self._get(cid), "errors": self.store.errors(cid)}

    async def list(self) -> list[dict[str, Any]]:
        return [self.store.get(cid) for cid in self.store.ids()]

    async def ping(self) -> str:
        return NAME

    def _get(self, cid: str) -> dict[str, Any]:
        c = self.store.get(cid)
        if c is None:
            raise NotFound(f"no campaign with id {cid}", "id")
        return c

    def _tell(self, cid: str) -> None:
        """Wake the campaign's runner if it waits for rows."""
        if (news := self.news.get(cid)) is not None:
            news.set()

    async def _wait_for_news(self, cid: str, timeout: float = 5.0) -> None:
        news = self.news.setdefault(cid, asyncio.Event())
        try:
            await asyncio.wait_for(news.wait(), timeout)
        except TimeoutError:
            pass
        news.clear()

    def _run(self, cid: str) -> None:
        task = self.tasks.get(cid)
        if task is None or task.done():
            self.tasks[cid] = asyncio.get_running_loop().create_task(self._runner(cid), name=f"campaign-{cid}")

    async def _runner(self, cid: str) -> None:
        try:
            await self._send_all(cid)
        except Exception:
            log.exception("campaign %s stopped", cid)

    async def _send_all(self, cid: str) -> None:
        """Send the rows after the cursor, a batch at a time, with the next batch already on its way
        while one is answered (one at a time under a rate limit). Outcomes are recorded in row
        order; when the runtime answers ``Overloaded``, the batches from there on go again after a
        pause (idempotent: a row created meanwhile answers as existing)."""
        started, sent = time.monotonic(), 0
        inflight: deque[tuple[list, asyncio.Task]] = deque()
        try:
            while True:
                c = self.store.get(cid)
                if c is None or c["status"] != CampaignStatus.running:
                    return  # paused or cancelled: what is in flight is recorded below
                rate = c["ratePerSecond"]
                size = CHUNK if not rate else max(1, min(CHUNK, int(rate)))  # at most a second's worth a batch
                after = inflight[-1][0][-1][0] if inflight else c["cursor"]
                batch = self.store.next_rows(cid, after, size)
                if batch:
                    inflight.append((batch, asyncio.get_running_loop().create_task(self._send(c, batch))))
                    if len(inflight) < (1 if rate else 2):
                        continue
                elif not inflight:
                    if c["awaitingRows"]:  # the launcher is still uploading: wait for its rows
                        await self._wait_for_news(cid)
                        continue
                    self.store.set_status(cid, CampaignStatus.completed)
                    return
                first, task = inflight.popleft()
                if not self._record(cid, first, await task):
                    for _, later in inflight:  # the runtime is behind: these go again too
                        await asyncio.gather(later, return_exceptions=True)
                    inflight.clear()
                    await asyncio.sleep(1.0)
                    continue
                sent += len(first)
                if rate:
                    ahead = sent / rate - (time.monotonic() - started)
                    if ahead > 0:
                        await asyncio.sleep(ahead)
        finally:
            while inflight:  # stopped (paused, cancelled, failed): keep what was created
                first, task = inflight.popleft()
                try:
                    answers = await task
                except Exception:
                    break
                if not self._record(cid, first, answers):
                    break

    async def _send(self, c: dict[str, Any], batch: list) -> list[Any]:
        cid, template, actor = c["id"], c["template"], f"campaign:{c['id']}"
        items, bad = [], {}
        for n, (_, key, party, chars) in enumerate(batch):
            try:
                items.append((body_of(template, party, chars), f"campaign:{cid}:{key}", actor, cid))
            except ValidationError as exc:  # rows are checked on upload: only a template change could do it
                bad[n] = Invalid(str(exc), "characteristics")
        answers = iter(await self.dispatcher.create_many(items))
        return [bad[n] if n in bad else next(answers) for n in range(len(batch))]

    def _record(self, cid: str, batch: list, answers: list[Any]) -> bool:
        """Record a batch's outcomes and move the cursor past it; False (nothing recorded) when the
        runtime refused it as overloaded."""
        if any(isinstance(a, Overloaded) for a in answers):
            return False
        results, created, existing, failed = [], 0, 0, 0
        for (_, key, _, _), a in zip(batch, answers, strict=True):
            if isinstance(a, Exception):
                results.append((key, None, f"{getattr(a, 'code', type(a).__name__)}: {a}"[:500]))
                failed += 1
            else:
                was_new, rid, _ = a
                results.append((key, rid, None))
                created += was_new
                existing += not was_new
        self.store.record(cid, results, batch[-1][0], created, existing, failed)
        return True
