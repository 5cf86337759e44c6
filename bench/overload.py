"""Overload benchmark (issue 7, backpressure): more creates than the machine can take, for minutes;
what the clients get (201, 503 with Retry-After), whether every 201 is in the journal, and whether
the memory of the whole system stops growing.

    make bench-overload                                  # = .venv/bin/python -m bench.overload
    .venv/bin/python -m bench.overload --seconds 30      # a quick look

The issue: "when hosts or the journal fall behind, the gateway answers 429/503 with Retry-After
rather than queueing without bound; memory stays bounded under overload."

What it does:

1. Starts ``switchboard serve`` with ``make run``'s defaults but two: the demo channel key's rate
   limit is lifted (else every client would get 429 from its key's limit, which says nothing about
   the runtime), and ``SWITCHBOARD_MAX_READY`` is ``--max-ready`` (20,000 a host instead of
   500,000), so that a host's line of acknowledged requests waiting to be taken up reaches its
   bound within the run instead of after ten minutes. Both are said in the report.
2. Runs wrk with ``--connections`` (512) connections, each sending one create at a time
   (``bench/lua/overload.lua``: billing inquiries, every one a new request), for ``--seconds``
   (150). That is far more than the 2 cores can take: creates are answered at the journal's speed,
   fulfilment yields to the burst (at most 60 s), and the hosts' lines grow until they are full.
3. Every ``--sample-every`` seconds: the PSS of every process of the server's session (the sum is
   the memory of the whole system; the gateway and the hosts apart), and from ``/metrics`` the
   answers so far by status and the three backpressure gauges (``switchboard_creates_waiting``,
   ``switchboard_requests_ready``, ``switchboard_journal_backlog``).
4. After the load: the number of requests in the journal (``X-Total-Count``, admin key) against
   the 201s wrk counted. Every 201 must be there; the journal may hold a few more: creates that
   wrk's stop cut off after the server had taken them (at most one per connection).

Prints a timeline and a summary. Memory is "bounded" when the PSS of the last third of the run
grows by less than it did in the first third; the report gives both slopes.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.campaign import (
    ADMIN_KEY,
    GiB,
    MiB,
    git_commit,
    meminfo,
    snapshot,
    start_server,
)
from bench.run import LUA, guarded, have_wrk, log, run_wrk, stop_on_signals
from gateway.keystore import DEMO_KEYS

CHANNEL_KEY = next(token for token, role, _ in DEMO_KEYS if role == "channel")
CREATE_ROUTE = 'route="/api/v1/requests"'
GAUGES = ("switchboard_creates_waiting", "switchboard_requests_ready", "switchboard_journal_backlog",
          "switchboard_request_actors")


@dataclass
class Sample:
    t: float
    pss: int
    gateway_pss: int
    hosts_pss: int
    answers: dict[str, float]  # by status, from the latency histogram's counts of the create route
    gauges: dict[str, float]


@dataclass
class Watch:
    """Samples memory every ``every`` seconds in a thread, and /metrics in another as often as it
    answers (at most every ``every`` seconds: under overload a scrape waits its turn with the
    creates); each memory sample carries the last /metrics reading."""
    url: str
    sid: int
    gateway_pid: int
    every: float
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _t0: float = 0.0
    _metrics: tuple[dict[str, float], dict[str, float]] = ({}, {})

    def take(self) -> Sample:
        snap = snapshot({self.sid})
        hosts = sum(p.pss for p in snap.values() if "request-host" in p.name or "RequestHost" in p.name)
        gateway = snap[self.gateway_pid].pss if self.gateway_pid in snap else 0
        return Sample(time.monotonic() - self._t0, sum(p.pss for p in snap.values()), gateway, hosts, *self._metrics)

    def scrape(self) -> None:
        answers: dict[str, float] = {}
        gauges: dict[str, float] = {}
        try:
            text = httpx.get(self.url + "/metrics", timeout=20).text
            for line in text.splitlines():
                if line.startswith("switchboard_http_request_duration_seconds_count{") and CREATE_ROUTE in line \
                        and 'method="POST"' in line:
                    status = re.search(r'status="(\d+)"', line).group(1)
                    answers[status] = answers.get(status, 0.0) + float(line.rsplit(" ", 1)[1])
                elif line.split(" ", 1)[0] in GAUGES:
                    gauges[line.split(" ", 1)[0]] = float(line.rsplit(" ", 1)[1])
            self._metrics = (answers, gauges)
        except httpx.HTTPError as exc:
            log(f"/metrics did not answer: {exc}")

    def _memory_loop(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(self.take())

    def _metrics_loop(self) -> None:
        while True:
            t = time.monotonic()
            self.scrape()
            if self._stop.wait(max(0.0, self.every - (time.monotonic() - t))):
                return

    def start(self) -> None:
        self._t0 = time.monotonic()
        self.scrape()
        self.samples.append(self.take())
        for loop in (self._memory_loop, self._metrics_loop):
            self._threads.append(threading.Thread(target=loop, name=loop.__name__, daemon=True))
            self._threads[-1].start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()


def overload(url: str, connections: int, seconds: float, timeout: float) -> tuple[dict, dict]:
    """wrk's numbers, and its answers by status."""
    stats = run_wrk(["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", f"--timeout={timeout:g}s",
                     "-H", f"Authorization: Bearer {CHANNEL_KEY}", "-s", str(LUA / "overload.lua"), url], seconds)
    return stats, stats.pop("statuses")


def journal_total(url: str) -> int:
    r = httpx.get(url + "/api/v1/requests", params={"limit": 1}, headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                  timeout=60)
    r.raise_for_status()
    return int(r.headers["X-Total-Count"])


def slope(samples: list[Sample], lo: float, hi: float) -> float:
    """PSS growth in MiB per minute between the samples nearest ``lo`` and ``hi`` seconds."""
    a = min(samples, key=lambda s: abs(s.t - lo))
    b = min(samples, key=lambda s: abs(s.t - hi))
    return (b.pss - a.pss) / MiB / max(b.t - a.t, 1e-9) * 60


def report(args: argparse.Namespace, commit: str, idle_pss: int, watch: Watch, stats: dict, statuses: dict,
           in_journal: int, settings: dict[str, str]) -> str:
    s = watch.samples
    out = [f"## Overload: {args.connections} connections for {args.seconds:g} s (commit {commit})", "",
           f"Machine: {os.cpu_count()} CPUs, {meminfo('MemTotal') / GiB:.1f} GiB. Settings changed from make run's "
           "defaults: " + ", ".join(f"{k}={v}" for k, v in settings.items()) + ".", "",
           "| t (s) | 201 so far | 503 so far | 201/s since last | creates waiting (gateway) | ready (hosts) "
           "| journal backlog | request actors in memory | PSS whole system | gateway | hosts |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    shown = [x for i, x in enumerate(s) if i == 0 or i == len(s) - 1 or i % max(1, round(10 / args.sample_every)) == 0]
    prev = None
    for x in shown:
        rate = "" if prev is None else f"{(x.answers.get('201', 0) - prev.answers.get('201', 0)) / (x.t - prev.t):,.0f}"
        out.append(f"| {x.t:.0f} | {x.answers.get('201', 0):,.0f} | {x.answers.get('503', 0):,.0f} | {rate} "
                   f"| {x.gauges.get(GAUGES[0], 0):,.0f} | {x.gauges.get(GAUGES[1], 0):,.0f} "
                   f"| {x.gauges.get(GAUGES[2], 0):,.0f} | {x.gauges.get(GAUGES[3], 0):,.0f} | {x.pss / MiB:,.0f} MiB | {x.gateway_pss / MiB:,.0f} MiB "
                   f"| {x.hosts_pss / MiB:,.0f} MiB |")
        prev = x
    total = sum(statuses.values())
    third = args.seconds / 3
    first_slope, last_slope = slope(s, 0, third), slope(s, 2 * third, args.seconds)
    peak = max(s, key=lambda x: x.pss)
    ok_journal = in_journal >= statuses["201"] and in_journal - statuses["201"] <= args.connections
    out += ["", "| what | value |", "|---|---:|",
            f"| answers (wrk) | {total:,}: 201 {statuses['201']:,}, 503 {statuses['503']:,}, 429 {statuses['429']:,}, "
            f"other {statuses['other']:,} |",
            f"| 201 per second | {statuses['201'] / args.seconds:,.0f} |",
            f"| latency of all answers p50 / p99 / max | {stats['p50_us'] / 1000:,.0f} / {stats['p99_us'] / 1000:,.0f} "
            f"/ {stats['max_us'] / 1000:,.0f} ms |",
            f"| socket errors (connect/read/write/timeout) | {stats['err_connect']}/{stats['err_read']}/"
            f"{stats['err_write']}/{stats['err_timeout']} |",
            f"| requests in the journal | {in_journal:,} ({in_journal - statuses['201']:+,} against the 201s: "
            f"{'every 201 is there' if ok_journal else 'NOT every 201 is there'}) |",
            f"| PSS idle -> peak -> end | {idle_pss / MiB:,.0f} -> {peak.pss / MiB:,.0f} (at {peak.t:.0f} s) -> "
            f"{s[-1].pss / MiB:,.0f} MiB |",
            f"| PSS growth, first third / last third of the load | {first_slope:,.0f} / {last_slope:,.0f} MiB per minute |",
            f"| memory bounded (last third grows less than first) | {'yes' if last_slope < first_slope else 'NO'} |"]
    return "\n".join(out)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.overload", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--connections", type=int, default=512, help="wrk connections (default 512)")
    p.add_argument("--seconds", type=float, default=150, help="how long the load lasts (default 150)")
    p.add_argument("--max-ready", type=int, default=20_000, help="SWITCHBOARD_MAX_READY for the run (default 20000)")
    p.add_argument("--sample-every", type=float, default=2.0, help="seconds between samples (default 2)")
    p.add_argument("--timeout", type=float, default=30, help="wrk's timeout per request in seconds (default 30)")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs, data)")
    p.add_argument("--start-timeout", type=float, default=120, help="seconds the server may take to be ready")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if not have_wrk():
        return 2
    stop_on_signals()
    work = Path(tempfile.mkdtemp(prefix="switchboard-overload-"))
    return guarded(lambda: run(args, work), work, args.keep)  # the server is stopped there too


def run(args: argparse.Namespace, work: Path) -> int:
    commit = git_commit()
    settings = {"SWITCHBOARD_CHANNEL_RATE_LIMIT_PER_SECOND": "1000000",
                "SWITCHBOARD_CHANNEL_RATE_LIMIT_BURST": "1000000", "SWITCHBOARD_MAX_READY": str(args.max_ready)}
    server = start_server(work, args.start_timeout, [], settings)
    time.sleep(3)  # the actors settle after /readyz
    idle_pss = sum(p.pss for p in snapshot({server.sid}).values())
    watch = Watch(server.url, server.sid, server.proc.pid, args.sample_every)
    log(f"idle: {idle_pss / MiB:,.0f} MiB PSS; {args.connections} connections for {args.seconds:g} s")
    watch.start()
    try:
        stats, statuses = overload(server.url, args.connections, args.seconds, args.timeout)
    finally:
        watch.stop()
    time.sleep(2)  # creates cut off by wrk's stop are answered (or not) by now
    watch.scrape()
    watch.samples.append(watch.take())
    in_journal = journal_total(server.url)
    print()
    print(report(args, commit, idle_pss, watch, stats, statuses, in_journal, settings), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
