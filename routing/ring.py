"""Consistent hashing from request id to host shard, shared by the router and the gateway.

Each host owns many points on a ring; a request belongs to the first point at or after the hash of
its id. Adding a host moves only about 1/N of the ids.
"""

from __future__ import annotations

import bisect
import hashlib


def _point(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


class HashRing:
    def __init__(self, hosts: int, vnodes: int = 128):
        if hosts < 1:
            raise ValueError("a ring needs at least one host")
        self.hosts = hosts
        points = sorted((_point(f"request-host-{h}#{v}"), h) for h in range(hosts) for v in range(vnodes))
        self._keys = [p for p, _ in points]
        self._owners = [h for _, h in points]

    def host_for(self, request_id: str) -> int:
        i = bisect.bisect_left(self._keys, _point(request_id))
        return self._owners[i % len(self._owners)]
