"""collections: dunning notice, late fee (FinancialChargeSpec), promise to pay, next dunning step."""

from __future__ import annotations

from .base import Payload, Process, cents, completed, derived_id, needs_person


class CollectionsProcess(Process):
    kind = "collections"

    def _account(self, p: Payload):
        account_id = str(p["characteristics"].get("billingAccountId"))
        return account_id, self.bss.billing_account(account_id)

    def dunningNotice(self, p: Payload):
        account_id, account = self._account(p)
        if account is None:
            return needs_person(f"billing account {account_id} not found")
        summary = self.bss.account_summary(account_id)
        bal = summary["balance"]
        body = (f"Your account {account_id} is {account['days_overdue']} days overdue: {bal['value']:.2f} "
                f"{bal['unit']} is due. Please pay, or promise a payment date. A late fee applies.")
        return completed({"subject": f"Payment reminder for account {account_id}", "body": body,
                          "balance": bal, "daysOverdue": account["days_overdue"],
                          "dunningStage": account["dunning_stage"]})

    def chargeLateFee(self, p: Payload):
        account_id, account = self._account(p)
        if account is None:
            return needs_person(f"billing account {account_id} not found")
        charge = self.bss.apply_charge(derived_id("FEE", p), account_id, "lateFee")
        return completed({"id": charge["id"], "amount": charge["taxIncludedAmount"], "billingAccountId": account_id})

    def recordPromise(self, p: Payload):
        account_id, account = self._account(p)
        if account is None:
            return needs_person(f"billing account {account_id} not found")
        promise = self.bss.record_promise(derived_id("PTP", p), account_id, cents(p["input"]["amount"]),
                                          str(p["input"]["date"]))
        return completed({"id": promise["id"], "amount": promise["amount"], "dueDate": promise["dueDate"]})

    def advanceDunning(self, p: Payload):
        account_id, account = self._account(p)
        if account is None:
            return needs_person(f"billing account {account_id} not found")
        # The target stage comes from the stage when the request started, so a repeat changes nothing.
        stage = min(int(p["input"].get("fromStage", account["dunning_stage"])) + 1, 4)
        updated = self.bss.set_dunning_stage(account_id, stage)
        return completed({"billingAccountId": account_id, "stage": updated["dunning_stage"],
                          "standing": updated["standing"]})
