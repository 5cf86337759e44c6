"""SqliteBss and HttpBss (over the TMF stand-in) give the same answers to the same calls."""

from __future__ import annotations

from typing import Any

from bss.errors import BssError

from .support import open_kind

# Set from the clock at the moment of the call: equal only by accident.
CLOCK_KEYS = {"date", "quoteDate", "validFor", "orderDate", "completionDate", "effectiveQuoteCompletionDate",
              "agreementDate", "sendTime", "sendTimeComplete", "createdAt"}


def without_clock(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_clock(v) for k, v in value.items() if k not in CLOCK_KEYS}
    if isinstance(value, list):
        return [without_clock(v) for v in value]
    return value


def scenario(bss) -> list[Any]:
    """Reads and writes of every kind, with errors recorded as their class name."""
    def call(name: str, *args: Any) -> Any:
        try:
            return without_clock(getattr(bss, name)(*args))
        except BssError as exc:
            return type(exc).__name__

    items = [{"offeringId": "PO-FIBRE-1000", "quantity": 1}, {"offeringId": "PO-TV-BASIC", "quantity": 3}]
    return [
        call("invoice", "INV-0003"), call("invoices_of", "BA-0002"), call("account_summary", "BA-0002"),
        call("apply_credit", "CR-1", "BA-0002", 2500, "dispute"), call("apply_credit", "CR-1", "BA-0002", 2500, "dispute"),
        call("apply_charge", "CH-1", "BA-0002", "lateFee"), call("apply_charge", "CR-1", "BA-0002", "lateFee"),
        call("apply_credit", "CR-2", "BA-NOPE", 100, "x"), call("apply_charge", "CH-2", "BA-0002", "nope"),
        call("credits_of", "BA-0002"), call("charges_of", "BA-0002"), call("account_summary", "BA-0002"),
        call("create_quote", "Q-1", "CUST-0002", items, 7), call("create_quote", "Q-2", "CUST-0002", [{"offeringId": "X"}]),
        call("create_quote", "Q-3", "NOPE", items), call("create_agreement", "AG-1", "Q-1"),
        call("create_agreement", "AG-2", "Q-1"), call("set_quote_state", "Q-1", "rejected"),
        call("create_quote", "Q-4", "PROS-0001", items), call("set_quote_state", "Q-4", "cancelled"),
        call("set_quote_state", "Q-4", "expired"), call("quote", "Q-4"),
        call("create_cart", "SC-1", "CUST-0001", items), call("create_order", "PO-1", "CUST-0001", None, "SC-1"),
        call("create_order", "PO-2", "CUST-0001", None, "SC-1"), call("advance_order", "PO-1"),
        call("advance_order", "PO-1"), call("create_order", "PO-3", "CUST-0001", [{"offeringId": "PO-DSL-LEGACY"}]),
        call("advance_order", "PO-3"), call("advance_order", "PO-3"), call("set_order_state", "PO-3", "completed"),
        call("order", "PO-1"), call("cart", "SC-1"),
    ]


def test_http_and_sqlite_agree(demo_db, tmp_path):
    (tmp_path / "sqlite").mkdir()
    (tmp_path / "http").mkdir()
    with open_kind("sqlite", demo_db, tmp_path / "sqlite") as sqlite, open_kind("http", demo_db, tmp_path / "http") as http:
        expected, got = scenario(sqlite), scenario(http)
    assert len(got) == len(expected)
    for n, (a, b) in enumerate(zip(expected, got)):
        assert b == a, f"call {n} differs"
    assert "ConflictInBss" in expected and "InvalidForBss" in expected and "NotFoundInBss" in expected
