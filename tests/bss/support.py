"""Helpers for the BSS tests: fresh ids, a fresh BSS of either kind."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bss.http import HttpBss
from bss.store import SqliteBss
from bss.tmfserver import serving


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@contextmanager
def open_kind(kind: str, demo_db: Path, workdir: Path) -> Iterator[SqliteBss | HttpBss]:
    """A fresh copy of the demo BSS: SQLite, or HttpBss against the stand-in over its own copy
    (the local part is another copy: what is created over the TMF APIs exists only on the server)."""
    if kind == "sqlite":
        shutil.copy(demo_db, workdir / "bss.db")
        store = SqliteBss(workdir / "bss.db")
        yield store
        store.close()
        return
    shutil.copy(demo_db, workdir / "remote.db")
    shutil.copy(demo_db, workdir / "local.db")
    remote, local = SqliteBss(workdir / "remote.db"), SqliteBss(workdir / "local.db")
    with serving(remote) as url:
        client = HttpBss(url, local, timeout=5.0)
        yield client
        client.close()
    remote.close()
    local.close()
