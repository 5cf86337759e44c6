"""Memory per open request, active and passivated, and the status latency of each.

    .venv/bin/python -m bench.memory                     # 100,000 open requests: about 4 minutes here
    .venv/bin/python -m bench.memory --requests 20000    # a quick look

Two runs, each a fresh local Ray and a fresh data directory, 2 request hosts as by default:

  active       passivation off: every open request stays in its host's memory
  passivated   passivation after 0.05 s idle: hosts keep only what wakes requests (a heap entry
               for the earliest timer)

Each run creates ``--requests`` inquiries that go straight to a CSR queue (``selfService =
"never"``: held, open, with running SLA timers), through the router in batches of 1,000 as a
campaign would, and reads the hosts' resident memory (VmRSS from /proc) before and after; the
difference divided by the number of requests is the memory per request. Then it times status
queries (one Ray call to the request's host, as the gateway makes it) over ``--samples`` distinct
requests chosen at random: in the active run each answers from memory; in the passivated run each
query reactivates its request from the journal (the first query of a passivated request). Prints
one markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import ray

from routing.client import RuntimeClient
from routing.config import Settings
from routing.models import RequestCreate
from routing.runtime import Runtime
from routing.table import DEFAULT_TABLE

BATCH = 1000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def body(n: int) -> str:
    return RequestCreate(requestType="inquiry", direction="inbound", channel="web",
                         relatedParty=[{"id": f"CUST-{n % 1000 + 4:06d}", "role": "customer"}],
                         description=f"Question number {n}: do you deliver garden gnomes?").model_dump_json()


async def create(client: RuntimeClient, n: int) -> tuple[list[str], float]:
    ids: list[str] = []
    started = time.perf_counter()
    for first in range(0, n, BATCH):
        answers = await client.router.create_many.remote(
            [(body(i), None, "bench") for i in range(first, min(n, first + BATCH))])
        for a in answers:
            if isinstance(a, Exception):
                raise a
            ids.append(a[1])
    return ids, time.perf_counter() - started


async def settle(client: RuntimeClient, expected: int, timeout: float = 600) -> None:
    """Until every request is held (its first step journaled) and the hosts are idle."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = (await client.snapshot())["byStatus"]
        if counts.get("held", 0) >= expected:
            return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"not all held after {timeout}s: {counts}")


async def latencies(client: RuntimeClient, ids: list[str], samples: int) -> list[float]:
    out = []
    for rid in random.Random(7).sample(ids, min(samples, len(ids))):
        t = time.perf_counter()
        json.loads(await client.status(rid))
        out.append((time.perf_counter() - t) * 1000)
    return sorted(out)


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


async def one_run(label: str, n: int, samples: int, passivate_after: float) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"sb-mem-{label}-"))
    table_path = work / "routing.toml"
    text = DEFAULT_TABLE.read_text()
    assert "[requestTypes.inquiry]\n" in text
    table_path.write_text(text.replace("[requestTypes.inquiry]\n", '[requestTypes.inquiry]\nselfService = "never"\n'))
    settings = Settings(data_dir=work, namespace=f"mem-{label}", hosts=2, demo_customers=1000, dashboard=False,
                        routing_table=table_path, passivate_after=passivate_after)
    ray.init(num_cpus=2, include_dashboard=False, namespace=settings.namespace, log_to_driver=False)
    runtime = Runtime(settings).start()
    try:
        client = RuntimeClient(settings)
        pongs = [await h.ping.remote() for h in client.hosts]
        pids = [p["pid"] for p in pongs]
        warm, _ = await create(client, 200)  # imports, caches and pools warmed before the baseline
        await settle(client, 200)
        before = sum(rss_mb(p) for p in pids)
        ids, seconds = await create(client, n)
        await settle(client, n + 200)
        await asyncio.sleep(2 * max(passivate_after, 0.5))
        after = sum(rss_mb(p) for p in pids)
        pongs = [await h.ping.remote() for h in client.hosts]
        lat = await latencies(client, ids, samples)
        return {"label": label, "requests": n, "create_s": seconds, "rss_before_mb": before, "rss_after_mb": after,
                "per_request_bytes": (after - before) * 1024 * 1024 / n,
                "active": sum(p["active"] for p in pongs), "passivated": sum(p["passivated"] for p in pongs),
                "p50_ms": statistics.median(lat), "p99_ms": pct(lat, 99), "samples": len(lat)}
    finally:
        runtime.stop()
        ray.shutdown()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=2000, help="status queries timed per run")
    ap.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = ap.parse_args()
    runs = [asyncio.run(one_run("active", args.requests, args.samples, 0.0)),
            asyncio.run(one_run("passivated", args.requests, args.samples, 0.05))]
    print(f"\n{args.requests:,} open requests (held inquiries), 2 request hosts\n")
    print("| run | in host memory | passivated | host RSS before → after | memory per request | "
          "creates/s | status p50 ms | status p99 ms |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    for r in runs:
        print(f"| {r['label']} | {r['active']:,} | {r['passivated']:,} | {r['rss_before_mb']:,.0f} → "
              f"{r['rss_after_mb']:,.0f} MB | {r['per_request_bytes'] / 1024:,.2f} KB | "
              f"{r['requests'] / r['create_s']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} |")
    a, p = runs
    print(f"\nstatus of a passivated request / an active one: p50 {p['p50_ms'] / a['p50_ms']:.2f}x, "
          f"p99 {p['p99_ms'] / a['p99_ms']:.2f}x; memory per request active / passivated: "
          f"{a['per_request_bytes'] / max(p['per_request_bytes'], 1):.0f}x")
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
