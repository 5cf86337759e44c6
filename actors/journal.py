"""The journal: append-only events per request plus one current-state row per request.

``Journal`` is the interface the actors use; ``SQLiteJournal`` is the embedded default (one file per
host shard, WAL mode, ``synchronous=FULL``). Writes go through one writer thread that commits every
write waiting at that moment in one transaction (group commit), so an async actor never blocks on
disk and a burst of creates costs one fsync, not one each. ``commit`` returns only once the rows
are durable: that is what lets the gateway answer 201.

The write-ahead log is copied into the database file (a checkpoint) by a thread of its own, every
``checkpoint_seconds``, not by the commit that happens to cross SQLite's threshold: that commit, and
every create waiting on it, otherwise waited for the copy and its fsync (at 64 clients: p99 101 to
105 ms with checkpoints in the commits, 85 to 91 ms without).
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from .events import PUBLIC_EVENT_TYPES, EventFilter, EventRow
from .models import FINAL_STATUSES, RequestState

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_GROUP = 512
CHECKPOINT_SECONDS = 0.5  # how often the checkpointer copies the write-ahead log into the database
WAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes the log file is cut back to once it has been copied


def ts(dt: datetime) -> str:
    """A fixed-width UTC timestamp, so that text order is time order (isoformat is ~5x faster than
    strftime, and this runs for every journal row)."""
    text = dt.isoformat(timespec="microseconds")
    if text.endswith("+00:00"):  # already UTC, as every datetime of a request is: no conversion
        return text[:26] + "Z"
    return dt.astimezone(timezone.utc).isoformat(timespec="microseconds")[:26] + "Z"


@dataclass
class Write:
    """One request's new current state and the events that led to it, committed together.

    ``state_json`` is the state serialised once by the caller (the same bytes answer status
    queries); ``events`` are ``(type, JSON text)``; ``body_hash`` is set on the create only.
    ``columns``, when given, are the request row's columns (``index_columns``) computed by whoever
    built the state: a host then journals a create without parsing the state again, and ``state``
    may be None."""

    state: RequestState | None
    state_json: str
    events: list[tuple[str, str]] = field(default_factory=list)
    body_hash: str | None = None
    columns: tuple | None = None


@dataclass
class Query:
    status: str | None = None
    requestType: str | None = None
    channel: str | None = None
    partyId: str | None = None
    offset: int = 0
    limit: int = 50
    hidden: bool | None = None  # None: hidden or not; False: only requests not deleted through TMF683
    # More conditions, ``(SQL over the requests table, bound values)``, ANDed: built by trusted code
    # (the TMF683 filters of ``gateway/tmf683/filters.py``), never from caller text; values are bound.
    where: tuple[tuple[str, tuple[Any, ...]], ...] = ()


class Journal(ABC):
    """What request actors and hosts need from durable storage."""

    @abstractmethod
    async def commit(self, writes: list[Write]) -> None:
        """Persist the writes atomically; return once they are durable."""

    @abstractmethod
    def get(self, request_id: str) -> RequestState | None: ...

    @abstractmethod
    def body_hash(self, request_id: str) -> str | None:
        """The hash of the create body (for Idempotency-Key checks); None if unknown."""

    def known(self, request_ids: list[str]) -> set[str]:
        """Which of these ids the journal has (one read for a batch of creates)."""
        return {rid for rid in request_ids if self.body_hash(rid) is not None}

    @abstractmethod
    def state_json(self, request_id: str) -> str | None:
        """The current state as stored (the JSON a status query answers); None if unknown."""

    @abstractmethod
    def events(self, request_id: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    def open_requests(self) -> list[RequestState]: ...

    @abstractmethod
    def open_ids(self) -> list[tuple[str, str, str, datetime | None]]:
        """Every open request ``(id, status, request type, earliest timer)``, without its state."""

    def backlog(self) -> int:
        """Commits waiting to be written (none for a journal that writes as it is called)."""
        return 0

    @abstractmethod
    def wakes(self, after: datetime | None, until: datetime) -> list[tuple[str, datetime]]:
        """Open requests whose earliest timer is due after ``after`` (any time when None) and at
        ``until`` at the latest: ``(id, earliest timer)``."""

    @abstractmethod
    def held(self, queues: list[str]) -> list[tuple[int, str, str, str, str | None, str | None, str]]:
        """Held requests waiting in these CSR queues (see ``SQLiteReader.held``)."""

    @abstractmethod
    def query(self, q: Query) -> tuple[list[tuple[str, str, str]], int]:
        """Rows ``(created_at, id, state_json)`` newest first, at most ``offset + limit``, and the total."""

    @abstractmethod
    def count_by_status(self, campaign_id: str | None = None) -> dict[str, int]: ...

    @abstractmethod
    def status(self, request_id: str) -> str | None:
        """The request's current status; None if unknown."""

    @abstractmethod
    def public_events(self, after: int, f: EventFilter, limit: int) -> list[EventRow]:
        """Public events (``actors.events.EventType``) with ``seq > after`` that match ``f``, in
        ``seq`` order, at most ``limit``; each joined with its request's type and party."""

    @abstractmethod
    def last_seq(self) -> int:
        """The ``seq`` of the last event of this shard (0 when empty): where a live tail starts."""

    @abstractmethod
    def close(self) -> None: ...


SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    request_type TEXT NOT NULL,
    channel TEXT NOT NULL,
    direction TEXT NOT NULL,
    party_id TEXT,
    idempotency_key TEXT,
    body_hash TEXT,
    campaign_id TEXT,
    priority INTEGER NOT NULL DEFAULT 3,
    queue TEXT,
    assignee TEXT,
    claim_expires_at TEXT,
    wake_at TEXT,
    hidden INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_created ON requests(created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS requests_status ON requests(status);
CREATE INDEX IF NOT EXISTS requests_party ON requests(party_id);
CREATE INDEX IF NOT EXISTS requests_wake ON requests(wake_at) WHERE wake_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS requests_queue ON requests(queue) WHERE queue IS NOT NULL;
CREATE INDEX IF NOT EXISTS requests_campaign ON requests(campaign_id, status) WHERE campaign_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    at TEXT NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_request ON events(request_id, seq);
"""

UPSERT = """
INSERT INTO requests (id, status, request_type, channel, direction, party_id, idempotency_key,
                      body_hash, campaign_id, priority, queue, assignee, claim_expires_at, wake_at, hidden,
                      created_at, updated_at, state)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at,
    priority = excluded.priority, queue = excluded.queue, assignee = excluded.assignee,
    claim_expires_at = excluded.claim_expires_at, wake_at = excluded.wake_at, hidden = excluded.hidden,
    state = excluded.state
"""

FINAL_SQL = ", ".join(f"'{s}'" for s in sorted(FINAL_STATUSES))


def _when_unlocked(step: Callable[[], T], path: Path, within: float = 30.0) -> T:
    """``step``, tried again while SQLite says the database is locked. Its busy timeout does not
    cover every case: two connections opening a new file at once both try to switch it to WAL
    mode, and SQLite refuses one of them at once rather than risk a deadlock (a host and the
    webhooks actor open each shard at the same moment when the service starts)."""
    deadline = time.monotonic() + within
    pause = 0.005
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            log.debug("%s: %s; trying again", path, exc)
            time.sleep(pause)
            pause = min(pause * 2, 0.25)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    _when_unlocked(lambda: conn.execute("PRAGMA journal_mode=WAL"), path)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def index_columns(s: RequestState, body_hash: str | None) -> tuple:
    """A request row's columns but the state itself, in ``UPSERT`` order: ``[0]`` the id, ``[2]``
    the request type, ``[6]`` the Idempotency-Key, ``[13]`` the earliest timer, ``[16]`` the time of
    the change."""
    return (
        s.id, s.status.value, s.requestType, s.channel.value, s.direction.value, s.party_id,
        s.idempotencyKey, body_hash, s.campaignId, s.priority, s.queue, s.assignee,
        ts(s.claimExpiresAt) if s.claimExpiresAt else None, ts(min(s.timers.values())) if s.timers else None,
        int(s.hidden), ts(s.creationDate), ts(s.lastUpdate),
    )


def select_in(conn: sqlite3.Connection, sql: str, values: list[Any], *params: Any) -> Iterator[tuple]:
    """The rows of ``sql`` with its ``{}`` filled with one placeholder per value (after
    ``params``), asked 500 values at a time, below SQLite's bound on the number of parameters."""
    for n in range(0, len(values), 500):
        part = values[n:n + 500]
        yield from conn.execute(sql.format(", ".join("?" * len(part))), [*params, *part])


def _row(w: Write) -> tuple:
    assert w.columns is not None or w.state is not None
    return (*(w.columns or index_columns(w.state, w.body_hash)), w.state_json)


class SQLiteReader:
    """Reads of one shard file; safe from any thread (one connection per thread)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        setup = _connect(self.path)
        _when_unlocked(lambda: self._set_up(setup), self.path)
        setup.close()
        self._local = threading.local()

    @staticmethod
    def _set_up(conn: sqlite3.Connection) -> None:
        """The schema, and the columns later versions added to it."""
        columns = {row[1] for row in conn.execute("PRAGMA table_info(requests)")}
        if columns and "wake_at" not in columns:  # a journal written before passivation
            conn.execute("ALTER TABLE requests ADD COLUMN wake_at TEXT")
        if columns and "hidden" not in columns:  # a journal written before TMF683 DELETE
            conn.execute("ALTER TABLE requests ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0")
        conn.executescript(SCHEMA)

    @property
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = _connect(self.path)
        return conn

    def get(self, request_id: str) -> RequestState | None:
        row = self._conn.execute("SELECT state FROM requests WHERE id = ?", (request_id,)).fetchone()
        return RequestState.model_validate_json(row[0]) if row else None

    def body_hash(self, request_id: str) -> str | None:
        row = self._conn.execute("SELECT body_hash FROM requests WHERE id = ?", (request_id,)).fetchone()
        return row[0] if row else None

    def known(self, request_ids: list[str]) -> set[str]:
        return {row[0] for row in select_in(self._conn, "SELECT id FROM requests WHERE id IN ({})", request_ids)}

    def state_json(self, request_id: str) -> str | None:
        row = self._conn.execute("SELECT state FROM requests WHERE id = ?", (request_id,)).fetchone()
        return row[0] if row else None

    def events(self, request_id: str) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            "SELECT seq, at, type, data FROM events WHERE request_id = ? ORDER BY seq", (request_id,)
        ).fetchall()
        return [{"seq": s, "at": at, "type": t, "data": json.loads(d)} for s, at, t, d in rows]

    def open_ids(self) -> list[tuple[str, str, str, datetime | None]]:
        """Every open request: ``(id, status, request type, earliest timer)``, oldest first, without
        loading states."""
        rows = self._conn.execute(
            f"SELECT id, status, request_type, wake_at FROM requests WHERE status NOT IN ({FINAL_SQL}) "
            f"ORDER BY created_at").fetchall()
        return [(rid, status, rtype, datetime.fromisoformat(wake) if wake else None)
                for rid, status, rtype, wake in rows]

    def wakes(self, after: datetime | None, until: datetime) -> list[tuple[str, datetime]]:
        rows = self._conn.execute(
            f"SELECT id, wake_at FROM requests WHERE wake_at > ? AND wake_at <= ? AND status NOT IN ({FINAL_SQL})",
            ("" if after is None else ts(after), ts(until))).fetchall()
        return [(rid, datetime.fromisoformat(wake)) for rid, wake in rows]

    def open_requests(self) -> list[RequestState]:
        rows = self._conn.execute(f"SELECT state FROM requests WHERE status NOT IN ({FINAL_SQL})").fetchall()
        return [RequestState.model_validate_json(r[0]) for r in rows]

    def query(self, q: Query) -> tuple[list[tuple[str, str, str]], int]:
        where, args = [], []
        for column, value in (
            ("status", q.status), ("request_type", q.requestType), ("channel", q.channel), ("party_id", q.partyId)
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if q.hidden is not None:
            where.append("hidden = ?")
            args.append(int(q.hidden))
        for sql, values in q.where:
            where.append(f"({sql})")
            args.extend(values)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        conn = self._conn
        total = conn.execute(f"SELECT count(*) FROM requests {clause}", args).fetchone()[0]
        rows = conn.execute(
            f"SELECT created_at, id, state FROM requests {clause} ORDER BY created_at DESC, id DESC LIMIT ?",
            [*args, q.offset + q.limit],
        ).fetchall()
        return rows, total

    def count_by_status(self, campaign_id: str | None = None) -> dict[str, int]:
        if campaign_id is None:
            rows = self._conn.execute("SELECT status, count(*) FROM requests GROUP BY status").fetchall()
        else:
            rows = self._conn.execute("SELECT status, count(*) FROM requests WHERE campaign_id = ? GROUP BY status",
                                      (campaign_id,)).fetchall()
        return dict(rows)

    def status(self, request_id: str) -> str | None:
        row = self._conn.execute("SELECT status FROM requests WHERE id = ?", (request_id,)).fetchone()
        return row[0] if row else None

    def public_events(self, after: int, f: EventFilter, limit: int) -> list[EventRow]:
        types = f.event_types or PUBLIC_EVENT_TYPES
        where = ["e.seq > ?", f"e.type IN ({', '.join('?' for _ in types)})"]
        args: list[Any] = [after, *types]
        if f.request_id is not None:
            where.append("e.request_id = ?")
            args.append(f.request_id)
        if f.party_id is not None:
            where.append("r.party_id = ?")
            args.append(f.party_id)
        if f.request_types:
            where.append(f"r.request_type IN ({', '.join('?' for _ in f.request_types)})")
            args.extend(f.request_types)
        rows = self._conn.execute(
            "SELECT e.seq, e.request_id, e.at, e.type, e.data, r.request_type, r.party_id "
            f"FROM events e JOIN requests r ON r.id = e.request_id WHERE {' AND '.join(where)} "
            "ORDER BY e.seq LIMIT ?", [*args, limit]).fetchall()
        return [EventRow(*row) for row in rows]

    def last_seq(self) -> int:
        return self._conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]

    def held(self, queues: list[str]) -> list[tuple[int, str, str, str, str | None, str | None, str]]:
        """Held requests in these CSR queues:
        ``(priority, created_at, id, queue, assignee, claim_expires_at, state)``."""
        marks = ", ".join("?" for _ in queues)
        return self._conn.execute(
            f"SELECT priority, created_at, id, queue, assignee, claim_expires_at, state FROM requests "
            f"WHERE status = 'held' AND queue IN ({marks})", queues).fetchall()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class SQLiteJournal(SQLiteReader, Journal):
    """The embedded journal of one host shard: reads, plus a group-committing writer thread."""

    def __init__(self, path: str | Path, checkpoint_seconds: float = CHECKPOINT_SECONDS):
        super().__init__(path)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._writes = 0  # commits so far (the writer counts them, the checkpointer reads them)
        self._stopping = threading.Event()
        self._writer = threading.Thread(target=self._write_loop, name=f"journal-{self.path.stem}", daemon=True)
        self._writer.start()
        self._checkpointer = threading.Thread(target=self._checkpoint_loop, args=(checkpoint_seconds,),
                                              name=f"checkpoint-{self.path.stem}", daemon=True)
        self._checkpointer.start()

    # -- writes -----------------------------------------------------------------------------
    def backlog(self) -> int:
        """Commits waiting for the writer thread."""
        return self._queue.qsize()

    async def commit(self, writes: list[Write]) -> None:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._queue.put((writes, fut, loop))
        await fut

    def _write_loop(self) -> None:
        conn = _connect(self.path)
        conn.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's job, off the commit's path
        conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        while True:
            item = self._queue.get()
            if item is None:
                break
            batch = [item]
            stop = False
            while len(batch) < MAX_GROUP:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            try:
                self._apply(conn, [w for writes, _, _ in batch for w in writes])
                results = [None] * len(batch)
            except sqlite3.Error:
                # One bad write must not fail its neighbours: retry each on its own.
                results = []
                for writes, _, _ in batch:
                    try:
                        self._apply(conn, writes)
                        results.append(None)
                    except sqlite3.Error as exc:  # reported to the one caller it belongs to
                        results.append(exc)
            self._writes += 1
            for (_, fut, loop), exc in zip(batch, results, strict=True):
                _settle(fut, loop, exc)
            if stop:
                break
        conn.close()

    def _checkpoint_loop(self, every: float) -> None:
        """Copy what was committed into the database file, every ``every`` seconds while there are
        commits. PASSIVE: it never waits for the writer or a reader, and the writer never waits
        for it; what a reader still needs is copied next time."""
        conn = _connect(self.path)
        done = self._writes
        while not self._stopping.wait(every):
            if self._writes == done:
                continue
            done = self._writes
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as exc:  # another connection's checkpoint: next time
                log.debug("%s: checkpoint skipped: %s", self.path, exc)
        conn.close()

    @staticmethod
    def _apply(conn: sqlite3.Connection, writes: list[Write]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            rows = [_row(w) for w in writes]
            conn.executemany(UPSERT, rows)
            conn.executemany(
                "INSERT INTO events (request_id, at, type, data) VALUES (?, ?, ?, ?)",
                [(row[0], row[16], etype, data) for row, w in zip(rows, writes) for etype, data in w.events],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._stopping.set()
        self._checkpointer.join(timeout=10)
        self._queue.put(None)
        self._writer.join(timeout=10)  # the last connection to close copies the rest of the log
        super().close()


def _settle(fut, loop, exc: BaseException | None) -> None:
    def _set() -> None:
        if fut.done():
            return
        if exc is None:
            fut.set_result(None)
        else:
            fut.set_exception(exc)

    try:
        loop.call_soon_threadsafe(_set)
    except RuntimeError:  # the caller's loop has closed; nobody is waiting any more
        pass
