"""What every process shares: outcomes, ids derived from activity ids, payload accessors."""

from __future__ import annotations

from typing import Any

from bss import Bss

Outcome = dict[str, Any]
Payload = dict[str, Any]


def completed(result: dict[str, Any]) -> Outcome:
    return {"outcome": "completed", "result": result}


def needs_person(reason: str) -> Outcome:
    return {"outcome": "needsPerson", "reason": reason}


def derived_id(prefix: str, payload: Payload) -> str:
    """The id of what an activity creates in the BSS: the same activity always names the same thing."""
    return f"{prefix}-{payload['activityId']}"


def party(payload: Payload) -> str:
    return payload["relatedParty"][0]["id"]


def belongs(account: dict | None, payload: Payload) -> bool:
    """The billing account exists and is one of the request's parties'."""
    return account is not None and account["customer_id"] in {p["id"] for p in payload["relatedParty"]}


def cents(value: Any) -> int:
    return round(float(value) * 100)


class Process:
    kind = ""

    def __init__(self, bss: Bss):
        self.bss = bss

    def owned_account(self, payload: Payload) -> tuple[dict | None, str | None]:
        """The billing account named by the request, if it belongs to one of its parties."""
        account_id = str(payload["characteristics"].get("billingAccountId"))
        account = self.bss.billing_account(account_id)
        if account is None:
            return None, f"billing account {account_id} not found"
        if not belongs(account, payload):
            return None, f"billing account {account_id} does not belong to the related party"
        return account, None
