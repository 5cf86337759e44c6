"""The journal's write-ahead log is copied into the database file by the checkpointer thread, not
by the commits: the database file holds what was committed once the checkpointer has run, the log
is reused instead of growing, and closing leaves everything in the database file."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time

from actors.journal import SQLiteJournal, Write

ROW = ("r{:06d}", "acknowledged", "inquiry", "web", "inbound", "CUST-0001", None, None, None, 3, None, None,
       None, None, 0, "2026-11-28T00:00:00.000000Z", "2026-11-28T00:00:00.000000Z")


def write(n: int) -> Write:
    columns = (ROW[0].format(n), *ROW[1:])
    state = json.dumps({"id": columns[0], "pad": "x" * 1500})
    return Write(None, state, [("created", state)], None, columns)


def rows_in_database_file(path) -> int:
    """Rows readable from the database file alone, the log ignored (a copy without the -wal file)."""
    copy = path.with_name("copy.db")
    copy.write_bytes(path.read_bytes())
    conn = sqlite3.connect(copy)
    try:
        return conn.execute("SELECT count(*) FROM requests").fetchone()[0]
    except sqlite3.DatabaseError:  # copied while a checkpoint was writing it: not there yet
        return 0
    finally:
        conn.close()
        copy.unlink()


async def test_commits_reach_the_database_file_through_the_checkpointer(tmp_path):
    path = tmp_path / "shard.db"
    journal = SQLiteJournal(path, checkpoint_seconds=0.05)
    try:
        for start in range(0, 3000, 100):
            await journal.commit([write(n) for n in range(start, start + 100)])
        deadline = time.monotonic() + 10
        while rows_in_database_file(path) < 3000 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert rows_in_database_file(path) == 3000  # copied by the checkpointer, nothing lost
        wal = path.with_name("shard.db-wal")
        size = wal.stat().st_size
        for start in range(3000, 6000, 100):  # as much again: the log is reused, not grown
            await journal.commit([write(n) for n in range(start, start + 100)])
            await asyncio.sleep(0.01)
        assert wal.stat().st_size < 1.5 * size  # without checkpoints it would be about twice as long
        assert len(journal.known([f"r{n:06d}" for n in range(6000)])) == 6000
    finally:
        journal.close()
    assert rows_in_database_file(path) == 6000  # closing copies the rest


async def test_without_the_checkpointer_commits_stay_in_the_log(tmp_path):
    """The control: a checkpointer that does not run in time leaves the rows in the log only, so
    the first test's rows in the database file are the checkpointer's doing, not the commits'."""
    path = tmp_path / "shard.db"
    journal = SQLiteJournal(path, checkpoint_seconds=3600)
    try:
        for start in range(0, 3000, 100):
            await journal.commit([write(n) for n in range(start, start + 100)])
        assert rows_in_database_file(path) == 0
        assert len(journal.known([f"r{n:06d}" for n in range(3000)])) == 3000
    finally:
        journal.close()
