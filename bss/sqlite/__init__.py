"""The parts of ``SqliteBss`` (``bss.store``), one module per role: the connection and transactions
(``db``), billing (``billing``), catalogue and sales (``sales``), contact: KB, CSRs, outbox
(``contact``)."""
