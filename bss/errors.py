"""Errors raised by every ``Bss`` implementation, the same for SQLite and HTTP.

Reads of one object return ``None`` when it does not exist; writes raise:

- ``NotFoundInBss``: a referenced object is missing (billing account, quote, cart, party...).
- ``InvalidForBss``: the input can never succeed (unknown offering, amount <= 0, bad state name).
- ``ConflictInBss``: the input does not fit the current state (accepting a rejected quote, an id
  already used by another kind of record, a cart already ordered under another order id).
- ``BssUnavailable``: the BSS could not be reached or failed (HTTP transport error, 5xx);
  a technical failure, worth retrying with the same id.

``code`` names the class; the TMF stand-in sends it as the TMF ``Error.code`` so that ``HttpBss``
raises the same class as ``SqliteBss`` would.
"""

from __future__ import annotations


class BssError(Exception):
    code = "BssError"
    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFoundInBss(BssError):
    code = "NotFoundInBss"
    status = 404


class InvalidForBss(BssError):
    code = "InvalidForBss"
    status = 400


class ConflictInBss(InvalidForBss):
    code = "ConflictInBss"
    status = 409


class BssUnavailable(BssError):
    code = "BssUnavailable"
    status = 503


BY_CODE: dict[str, type[BssError]] = {
    cls.code: cls for cls in (BssError, NotFoundInBss, InvalidForBss, ConflictInBss, BssUnavailable)
}
