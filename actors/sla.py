"""Service levels: a request's SLA clock, as pure functions of its state and its type's policy.

Each request keeps its own clock (``RequestState.sla``) and its own timers (``sla.<target>.<kind>``
in ``RequestState.timers``), armed and fired by its actor like any other timer: no periodic scan of
all requests. Two targets: **response** (met when the request is taken up: a process starts work
on it, or a CSR claims it) and **resolution** (met when it is resolved). The clock stops in the
policy's ``pauseIn`` statuses (``pending`` by default) and while the request is resolved; leaving
a pause moves the open due dates later by the time paused.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .models import FINAL_STATUSES, Sla, Status
from .policy import SlaAction, SlaPolicy

RESPONSE, RESOLUTION = "response", "resolution"
WARNING, BREACH = "warning", "breach"
PREFIX = "sla."


def timer_name(target: str, kind: str) -> str:
    return f"{PREFIX}{target}.{kind}"


def parse_timer(name: str) -> tuple[str, str]:
    """``sla.response.warning`` -> ``("response", "warning")``."""
    _, target, kind = name.split(".")
    return target, kind


def start(policy: SlaPolicy, name: str, priority: int, now: datetime) -> Sla:
    t = policy.targets(priority)
    return Sla(policy=name, responseMinutes=t.responseMinutes, resolutionMinutes=t.resolutionMinutes,
               responseDue=now + timedelta(minutes=t.responseMinutes),
               resolutionDue=now + timedelta(minutes=t.resolutionMinutes))


def stopped(policy: SlaPolicy, status: Status) -> bool:
    return status in FINAL_STATUSES or status == Status.resolved or status in policy.pauseIn


def _open(sla: Sla) -> list[tuple[str, datetime, float]]:
    """The targets not met yet: ``(target, due, minutes)``."""
    out = []
    if sla.respondedAt is None and sla.responseDue is not None:
        out.append((RESPONSE, sla.responseDue, sla.responseMinutes))
    if sla.resolvedAt is None and sla.resolutionDue is not None:
        out.append((RESOLUTION, sla.resolutionDue, sla.resolutionMinutes))
    return out


def sync(sla: Sla, policy: SlaPolicy, status: Status, now: datetime) -> dict[str, datetime]:
    """Bring the clock up to date with the request's status (stop it, or restart it and move the
    open due dates by the pause), refresh ``timeLeft``, and answer the SLA timers the request needs
    now (none while the clock is stopped)."""
    if stopped(policy, status):
        if sla.pausedSince is None:
            sla.pausedSince = now
    elif sla.pausedSince is not None:
        shift = now - sla.pausedSince
        sla.pausedSeconds += shift.total_seconds()
        sla.pausedSince = None
        if sla.respondedAt is None and sla.responseDue is not None:
            sla.responseDue += shift
        if sla.resolvedAt is None and sla.resolutionDue is not None:
            sla.resolutionDue += shift
    refresh(sla, now)
    if sla.pausedSince is not None:
        return {}
    timers: dict[str, datetime] = {}
    for target, due, minutes in _open(sla):
        if target in sla.breached:
            continue
        if target not in sla.warned:
            timers[timer_name(target, WARNING)] = due - timedelta(minutes=minutes * (1 - policy.warnAt))
        timers[timer_name(target, BREACH)] = due
    return timers


def refresh(sla: Sla, now: datetime) -> None:
    """Seconds left per open target, as of ``now`` (frozen while the clock is stopped)."""
    at = sla.pausedSince or now
    sla.timeLeft = {target: round((due - at).total_seconds(), 3) for target, due, _ in _open(sla)}


def running(sla: Sla | None) -> bool:
    """Whether the time left changes as time passes (the status answer then recomputes it)."""
    return sla is not None and sla.pausedSince is None and bool(sla.timeLeft)


def fire(sla: Sla, policy: SlaPolicy, name: str) -> tuple[str, str, SlaAction] | None:
    """A timer of the clock fired: ``(event type, target, action)`` to apply, or None when the
    target was met or already reported meanwhile."""
    target, kind = parse_timer(name)
    if target not in {t for t, _, _ in _open(sla)} or target in sla.breached:
        return None
    if kind == WARNING:
        if target in sla.warned:
            return None
        sla.warned.append(target)
        return "slaWarning", target, policy.onWarning
    if target not in sla.warned:
        sla.warned.append(target)  # a breach found late (after a passivation) implies the warning
    sla.breached.append(target)
    return "slaBreached", target, policy.onBreach
