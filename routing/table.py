"""The routing table: request type -> process kind, self-service rule, placement, SLA policy.

Loaded from TOML (``routing/routing.toml`` is the embedded default) and validated with pydantic, so
a wrong table fails at start-up naming the field, never at the first request.
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from actors.models import Direction
from actors.policy import Placement, RetryPolicy, SlaPolicy, TypePolicy

DEFAULT_TABLE = Path(__file__).with_name("routing.toml")


class SelfService(StrEnum):
    always = "always"
    never = "never"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProcessConfig(Strict):
    replicas: int = Field(1, ge=1, le=64)
    retry: RetryPolicy | None = None  # for activities of this kind; else the request type's `retry`


class RequestTypeConfig(Strict):
    description: str = ""
    process: str
    directions: list[Direction] = Field(default_factory=lambda: [Direction.inbound])
    requiredCharacteristics: list[str] = Field(default_factory=list)
    selfService: SelfService = SelfService.always
    placement: Placement = Placement.hosted
    rules: dict[str, str | int | float | bool] = Field(default_factory=dict)
    slaPolicy: str
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    claimMinutes: float = Field(30, gt=0)
    confirmationMinutes: float = Field(4320, gt=0, description="A resolved request closes when the customer "
                                       "has neither confirmed nor reopened it within this long.")


class RoutingTable(Strict):
    processes: dict[str, ProcessConfig]
    slaPolicies: dict[str, SlaPolicy]
    requestTypes: dict[str, RequestTypeConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_exist(self) -> RoutingTable:
        from actors.flows import FLOWS, Flow
        from actors.processes import PROCESSES

        for name in self.processes:
            if name not in PROCESSES:
                raise ValueError(f"processes.{name}: no such process kind (known: {', '.join(sorted(PROCESSES))})")
        for name, rt in self.requestTypes.items():
            if rt.process not in self.processes:
                raise ValueError(f"requestTypes.{name}.process: {rt.process!r} is not in [processes]")
            if rt.slaPolicy not in self.slaPolicies:
                raise ValueError(f"requestTypes.{name}.slaPolicy: {rt.slaPolicy!r} is not in [slaPolicies]")
        for name, sp in self.slaPolicies.items():
            wrong = [p for p in sp.byPriority if not 1 <= p <= 5]
            if wrong:
                raise ValueError(f"slaPolicies.{name}.byPriority: priorities are 1..5, not {wrong}")
            missing = FLOWS.get(name, Flow).uses - set(self.processes)
            if missing:
                raise ValueError(f"requestTypes.{name}: its flow needs the processes {', '.join(sorted(missing))}")
        return self

    def policies(self) -> dict[str, TypePolicy]:
        """The per-type view the request actors get."""
        return {
            name: TypePolicy(
                requestType=name, process=rt.process, placement=rt.placement, retry=rt.retry, rules=rt.rules,
                selfService=rt.selfService == SelfService.always, claimMinutes=rt.claimMinutes,
                slaName=rt.slaPolicy, sla=self.slaPolicies[rt.slaPolicy], confirmationMinutes=rt.confirmationMinutes,
                processRetry={kind: p.retry for kind, p in self.processes.items() if p.retry is not None},
            )
            for name, rt in self.requestTypes.items()
        }

    @classmethod
    def load(cls, path: str | Path | None = None) -> RoutingTable:
        with open(path or DEFAULT_TABLE, "rb") as f:
            return cls.model_validate(tomllib.load(f))
