"""The fixed reference data of the demo BSS: catalogue, charge specs, knowledge base, CSRs.

Everything here is written as is by ``bss.demo.generate``; ids are stable (see ``bss.demo``).
Amounts are in cents, tax included.
"""

from __future__ import annotations

# id, name, description, category, fails in fulfilment, [(price id, name, priceType, period, cents)]
OFFERINGS = [
    ("PO-FIBRE-500", "Fibre 500", "Home fibre broadband, 500 Mbit/s", "internet", False,
     [("POP-FIBRE-500-M", "Fibre 500 monthly fee", "recurring", "month", 3500),
      ("POP-FIBRE-500-I", "Fibre installation", "oneTime", None, 4900)]),
    ("PO-FIBRE-1000", "Fibre 1000", "Home fibre broadband, 1 Gbit/s", "internet", False,
     [("POP-FIBRE-1000-M", "Fibre 1000 monthly fee", "recurring", "month", 5500),
      ("POP-FIBRE-1000-I", "Fibre installation", "oneTime", None, 4900)]),
    ("PO-MOBILE-10GB", "Mobile 10 GB", "Mobile plan, unlimited calls, 10 GB of data", "mobile", False,
     [("POP-MOBILE-10GB-M", "Mobile 10 GB monthly fee", "recurring", "month", 1500),
      ("POP-MOBILE-10GB-S", "SIM card", "oneTime", None, 500)]),
    ("PO-MOBILE-UNL", "Mobile Unlimited", "Mobile plan, unlimited calls and data", "mobile", False,
     [("POP-MOBILE-UNL-M", "Mobile Unlimited monthly fee", "recurring", "month", 3000),
      ("POP-MOBILE-UNL-S", "SIM card", "oneTime", None, 500)]),
    ("PO-TV-BASIC", "TV Basic", "60 TV channels on the set-top box", "tv", False,
     [("POP-TV-BASIC-M", "TV Basic monthly fee", "recurring", "month", 1250)]),
    ("PO-ROUTER-WIFI6", "Wi-Fi 6 router", "A Wi-Fi 6 router, bought outright", "device", False,
     [("POP-ROUTER-WIFI6", "Wi-Fi 6 router", "oneTime", None, 12000)]),
    ("PO-ROAM-PASS", "World roaming pass", "7 days of roaming data outside the EU", "mobile", False,
     [("POP-ROAM-PASS", "World roaming pass", "oneTime", None, 990)]),
    # Orders of this one always end `failed` at the inProgress step: for tests and demos of
    # order failure (the request goes to a CSR).
    ("PO-DSL-LEGACY", "Legacy DSL 20", "Copper DSL, 20 Mbit/s (withdrawn: fulfilment always fails)", "internet", True,
     [("POP-DSL-LEGACY-M", "DSL monthly fee", "recurring", "month", 2500)]),
]

PLANS = [o[0] for o in OFFERINGS if o[3] in ("internet", "mobile") and not o[4] and o[5][0][2] == "recurring"]

# id, name (the FinancialChargeSpec name processes use), description, cents.
# lateFee goes with the final dunning notice; reconnectionFee with the end of a suspension.
CHARGE_SPECS = [
    ("FCS-LATE-FEE", "lateFee", "Late payment fee", 1000),
    ("FCS-RECONNECTION-FEE", "reconnectionFee", "Reconnection fee", 2500),
]

# id, title, answer, keywords
KB_ARTICLES = [
    ("KB-001", "Roaming abroad: how to activate it and what it costs",
     "Roaming is on by default in the EU at no extra cost. Outside the EU, buy a world roaming pass in the "
     "app (9.90 EUR for 7 days) before you travel; without it data abroad is charged per MB.",
     "roaming abroad cost costs price travel travelling trip holiday country countries foreign international eu outside data"),
    ("KB-002", "Reset your password",
     "Open the login page, choose 'Forgot password' and enter your email: a reset link valid for one hour "
     "arrives by email. In the app, use Settings > Security > Change password.",
     "password reset forgot forgotten login log sign credentials locked account access link"),
    ("KB-003", "Understanding your invoice",
     "Your invoice shows the monthly fees for the current month, usage (calls, data, roaming) for the "
     "previous month, one-off charges such as equipment, and fees such as a late payment fee. A first "
     "invoice is higher because it includes a partial month.",
     "invoice bill explain explanation understand line lines charges charged amount higher why month statement"),
    ("KB-004", "Ways to pay and direct debit",
     "Pay by card in the app, by bank transfer, or set up direct debit so the invoice is paid on its due date.",
     "pay payment paying method card direct debit transfer bank due date automatic"),
    ("KB-005", "Late payment, reminders and the late fee",
     "If an invoice is not paid by its due date you receive a reminder; after 30 days a final notice with a "
     "10.00 EUR late fee; after 60 days the service may be suspended. You can ask for a payment plan.",
     "late overdue reminder fee dunning unpaid suspension suspended promise plan debt arrears"),
    ("KB-006", "Moving house with your broadband",
     "Tell us your new address at least two weeks before you move; we check availability and book the "
     "technician. The installation fee is waived for moves.",
     "move moving house home address relocate relocation new broadband transfer"),
    ("KB-007", "SIM card, PIN and PUK codes",
     "Your PIN and PUK are on the card the SIM came on, and in the app under My SIM. Three wrong PINs lock "
     "the SIM; the PUK unlocks it. A replacement SIM costs 5.00 EUR.",
     "sim card pin puk code locked blocked replacement esim activate activation"),
    ("KB-008", "Slow or no internet connection",
     "Restart the router (unplug it for 30 seconds), check the cables, and run the line test in the app. "
     "If the line test fails, we open a fault ticket.",
     "slow internet connection broadband wifi wi-fi router down outage speed restart fault"),
]

# id, name, skills, queues
CSRS = [
    ("CSR-001", "Alice Martin", ("billing", "general"), ("billing", "general")),
    ("CSR-002", "Bruno Silva", ("sales", "orders"), ("sales", "orders")),
    ("CSR-003", "Chloe Dubois", ("collections", "general"), ("collections", "general")),
    ("CSR-004", "Dana Okafor", ("escalations",), ("escalations",)),
]
