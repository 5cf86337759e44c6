"""The reference BSS: the customer, billing and catalogue data the fulfilment processes act on.

Embedded default: one SQLite file beside the journal, filled by the deterministic demo generator
in ``bss.demo``. Process actors read it through ``BssStore`` only.
"""
