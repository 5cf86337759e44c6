"""Names of the runtime's Ray actors, and lookup by name (so a restarted actor finds its peers
without constructor arguments held in the object store)."""

from __future__ import annotations

import time
from typing import Any

import ray

from .batching import Batcher

ROUTER = "router"
WEBHOOKS = "webhooks"


def host_name(index: int) -> str:
    return f"request-host-{index}"


def process_name(kind: str, index: int) -> str:
    return f"process-{kind}-{index}"


def dedicated_name(request_id: str) -> str:
    return f"request-{request_id}"


def lookup(name: str, namespace: str, timeout: float = 30.0) -> Any:
    """The named actor; waits a little for one that is being created."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return ray.get_actor(name, namespace=namespace)
        except ValueError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def processes(replicas: dict[str, int], namespace: str) -> dict[str, list[Batcher]]:
    """Per process kind, a batcher per replica: the activities a host sends it travel together."""
    def batcher(handle: Any) -> Batcher:
        return Batcher(handle.run_many.remote)
    return {kind: [batcher(lookup(process_name(kind, n), namespace)) for n in range(count)]
            for kind, count in replicas.items()}
