"""Files written before a column existed open with it added: the journal's ``hidden`` (TMF683
DELETE) and the webhook store's subscription ``format``."""

from __future__ import annotations

import sqlite3

from actors.journal import Query, SQLiteReader
from actors.webhook_store import WebhookStore

OLD_REQUESTS = """
CREATE TABLE requests (id TEXT PRIMARY KEY, status TEXT NOT NULL, request_type TEXT NOT NULL,
    channel TEXT NOT NULL, direction TEXT NOT NULL, party_id TEXT, idempotency_key TEXT, body_hash TEXT,
    campaign_id TEXT, priority INTEGER NOT NULL DEFAULT 3, queue TEXT, assignee TEXT, claim_expires_at TEXT,
    wake_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, state TEXT NOT NULL);
INSERT INTO requests (id, status, request_type, channel, direction, created_at, updated_at, state)
VALUES ('r1', 'held', 'inquiry', 'web', 'inbound', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z', '{}');
"""


def test_journal_gets_the_hidden_column(tmp_path):
    path = tmp_path / "shard-0.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_REQUESTS)
    reader = SQLiteReader(path)
    assert reader.query(Query(hidden=False)) == ([("2026-01-01T00:00:00.000000Z", "r1", "{}")], 1)
    assert reader.query(Query(hidden=True)) == ([], 0)
    reader.close()


def test_webhook_store_gets_the_format_column(tmp_path):
    path = tmp_path / "webhooks.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE subscriptions (id TEXT PRIMARY KEY, callback TEXT NOT NULL, secret TEXT NOT NULL, "
                     "event_types TEXT NOT NULL, request_types TEXT NOT NULL, party_id TEXT, start TEXT NOT NULL, "
                     "created_at TEXT NOT NULL)")
        conn.execute("INSERT INTO subscriptions VALUES ('s1', 'http://x/h', 'k' , '[]', '[]', NULL, '[0]', 't')")
    store = WebhookStore(path)
    [sub] = store.subscriptions()
    assert (sub.id, sub.format, sub.query) == ("s1", "native", None)
    store.close()
