"""Opening a new shard file from several connections at once: the service's start does this (a host
and the webhooks actor open each shard together), and SQLite refuses one of two connections that
switch a new file to WAL mode at the same moment without waiting for its busy timeout."""

from __future__ import annotations

import threading

from actors.journal import SQLiteJournal, SQLiteReader


def test_a_new_shard_opened_from_six_connections_at_once_opens_for_all(tmp_path):
    failures: list[str] = []
    for n in range(150):
        path = tmp_path / f"shard-{n}.db"
        start = threading.Barrier(6)

        def open_it(writer: bool, path=path, start=start) -> None:
            start.wait()
            try:
                if writer:
                    SQLiteJournal(path).close()
                else:
                    assert SQLiteReader(path).get("REQ-none") is None
            except Exception as exc:  # noqa: BLE001 - counted and shown below
                failures.append(f"{path.name}: {exc!r}")

        threads = [threading.Thread(target=open_it, args=(k == 0,)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert failures == []
