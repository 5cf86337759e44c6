"""What a request actor needs to know about its request type, as configured in the routing table."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .models import Status


class Placement(StrEnum):
    hosted = "hosted"  # a plain object inside a RequestHost shard (the default)
    dedicated = "dedicated"  # its own named Ray actor, request-<id>


class RetryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    maxAttempts: int = Field(3, ge=1, le=20)
    initialBackoffSeconds: float = Field(0.2, ge=0, le=3600)
    backoffMultiplier: float = Field(2.0, ge=1, le=10)
    maxBackoffSeconds: float = Field(30.0, ge=0, le=86400)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt + 1`` (attempts count from 1)."""
        return min(self.initialBackoffSeconds * self.backoffMultiplier ** (attempt - 1), self.maxBackoffSeconds)


class SlaAction(BaseModel):
    """What a request does when an SLA clock reaches a threshold."""

    model_config = ConfigDict(extra="forbid")
    raisePriority: bool = False  # priority one step up (1 is the highest)
    escalateTo: str | None = Field(None, min_length=1, max_length=64,
                                   description="The CSR queue (a skill) the request moves to.")


class SlaTargets(BaseModel):
    model_config = ConfigDict(extra="forbid")
    responseMinutes: float = Field(gt=0, description="Until the request is taken up: a process starts "
                                   "work on it, or a CSR claims it.")
    resolutionMinutes: float = Field(gt=0, description="Until the request is resolved.")


class SlaPolicy(SlaTargets):
    """Service levels of a request type: targets (per priority if given), when the clock pauses,
    when to warn, and what warning and breach do."""

    byPriority: dict[int, SlaTargets] = Field(default_factory=dict, description="Targets for priority 1..5, "
                                              "over the policy's own.")
    warnAt: float = Field(0.8, gt=0, lt=1, description="Fraction of a target elapsed that raises slaWarning.")
    pauseIn: list[Status] = Field(default_factory=lambda: [Status.pending], description="Statuses in which the "
                               "clock stops (besides resolved, which stops it until a reopen).")
    onWarning: SlaAction = Field(default_factory=SlaAction)
    onBreach: SlaAction = Field(default_factory=lambda: SlaAction(raisePriority=True))

    def targets(self, priority: int) -> SlaTargets:
        return self.byPriority.get(priority, self)


class TypePolicy(BaseModel):
    """One request type's row of the routing table, as the request actor sees it."""

    model_config = ConfigDict(extra="forbid")
    requestType: str
    process: str
    placement: Placement = Placement.hosted
    selfService: bool = True  # False: the request goes straight to a CSR queue
    rules: dict[str, Any] = Field(default_factory=dict)  # the type's self-service rules, read by its flow
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    processRetry: dict[str, RetryPolicy] = Field(default_factory=dict)  # per process kind, over `retry`
    claimMinutes: float = Field(30, gt=0)  # a CSR's claim expires when not worked for this long
    slaName: str | None = None
    sla: SlaPolicy | None = None
    confirmationMinutes: float = Field(4320, gt=0)  # resolved -> closed without the customer's word

    def retry_for(self, process: str) -> RetryPolicy:
        """The retry policy of an activity run by this process kind."""
        return self.processRetry.get(process, self.retry)
