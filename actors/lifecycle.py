"""The lifecycle table of DESIGN.md, in one place. Every status change goes through ``check``."""

from __future__ import annotations

from .errors import InvalidTransition
from .models import Status

S = Status

TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.acknowledged: frozenset({S.in_progress, S.rejected, S.cancelled}),
    S.in_progress: frozenset({S.pending, S.held, S.resolved, S.cancelled}),
    S.pending: frozenset({S.in_progress, S.resolved, S.cancelled}),
    S.held: frozenset({S.in_progress, S.resolved, S.cancelled}),
    S.resolved: frozenset({S.closed, S.in_progress}),
    S.rejected: frozenset(),
    S.cancelled: frozenset(),
    S.closed: frozenset(),
}


def allowed(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


def check(request_id: str, current: Status, target: Status) -> None:
    """Raise ``InvalidTransition`` unless ``current -> target`` is in the table."""
    if not allowed(current, target):
        permitted = ", ".join(sorted(TRANSITIONS[current])) or "none (final)"
        raise InvalidTransition(
            f"request {request_id} is {current}; it cannot become {target} (allowed: {permitted})",
            "status",
        )
