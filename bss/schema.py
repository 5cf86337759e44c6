"""The SQLite schema of the reference BSS (one file, WAL).

Master data (customers, accounts, payments, invoices, catalogue, knowledge base, CSRs) are plain
columns. Documents that follow a TM Forum resource (quotes, carts, orders, messages) are kept as
their JSON in ``doc`` beside the columns that lookups and constraints need.
"""

SCHEMA_VERSION = "2"

SCHEMA = """
CREATE TABLE IF NOT EXISTS bss_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,              -- customer | prospect
    segment TEXT NOT NULL,           -- residential | business
    email TEXT,
    phone TEXT
);
CREATE TABLE IF NOT EXISTS billing_accounts (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    currency TEXT NOT NULL,
    balance_cents INTEGER NOT NULL,  -- amount owed; negative is a credit
    due_date TEXT,
    standing TEXT NOT NULL,          -- good | overdue | suspended
    dunning_stage INTEGER NOT NULL,  -- 0 none, 1 reminder, 2 final notice, 3 suspended, 4 collections
    days_overdue INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY,
    billing_account_id TEXT NOT NULL REFERENCES billing_accounts(id),
    paid_at TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    method TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS invoices (
    id TEXT PRIMARY KEY,
    billing_account_id TEXT NOT NULL REFERENCES billing_accounts(id),
    bill_no TEXT NOT NULL,
    bill_date TEXT NOT NULL,
    due_date TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    state TEXT NOT NULL,             -- TMF678 stateValue: sent | partiallyPaid | settled ...
    paid_cents INTEGER NOT NULL
);
-- Invoice lines, financial charges (late fee...) and credits: TMF678 AppliedCustomerBillingRate.
CREATE TABLE IF NOT EXISTS applied_rates (
    id TEXT PRIMARY KEY,
    billing_account_id TEXT NOT NULL REFERENCES billing_accounts(id),
    bill_id TEXT,                    -- NULL until billed
    type TEXT NOT NULL,              -- recurring | oneTime | usage | financialCharge | credit
    name TEXT NOT NULL,
    date TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,   -- tax included, always positive; `type` says credit or debit
    detail TEXT                      -- the charge spec name or the credit reason
);
CREATE TABLE IF NOT EXISTS promises (
    id TEXT PRIMARY KEY,
    billing_account_id TEXT NOT NULL REFERENCES billing_accounts(id),
    amount_cents INTEGER NOT NULL,
    due_date TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL              -- open | kept | broken
);
CREATE TABLE IF NOT EXISTS charge_specs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS offerings (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    fails_fulfilment INTEGER NOT NULL  -- 1: orders of it always end `failed` (demo)
);
CREATE TABLE IF NOT EXISTS offering_prices (
    id TEXT PRIMARY KEY,
    offering_id TEXT NOT NULL REFERENCES offerings(id),
    name TEXT NOT NULL,
    price_type TEXT NOT NULL,        -- recurring | oneTime
    period TEXT,                     -- month, for recurring prices
    amount_cents INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kb_articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    answer TEXT NOT NULL,
    keywords TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS csrs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    skills TEXT NOT NULL,            -- comma separated
    queues TEXT NOT NULL             -- comma separated
);
CREATE TABLE IF NOT EXISTS quotes (
    id TEXT PRIMARY KEY,
    party_id TEXT NOT NULL,
    state TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agreements (
    id TEXT PRIMARY KEY,
    quote_id TEXT NOT NULL UNIQUE REFERENCES quotes(id)
);
CREATE TABLE IF NOT EXISTS carts (
    id TEXT PRIMARY KEY,
    party_id TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    party_id TEXT NOT NULL,
    cart_id TEXT,                    -- a cart is ordered again only after its order failed
    state TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    party_id TEXT NOT NULL,
    doc TEXT NOT NULL
);
"""

# Created after a bulk load (faster than maintaining them row by row).
INDEXES = """
CREATE INDEX IF NOT EXISTS billing_accounts_customer ON billing_accounts(customer_id);
CREATE INDEX IF NOT EXISTS billing_accounts_overdue ON billing_accounts(days_overdue);
CREATE INDEX IF NOT EXISTS payments_account ON payments(billing_account_id, paid_at);
CREATE INDEX IF NOT EXISTS invoices_account ON invoices(billing_account_id, bill_date);
CREATE INDEX IF NOT EXISTS applied_rates_account ON applied_rates(billing_account_id, type);
CREATE INDEX IF NOT EXISTS applied_rates_bill ON applied_rates(bill_id);
CREATE INDEX IF NOT EXISTS messages_party ON messages(party_id);
"""
