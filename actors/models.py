"""The request's state: one pydantic model that is journaled, rehydrated and returned by status."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, WrapValidator

Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$")]
ShortText = Annotated[str, StringConstraints(max_length=256)]
LongText = Annotated[str, StringConstraints(max_length=4000)]


def _one_scalar_error(value: Any, handler: Any) -> Any:
    try:
        return handler(value)
    except ValidationError:  # one message, not one per branch of the union
        raise ValueError("must be a string, number, boolean or null") from None


Scalar = Annotated[str | int | float | bool | None, WrapValidator(_one_scalar_error)]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Status(StrEnum):
    acknowledged = "acknowledged"
    rejected = "rejected"
    in_progress = "inProgress"
    pending = "pending"
    held = "held"
    resolved = "resolved"
    cancelled = "cancelled"
    closed = "closed"


FINAL_STATUSES = frozenset({Status.rejected, Status.cancelled, Status.closed})


class Direction(StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class Channel(StrEnum):
    web = "web"
    mobile = "mobile"
    ivr = "ivr"
    chat = "chat"
    email = "email"
    retail = "retail"
    partner = "partner"
    campaign = "campaign"
    csr = "csr"


class PartyRole(StrEnum):
    customer = "customer"
    prospect = "prospect"


class ActivityStatus(StrEnum):
    pending = "pending"
    running = "running"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


TERMINAL_ACTIVITY = frozenset({ActivityStatus.completed, ActivityStatus.failed, ActivityStatus.cancelled})


_TRUSTED_DEFAULTS: dict[type, dict[str, Any]] = {}


class Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    @classmethod
    def trusted(cls, **values: Any) -> Any:
        """An instance from values known valid (built by this code from validated input), not
        validated again: what ``model_construct`` does, without its per-call look at each default
        (it costs more than validating). Every field with a default factory must be given."""
        defaults = _TRUSTED_DEFAULTS.get(cls)
        if defaults is None:
            defaults = _TRUSTED_DEFAULTS[cls] = {name: f.default for name, f in cls.model_fields.items()
                                                 if f.default_factory is None and not f.is_required()}
        m = cls.__new__(cls)
        merged = defaults | values
        # In the fields' order: a dump follows the instance's order, and a request's JSON keeps
        # ``sla`` last (see RequestActor.status_json).
        object.__setattr__(m, "__dict__", {name: merged[name] for name in cls.model_fields})
        object.__setattr__(m, "__pydantic_fields_set__", set(values))
        object.__setattr__(m, "__pydantic_extra__", None)
        object.__setattr__(m, "__pydantic_private__", None)
        return m


class RelatedParty(Model):
    id: Id
    role: PartyRole = PartyRole.customer
    name: ShortText | None = None


class Activity(Model):
    id: str
    kind: str
    process: str
    input: dict[str, Any] = Field(default_factory=dict)
    status: ActivityStatus = ActivityStatus.pending
    attempts: int = 0
    createdAt: datetime = Field(default_factory=utcnow)
    startedAt: datetime | None = None
    endedAt: datetime | None = None
    result: dict[str, Any] | None = None
    error: str | None = None


class TimelineEntry(Model):
    at: datetime = Field(default_factory=utcnow)
    event: str
    actor: str
    fromStatus: Status | None = None
    toStatus: Status | None = None
    reason: str | None = None


class Sla(Model):
    """The request's service-level clock: due dates, and what happened to them. The clock stops
    while the request is paused (pending, resolved): leaving a pause moves open due dates later by
    the time paused."""

    policy: str
    responseMinutes: float = Field(description="The response target of the policy at the request's priority.")
    resolutionMinutes: float
    responseDue: datetime | None = Field(None, description="Due date of the response (taken up).")
    resolutionDue: datetime | None = Field(None, description="Due date of the resolution.")
    respondedAt: datetime | None = None
    resolvedAt: datetime | None = None
    pausedSince: datetime | None = Field(None, description="Set while the clock is stopped.")
    pausedSeconds: float = 0.0
    warned: list[str] = Field(default_factory=list, description="Targets warned about: response, resolution.")
    breached: list[str] = Field(default_factory=list, description="Targets missed: response, resolution.")
    escalatedTo: str | None = Field(None, description="The escalation queue the request was moved to.")
    timeLeft: dict[str, float] = Field(default_factory=dict, description="Seconds left per open target, "
                                       "as of the answer (negative once breached); empty when none is open.")


class RequestState(Model):
    """Everything one request is. Serialised whole into the journal's current-state row."""

    id: str
    href: str
    requestType: str
    direction: Direction
    channel: Channel
    relatedParty: list[RelatedParty]
    description: str | None = None
    characteristics: dict[str, Scalar] = Field(default_factory=dict)
    priority: int = 3
    status: Status = Status.acknowledged
    statusReason: str | None = None
    placement: str = "hosted"
    process: str
    activities: list[Activity] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    result: dict[str, Any] | None = None
    resolution: str | None = Field(None, description="How the request was resolved (a code).")
    queue: str | None = Field(None, description="The CSR queue (skill) of a held request.")
    assignee: str | None = Field(None, description="The CSR who claimed the request.")
    claimExpiresAt: datetime | None = None
    timers: dict[str, datetime] = Field(default_factory=dict, description="Named timers and when they fire.")
    references: list[dict[str, str]] = Field(default_factory=list)
    idempotencyKey: str | None = None
    externalId: str | None = None
    campaignId: str | None = None
    creationDate: datetime = Field(default_factory=utcnow)
    lastUpdate: datetime = Field(default_factory=utcnow)
    closedAt: datetime | None = Field(None, description="When the request was closed (or cancelled, rejected).")
    interaction: dict[str, Any] | None = Field(None, description="The TMF683 PartyInteraction attributes that "
                                               "have no native counterpart, as the TMF683 API received them "
                                               "(docs/tmf683.md); null for a request created natively.")
    hidden: bool = Field(False, description="Deleted through the TMF683 API: hidden there, kept in the journal.")
    sla: Sla | None = Field(None, description="Service-level due dates and time left (kept last: the "
                            "status answer refreshes it).")

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def party_id(self) -> str | None:
        return self.relatedParty[0].id if self.relatedParty else None
