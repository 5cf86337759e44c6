"""``campaigns.db`` written by an earlier version (before uploads could say more rows follow) opens
and keeps its campaigns; a campaign's ``awaitingRows`` follows the last upload's ``more``."""

from __future__ import annotations

import sqlite3

from routing.campaigns import CampaignCreate, CampaignStore, Row

OLD_SCHEMA = """
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, template TEXT NOT NULL, rate REAL, status TEXT NOT NULL,
    total INTEGER NOT NULL DEFAULT 0, cursor INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL DEFAULT 0,
    existing INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, started_at REAL, finished_at REAL, updated_at REAL NOT NULL
);
INSERT INTO campaigns (id, name, template, status, total, cursor, created, created_at, updated_at)
VALUES ('old', 'before', '{"requestType": "dunningNotice"}', 'completed', 7, 7, 7, 1.0, 1.0);
"""


def test_an_earlier_store_opens_with_its_campaigns_and_takes_uploads_that_say_more(tmp_path):
    path = tmp_path / "campaigns.db"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    old.close()
    store = CampaignStore(path)
    c = store.get("old")
    assert (c["status"], c["rows"], c["created"], c["awaitingRows"]) == ("completed", 7, 7, False)

    store.create("new", CampaignCreate(name="chunks", template={"requestType": "dunningNotice"}))
    row = Row(key="r1", partyId="CUST-000001")
    assert store.add_rows("new", [row], more=True) == 1
    assert store.get("new")["awaitingRows"] is True
    assert store.add_rows("new", [row, Row(key="r2", partyId="CUST-000002")]) == 1  # r1 known already
    assert (store.get("new")["rows"], store.get("new")["awaitingRows"]) == (2, False)
