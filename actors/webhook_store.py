"""The webhooks actor's own SQLite file: subscriptions, how far it has read each journal shard, the
deliveries handed off but not yet done (an outbox), and the dead letters.

A delivery is written to the outbox in the same transaction that moves the shard's cursor past its
event, so a restarted actor neither loses one nor makes a new one with another id. Only the
``webhooks`` actor writes this file, from one thread.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY,
    callback TEXT NOT NULL,
    secret TEXT NOT NULL,
    event_types TEXT NOT NULL,      -- JSON list; empty: every public event type
    request_types TEXT NOT NULL,    -- JSON list; empty: every request type
    party_id TEXT,
    start TEXT NOT NULL,            -- JSON list: per shard, the last seq before the subscription
    created_at TEXT NOT NULL,
    format TEXT NOT NULL DEFAULT 'native',  -- native | tmf683: the shape of its deliveries
    query TEXT                      -- tmf683: the query as the client gave it
);
CREATE TABLE IF NOT EXISTS cursors (
    shard INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    subscription_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_status INTEGER
);
CREATE INDEX IF NOT EXISTS deliveries_subscription ON deliveries(subscription_id, n);
CREATE TABLE IF NOT EXISTS dead_letters (
    id TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    last_status INTEGER,
    failed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_subscription ON dead_letters(subscription_id, failed_at);
"""


@dataclass(frozen=True)
class Subscription:
    id: str
    callback: str
    secret: str
    event_types: tuple[str, ...]
    request_types: tuple[str, ...]
    party_id: str | None
    start: tuple[int, ...]
    created_at: str
    format: str = "native"  # native: the event JSON of actors.events; tmf683: a TMF683 event
    query: str | None = None  # tmf683: the query as the client gave it

    def read(self) -> dict[str, Any]:
        """As the API shows it (never the secret)."""
        return {"id": self.id, "href": f"/api/v1/hub/{self.id}", "callback": self.callback,
                "query": {"eventTypes": list(self.event_types), "requestTypes": list(self.request_types),
                          "relatedPartyId": self.party_id},
                "createdAt": self.created_at}


@dataclass(frozen=True)
class Delivery:
    id: str
    subscription_id: str
    event_type: str
    body: str
    attempts: int


def dead_letter_read(row: tuple) -> dict[str, Any]:
    did, sub, etype, body, attempts, error, status, failed_at = row
    return {"id": did, "deliveryId": did, "subscriptionId": sub, "eventType": etype, "attempts": attempts,
            "lastError": error, "lastStatus": status, "failedAt": failed_at, "event": json.loads(body)}


class WebhookStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")  # a lost tail after power loss means re-delivery, same ids
        columns = {row[1] for row in self.conn.execute("PRAGMA table_info(subscriptions)")}
        if columns and "format" not in columns:  # a file written before TMF683 subscriptions
            self.conn.execute("ALTER TABLE subscriptions ADD COLUMN format TEXT NOT NULL DEFAULT 'native'")
            self.conn.execute("ALTER TABLE subscriptions ADD COLUMN query TEXT")
        self.conn.executescript(SCHEMA)

    # -- subscriptions ------------------------------------------------------------------------
    def add(self, s: Subscription) -> None:
        self.conn.execute(
            "INSERT INTO subscriptions (id, callback, secret, event_types, request_types, party_id, start, "
            "created_at, format, query) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (s.id, s.callback, s.secret, json.dumps(s.event_types), json.dumps(s.request_types), s.party_id,
             json.dumps(s.start), s.created_at, s.format, s.query))

    def subscriptions(self) -> list[Subscription]:
        rows = self.conn.execute("SELECT id, callback, secret, event_types, request_types, party_id, start, "
                                 "created_at, format, query FROM subscriptions ORDER BY created_at, id").fetchall()
        return [Subscription(i, cb, sec, tuple(json.loads(et)), tuple(json.loads(rt)), p, tuple(json.loads(st)), at,
                             fmt, q)
                for i, cb, sec, et, rt, p, st, at, fmt, q in rows]

    def remove(self, sub_id: str) -> None:
        """The subscription, its pending deliveries and its dead letters."""
        with self._tx():
            for table, column in (("subscriptions", "id"), ("deliveries", "subscription_id"),
                                  ("dead_letters", "subscription_id")):
                self.conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (sub_id,))

    # -- cursors and the outbox ---------------------------------------------------------------
    def cursors(self) -> dict[int, int]:
        return dict(self.conn.execute("SELECT shard, seq FROM cursors").fetchall())

    def hand_off(self, shard: int, seq: int, deliveries: list[Delivery]) -> None:
        """Queue these deliveries and move the shard's cursor to ``seq``, in one transaction."""
        with self._tx():
            self.conn.executemany(  # not for a subscription removed meanwhile
                "INSERT OR IGNORE INTO deliveries (id, subscription_id, event_type, body) SELECT ?, ?, ?, ? "
                "WHERE EXISTS (SELECT 1 FROM subscriptions WHERE id = ?)",
                [(d.id, d.subscription_id, d.event_type, d.body, d.subscription_id) for d in deliveries])
            self.conn.execute("INSERT INTO cursors VALUES (?, ?) ON CONFLICT(shard) DO UPDATE SET seq = excluded.seq",
                              (shard, seq))

    def next_delivery(self, sub_id: str) -> Delivery | None:
        row = self.conn.execute(
            "SELECT id, subscription_id, event_type, body, attempts FROM deliveries WHERE subscription_id = ? "
            "ORDER BY n LIMIT 1", (sub_id,)).fetchone()
        return Delivery(*row) if row else None

    def delivered(self, delivery_id: str) -> None:
        self.conn.execute("DELETE FROM deliveries WHERE id = ?", (delivery_id,))

    def attempt_failed(self, delivery_id: str, error: str, status: int | None) -> None:
        self.conn.execute("UPDATE deliveries SET attempts = attempts + 1, last_error = ?, last_status = ? "
                          "WHERE id = ?", (error, status, delivery_id))

    def dead_letter(self, d: Delivery, error: str, status: int | None, at: str) -> None:
        """The delivery's last attempt failed: out of the outbox, into the dead letters."""
        with self._tx():
            self.conn.execute("DELETE FROM deliveries WHERE id = ?", (d.id,))
            self.conn.execute("INSERT OR REPLACE INTO dead_letters VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                              (d.id, d.subscription_id, d.event_type, d.body, d.attempts + 1, error, status, at))

    # -- dead letters -------------------------------------------------------------------------
    def dead_letters(self, sub_id: str | None, limit: int) -> list[dict[str, Any]]:
        clause, args = ("WHERE subscription_id = ?", [sub_id]) if sub_id else ("", [])
        rows = self.conn.execute(
            "SELECT id, subscription_id, event_type, body, attempts, last_error, last_status, failed_at "
            f"FROM dead_letters {clause} ORDER BY failed_at, id LIMIT ?", [*args, limit]).fetchall()
        return [dead_letter_read(r) for r in rows]

    def dead_letter_delivery(self, dl_id: str) -> Delivery | None:
        row = self.conn.execute("SELECT id, subscription_id, event_type, body, attempts FROM dead_letters "
                                "WHERE id = ?", (dl_id,)).fetchone()
        return Delivery(*row) if row else None

    def replayed(self, dl_id: str) -> None:
        self.conn.execute("DELETE FROM dead_letters WHERE id = ?", (dl_id,))

    def replay_failed(self, dl_id: str, error: str, status: int | None, at: str) -> dict[str, Any]:
        self.conn.execute("UPDATE dead_letters SET attempts = attempts + 1, last_error = ?, last_status = ?, "
                          "failed_at = ? WHERE id = ?", (error, status, at, dl_id))
        row = self.conn.execute("SELECT id, subscription_id, event_type, body, attempts, last_error, last_status, "
                                "failed_at FROM dead_letters WHERE id = ?", (dl_id,)).fetchone()
        return dead_letter_read(row)

    @contextmanager
    def _tx(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

