"""What a request actor needs to know about its request type, as configured in the routing table."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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

    def retry_for(self, process: str) -> RetryPolicy:
        """The retry policy of an activity run by this process kind."""
        return self.processRetry.get(process, self.retry)
