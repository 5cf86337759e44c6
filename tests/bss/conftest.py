"""BSS fixtures: one demo file per session, and ``bss``: the same tests against SqliteBss and HttpBss.

``bss`` is module scoped (one stand-in server per module); tests use fresh ids and compare
balances before and after, never with another test's leftovers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bss import demo

from .support import open_kind

CUSTOMERS = 60


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bss-demo") / "bss.db"
    demo.generate(path, customers=CUSTOMERS)
    return path


@pytest.fixture(scope="module", params=["sqlite", "http"])
def bss(request, demo_db, tmp_path_factory):
    with open_kind(request.param, demo_db, tmp_path_factory.mktemp(f"bss-{request.param}")) as impl:
        yield impl


@pytest.fixture(scope="module")
def accounts(bss) -> Iterator[str]:
    """Generated accounts in good standing, a different one for each test that takes one."""
    return iter([f"BA-{n:06d}" for n in range(4, CUSTOMERS + 1)
                 if bss.billing_account(f"BA-{n:06d}")["standing"] == "good"])


@pytest.fixture(scope="module")
def overdue(bss) -> Iterator[str]:
    return iter([a["id"] for a in bss.overdue_accounts(1) if a["id"] not in ("BA-0001", "BA-0002")])
