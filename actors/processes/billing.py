"""billing: billingInquiry, invoiceInquiry, billingDispute (AppliedCustomerBillingCredit)."""

from __future__ import annotations

from .base import Payload, Process, belongs, cents, completed, derived_id, needs_person


class BillingProcess(Process):
    kind = "billing"

    def accountSummary(self, p: Payload):
        account, problem = self.owned_account(p)
        if account is None:
            return needs_person(problem)
        return completed(self.bss.account_summary(account["id"]))

    def findInvoice(self, p: Payload):
        invoice_id = str(p["characteristics"].get("invoiceId"))
        invoice = self.bss.invoice(invoice_id)
        if invoice is None:
            return needs_person(f"invoice {invoice_id} not found")
        account = self.bss.billing_account(invoice["billingAccount"]["id"])
        if not belongs(account, p):
            return needs_person(f"invoice {invoice_id} does not belong to the related party")
        total = invoice["taxIncludedAmount"]
        summary = (f"Invoice {invoice_id} of {invoice.get('billDate')}: {total['value']:.2f} {total['unit']}, "
                   f"due {invoice.get('paymentDueDate')}, {invoice.get('state')}.")
        return completed({"id": invoice_id, "state": invoice.get("state"), "amount": total,
                          "dueDate": invoice.get("paymentDueDate"), "summary": summary})

    def assessDispute(self, p: Payload):
        """Self service when the amount is under the auto-credit limit and the account's standing allows."""
        account, problem = self.owned_account(p)
        if account is None:
            return needs_person(problem)
        amount = p["characteristics"].get("amount")
        limit, standing = float(p["input"]["autoCreditLimit"]), p["input"]["requiredStanding"]
        if amount is None or float(amount) <= 0:
            return completed({"eligible": False, "amount": None, "reason": "the dispute names no positive amount"})
        amount = float(amount)
        if amount > limit:
            reason = f"{amount:.2f} is over the auto-credit limit of {limit:.2f}: a CSR reviews it"
        elif account["standing"] != standing:
            reason = f"the account is {account['standing']}, not {standing}: a CSR reviews it"
        else:
            reason = None
        return completed({"eligible": reason is None, "amount": amount, "standing": account["standing"],
                          "reason": reason or "within the auto-credit rule"})

    def applyCredit(self, p: Payload):
        account, problem = self.owned_account(p)
        if account is None:
            return needs_person(problem)
        amount = float(p["input"]["amount"])
        reason = f"billing dispute {p['requestId']}"
        credit = self.bss.apply_credit(derived_id("CR", p), account["id"], cents(amount), reason)
        return completed({"id": credit["id"], "amount": credit["taxIncludedAmount"],
                          "billingAccountId": account["id"]})
