"""The reference BSS: customer, billing, catalogue and contact data the fulfilment processes act on.

Process actors use it through one interface, ``bss.interface.Bss``, obtained from ``open_bss``:

- a filesystem path -> ``SqliteBss`` (``bss.store``): everything in one SQLite file beside the
  journal (``<data_dir>/bss.db``), filled by the deterministic demo generator ``bss.demo``
  (``python -m bss.demo --customers N --path var/bss.db``). This is what a deployment uses by
  default, and what the tests use.
- an ``http(s)://`` base URL -> ``HttpBss`` (``bss.http``): invoices, applied rates (credits,
  charges), quotes, carts and product orders go to the operator's BSS over TM Forum Open APIs v4
  (TMF678, TMF648, TMF663, TMF622, each under its swagger ``basePath`` below the URL); customers,
  billing accounts, the catalogue, charge specs, promises, dunning stage, the knowledge base, CSRs
  and the outbox stay in the local SQLite file given as ``local``. ``bss.http`` has the table of
  which method goes where.

Pointing at a real BSS: ``open_bss("https://bss.example.net", local="var/bss.db",
drive_orders=False, headers={"Authorization": "Bearer ..."})``. ``drive_orders=False`` because a
real BSS fulfils its orders itself (``advance_order`` then re-reads the order); its TMF678 must
accept ``POST appliedCustomerBillingRate`` (an extension, see ``bss.http``), and the local file
must hold the customers and billing accounts the BSS knows (no account API is called).

Trying the HTTP path without a BSS: ``python -m bss.tmfserver --db var/bss.db --port 8700``
serves a stand-in; then ``open_bss("http://127.0.0.1:8700", local="var/bss.db")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import BssError, BssUnavailable, ConflictInBss, InvalidForBss, NotFoundInBss
from .interface import Bss
from .store import BssStore, SqliteBss


def open_bss(url_or_path: str | Path, *, local: str | Path | SqliteBss | None = None, **options: Any) -> Bss:
    """``SqliteBss`` for a path, ``HttpBss`` for an ``http(s)://`` URL (``local``: the SQLite BSS
    for what the TMF APIs do not cover; ``options``: ``HttpBss`` keywords such as ``drive_orders``,
    ``timeout``, ``headers``)."""
    target = str(url_or_path)
    if not target.startswith(("http://", "https://")):
        if options:
            raise TypeError(f"options {sorted(options)} only apply to an http(s) BSS")
        return SqliteBss(target)
    if local is None:
        raise ValueError("an HTTP BSS needs local=<path of the SQLite BSS> for customers, accounts, "
                         "catalogue, knowledge base, CSRs and the outbox")
    from .http import HttpBss  # httpx is only needed for this one

    return HttpBss(target, local if isinstance(local, SqliteBss) else SqliteBss(local), **options)


__all__ = ["Bss", "BssError", "BssStore", "BssUnavailable", "ConflictInBss", "InvalidForBss", "NotFoundInBss",
           "SqliteBss", "open_bss"]
