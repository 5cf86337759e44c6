"""Coded domain errors raised by actors and routing; the gateway maps them to problem details.

Every error carries a stable ``code`` (dotted, e.g. ``request.invalid_transition``) and a human
``detail``. They are plain exceptions with positional ``args`` so they survive Ray's pickling and
arrive in the caller as the same class.
"""

from __future__ import annotations


class SwitchboardError(Exception):
    code = "switchboard.error"
    title = "Switchboard error"

    def __init__(self, detail: str, field: str | None = None):
        super().__init__(detail, field)
        self.detail = detail
        self.field = field

    def __str__(self) -> str:
        return self.detail


class NotFound(SwitchboardError):
    code = "request.not_found"
    title = "Not found"


class Conflict(SwitchboardError):
    code = "request.conflict"
    title = "Conflict"


class IdempotencyConflict(Conflict):
    code = "request.idempotency_conflict"
    title = "Idempotency key reused with another body"


class InvalidTransition(Conflict):
    code = "request.invalid_transition"
    title = "Invalid transition"


class Invalid(SwitchboardError):
    """Input that is well formed but not acceptable (unknown request type, missing characteristic)."""

    code = "request.invalid"
    title = "Invalid request"


class NotReady(SwitchboardError):
    code = "runtime.not_ready"
    title = "Runtime not ready"


class Overloaded(NotReady):
    """Too much waiting already (creates queued in the gateway, writes queued in a host's journal):
    the caller should retry after a moment. Nothing was done."""

    code = "runtime.overloaded"
    title = "Overloaded"


class TimedOut(SwitchboardError):
    """The runtime did not answer within the gateway's deadline (``SWITCHBOARD_CALL_TIMEOUT_SECONDS``).
    The detail says whether the call had left the gateway: if it had, what it asked may still be
    done (a create with an Idempotency-Key is safe to send again)."""

    code = "runtime.timeout"
    title = "Runtime did not answer in time"


class SubscriptionNotFound(NotFound):
    code = "hub.not_found"
    title = "No such subscription"


class DeadLetterNotFound(NotFound):
    code = "hub.dead_letter_not_found"
    title = "No such dead letter"
