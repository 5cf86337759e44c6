"""Switchboard benchmark: one command, the five rows of the issue measured in the same run, one table.

    make bench                                          # = .venv/bin/python -m bench.run
    .venv/bin/python -m bench.run                       # the full run: about 3 minutes when idle
    .venv/bin/python -m bench.run --duration 5 --warmup 2 --dedicated 20   # a quick look
    .venv/bin/python -m bench.run --rows bc             # only some rows

Needs wrk (``apt-get update && apt-get install -y wrk``); says so and exits 2 when it is missing.

Rows (each server in its own process tree, on loopback, measured one after another):

  (a) FastAPI + uvicorn answering from a dict                            (bench/apps.py dict)
  (b) FastAPI + uvicorn answering with one await of an async Ray actor   (bench/apps.py actor)
  (c) GET  /api/v1/requests/{id} through the gateway (`switchboard serve`), round-robin over
      requests created beforehand
  (d) POST /api/v1/requests through the gateway: each answer is a 201 after the request is journaled
  (f) (d) from ``--clients-f`` (64) connections, each sending one request at a time (issue 7: the
      gateway groups concurrent creates into batches; target 1.5x (b), p99 under 100 ms)
  (e) the same kind of request with ``placement = "dedicated"`` (its own Ray actor per request):
      N requests posted, rate = N / time until every one of them is resolved

(a)-(d) are driven by wrk (closed loop: ``--concurrency`` connections, one wrk thread) and report
req/s, p50 and p99; (e) is driven by this script and reports requests/s until resolved and the
p50/p99 of each request's time from POST to resolved. The targets of the issue are checked at the
end. The table also gives the CPU time the server's processes spent per request, read from /proc.

The machine may be shared (a test run, a build): before each row the script waits (``--wait-idle``)
until other processes leave the CPU alone, reports how much CPU they took during the row ('other'),
and measures a row again (``--retries``) when that was more than ``--noise-limit`` cores.

Every server is started with ``start_new_session`` and stopped with SIGINT, then everything
left in its session (Ray's gcs_server, raylet, workers) is killed, whatever happens (error, Ctrl-C,
the overall ``--time-limit``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from gateway.keystore import DEMO_KEYS

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "lua"
PY = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

CREATE_BODY = {
    "requestType": "billingInquiry",
    "direction": "inbound",
    "channel": "web",
    "relatedParty": [{"id": "CUST-000004", "role": "customer"}],
    "characteristics": {"billingAccountId": "BA-000004"},
}
FINAL_OK = {"resolved"}
STUCK = {"held", "rejected", "cancelled", "closed"}  # a bench request must not end up here


def body_for(n: int) -> dict[str, Any]:
    """A valid billingInquiry of demo customer ``n`` (4..1000: CUST-000004 owns BA-000004)."""
    k = 4 + n % 997
    return {**CREATE_BODY, "relatedParty": [{"id": f"CUST-{k:06d}", "role": "customer"}],
            "characteristics": {"billingAccountId": f"BA-{k:06d}"}}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# processes: start, find everything a server started, account CPU, stop
# --------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(pid: int) -> tuple[int, int, int] | None:
    """``(session id, utime+stime ticks, rss bytes)`` of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = raw[raw.rfind(")") + 2:].split()
    return int(rest[3]), int(rest[11]) + int(rest[12]), int(rest[21]) * PAGE


def _name(pid: int) -> str:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    args = [a.decode(errors="replace") for a in args if a]
    if not args:
        return "?"
    if args[0].startswith("ray::"):  # a Ray worker: ray::Class, or ray::Class.method while busy
        return args[0].split()[0].split(".")[0]
    base = os.path.basename(args[0])
    if base.startswith("python"):
        rest = args[1:]
        if rest[:1] == ["-u"]:
            rest = rest[1:]
        if rest[:1] == ["-m"] and len(rest) > 1:
            return " ".join(rest[1:3])
        if rest:
            script = os.path.basename(rest[0])
            return f"{script} {rest[1]}" if script == "switchboard" and len(rest) > 1 else script
    return base


def session_pids(sid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None and st[0] == sid:
                out.append(int(entry))
    return out


def cpu_snapshot(sid: int) -> dict[int, tuple[str, int, int]]:
    """pid -> (name, cpu ticks, rss) for every process of a session."""
    snap = {}
    for pid in session_pids(sid):
        st = _stat(pid)
        if st is not None:
            snap[pid] = (_name(pid), st[1], st[2])
    return snap


def system_busy() -> tuple[int, int, int]:
    """(busy ticks, stolen ticks, total ticks) of all CPUs, from /proc/stat. Busy is user, nice,
    system, irq and softirq; stolen is time the hypervisor gave to someone else."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = f[:8]
    return user + nice + system + irq + softirq, steal, sum(f[:8])


class Server:
    """A server process in its own session; ``stop`` leaves nothing of it behind."""

    def __init__(self, name: str, cmd: list[str], port: int, ready_path: str, workdir: Path,
                 env: dict[str, str] | None = None):
        self.name, self.cmd, self.port, self.ready_path = name, cmd, port, ready_path
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = workdir / f"{name}.log"
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float) -> Server:
        log(f"starting {self.name}: {' '.join(self.cmd)} (log: {self.log_path})")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        RUNNING.append(self)
        t0 = time.monotonic()
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} before it was ready; "
                                   f"see {self.log_path}:\n{self.tail()}")
            try:
                if httpx.get(self.url + self.ready_path, timeout=2).status_code == 200:
                    log(f"{self.name} ready in {time.monotonic() - t0:.1f} s")
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s; see {self.log_path}:\n{self.tail()}")

    def tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    @property
    def sid(self) -> int:
        assert self.proc is not None
        return self.proc.pid  # start_new_session: the child leads its own session

    def stop(self, grace: float = 20.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGINT)  # what Ctrl-C does: ray.shutdown() and exit
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                log(f"{self.name} did not stop in {grace:.0f} s after SIGINT; killing it")
        # Anything still in the session (Ray processes, workers): TERM, then KILL.
        for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 1.0)):
            left = session_pids(self.sid)
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            end = time.monotonic() + wait
            while time.monotonic() < end and session_pids(self.sid):
                time.sleep(0.1)
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._log.close()
        if self in RUNNING:
            RUNNING.remove(self)
        self.proc = None


RUNNING: list[Server] = []


class TimeLimitExceeded(BaseException):
    """Raised by SIGALRM at ``--time-limit``; a BaseException so that no row handler swallows it."""


def stop_all() -> None:
    for server in list(reversed(RUNNING)):
        try:
            server.stop()
        except Exception as exc:  # keep stopping the others
            log(f"stopping {server.name}: {exc!r}")


# --------------------------------------------------------------------------------------------
# load: wrk rows, and the dedicated-actor row
# --------------------------------------------------------------------------------------------

@dataclass
class Row:
    key: str
    label: str
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    errors: int = 0
    unit: str = "req/s"
    note: str = ""
    cpu: dict[str, float] = field(default_factory=dict)  # process name -> cores used
    wrk_cores: float = 0.0  # the load generator: wrk, or this script for (e)
    other_cores: float = 0.0
    busy_cores: float = 0.0
    steal_cores: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


# The demo channel key (web), which `switchboard serve` creates over the demo data; the reference
# servers of rows a and b ignore it.
BENCH_KEY = next(token for token, role, _ in DEMO_KEYS if role == "channel")
AUTH = {"Authorization": f"Bearer {BENCH_KEY}"}
AUTH_HEADER = f"Authorization: Bearer {BENCH_KEY}"


def wrk_cmd(args: argparse.Namespace, url: str, script: str, script_args: list[str], seconds: float) -> list[str]:
    return ["wrk", f"-t{args.threads}", f"-c{args.concurrency}", f"-d{seconds:g}s", "--latency", "-H", AUTH_HEADER,
            f"--timeout={args.request_timeout}s", "-s", str(LUA / script), url, "--", *script_args]


def run_wrk(cmd: list[str], seconds: float) -> dict[str, Any]:
    """wrk's numbers (``BENCH_JSON``, bench/lua/report.lua), with its answers by status under
    ``statuses`` when the script counts them (``BENCH_STATUS``, bench/lua/overload.lua)."""
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    m = re.search(r"^BENCH_JSON (\{.*\})$", out.stdout, re.M)
    if out.returncode != 0 or m is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {' '.join(cmd)}\n{out.stdout}\n{out.stderr}")
    stats = json.loads(m.group(1))
    if (statuses := re.search(r"^BENCH_STATUS (\{.*\})$", out.stdout, re.M)) is not None:
        stats["statuses"] = json.loads(statuses.group(1))
    return stats


def have_wrk() -> bool:
    """Whether wrk is installed; says how to install it when it is not."""
    if shutil.which("wrk") is not None:
        return True
    print("bench: wrk is not installed. Install it with:\n    apt-get update && apt-get install -y wrk\n"
          "(Debian package 'wrk'), then run this command again.", file=sys.stderr)
    return False


def stop_on_signals() -> None:
    """SIGINT, SIGTERM and SIGHUP raise KeyboardInterrupt, so that clean-ups run (set explicitly: a
    shell starts background jobs with SIGINT ignored)."""
    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)


def guarded(body: Callable[[], int], work: Path, keep: bool) -> int:
    """``body()``'s exit code; 130 when stopped (Ctrl-C, a signal), 1 with the traceback on an
    error. Whatever happens, every server is stopped and ``work`` removed (or kept)."""
    try:
        return body()
    except KeyboardInterrupt as exc:
        log(f"stopped: {exc or 'Ctrl-C'}")
        return 130
    except Exception as exc:
        import traceback

        traceback.print_exc()
        log(f"FAILED: {type(exc).__name__}: {exc}")
        return 1
    finally:
        clean_up(work, keep)


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def self_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def measure_wrk(args: argparse.Namespace, row: Row, server: Server, url_path: str, script: str,
                script_args: list[str]) -> Row:
    """Warm up, then measure one row with wrk while accounting where the CPU went.

    When other processes (not the server, not wrk) used more than ``--noise-limit`` cores during
    the measurement, the row is measured again (at most ``--retries`` more times) and the quietest
    attempt is kept: a shared machine must not decide the ratios."""
    url = server.url + url_path
    best: Row | None = None
    answered = 0
    for attempt in range(1, args.retries + 2):
        wait_quiet(args, server.sid, f"({row.key})")
        cur = Row(row.key, row.label, extra=dict(row.extra))
        if args.warmup > 0:
            log(f"({row.key}) warm-up {args.warmup:g} s")
            warm = run_wrk(wrk_cmd(args, url, script, script_args, args.warmup), args.warmup)
            answered += warm["requests"]
        log(f"({row.key}) measuring {args.duration:g} s, {args.concurrency} connections: {row.label}")
        before, busy0, child0, t0 = cpu_snapshot(server.sid), system_busy(), children_cpu(), time.monotonic()
        res = run_wrk(wrk_cmd(args, url, script, script_args, args.duration), args.duration)
        after, busy1, child1 = cpu_snapshot(server.sid), system_busy(), children_cpu()
        elapsed = time.monotonic() - t0
        answered += res["requests"]
        cur.requests = res["requests"]
        cur.rps = res["requests"] / (res["duration_us"] / 1e6)
        cur.p50_ms, cur.p99_ms = res["p50_us"] / 1000, res["p99_us"] / 1000
        cur.errors = sum(v for k, v in res.items() if k.startswith("err_"))
        cur.extra["wrk"] = res
        account_cpu(cur, before, after, busy0, busy1, child1 - child0, elapsed)
        log(f"({row.key}) {cur.rps:,.0f} req/s, p50 {cur.p50_ms:.2f} ms, p99 {cur.p99_ms:.2f} ms, "
            f"errors {cur.errors}; other processes {cur.other_cores:.2f} cores")
        cur.extra["attempts"] = attempt
        if best is None or cur.other_cores < best.other_cores:
            best = cur
        if cur.other_cores <= args.noise_limit:
            break
        if attempt <= args.retries:
            log(f"({row.key}) other processes used {cur.other_cores:.2f} cores during the row "
                f"(limit {args.noise_limit:g}); measuring again")
    assert best is not None
    best.extra["tries"] = attempt
    best.extra["answered_total"] = answered  # every response wrk counted, warm-ups and retries included
    row.__dict__.update(best.__dict__)
    return row


def rss_by_name(snap: dict[int, tuple[str, int, int]]) -> dict[str, float]:
    """MB of resident memory per process name (summed over processes of the same name)."""
    out: dict[str, float] = {}
    for name, _, rss in snap.values():
        out[name] = out.get(name, 0.0) + rss / 2**20
    return out


def account_cpu(row: Row, before: dict, after: dict, busy0: tuple[int, int, int], busy1: tuple[int, int, int],
                load_cpu_s: float, elapsed: float) -> None:
    per_name: dict[str, float] = {}
    for pid, (name, ticks, _) in after.items():
        start = before.get(pid, (name, 0, 0))[1] if pid in before else 0
        per_name[name] = per_name.get(name, 0.0) + (ticks - start) / CLK_TCK / elapsed
    row.cpu = dict(sorted(per_name.items(), key=lambda kv: -kv[1]))
    ncpu = os.cpu_count() or 1
    total = max(1, busy1[2] - busy0[2])
    row.extra["rss_mb_before"], row.extra["rss_mb_after"] = rss_by_name(before), rss_by_name(after)
    row.busy_cores = (busy1[0] - busy0[0]) / total * ncpu
    row.steal_cores = (busy1[1] - busy0[1]) / total * ncpu
    row.wrk_cores = load_cpu_s / elapsed
    row.other_cores = max(0.0, row.busy_cores - sum(per_name.values()) - row.wrk_cores)


async def _post_all(client: httpx.AsyncClient, n: int, concurrency: int, offset: int = 0) -> list[tuple[str, float]]:
    """POST n creates, ``concurrency`` at a time; ``[(id, time the POST was sent)]``."""
    sem = asyncio.Semaphore(concurrency)
    out: list[tuple[str, float]] = [("", 0.0)] * n

    async def one(i: int) -> None:
        async with sem:
            sent = time.monotonic()
            r = await client.post("/api/v1/requests", json=body_for(offset + i))
            if r.status_code != 201:
                raise RuntimeError(f"POST answered {r.status_code}: {r.text[:300]}")
            out[i] = (r.json()["id"], sent)

    await asyncio.gather(*(one(i) for i in range(n)))
    return out


async def _wait_resolved(client: httpx.AsyncClient, ids: list[str], concurrency: int, deadline: float,
                         poll: float = 0.1) -> dict[str, float]:
    """Poll each request until it is resolved; id -> monotonic time it was first seen resolved."""
    sem = asyncio.Semaphore(concurrency)
    seen: dict[str, float] = {}

    async def one(rid: str) -> None:
        while time.monotonic() < deadline:
            async with sem:
                r = await client.get(f"/api/v1/requests/{rid}")
            if r.status_code == 200:
                status = r.json()["status"]
                if status in FINAL_OK:
                    seen[rid] = time.monotonic()
                    return
                if status in STUCK:
                    raise RuntimeError(f"request {rid} is {status}: {r.json().get('statusReason')}")
            await asyncio.sleep(poll)

    await asyncio.gather(*(one(rid) for rid in ids))
    return seen


def create_and_resolve(server: Server, n: int, concurrency: int, timeout: float, offset: int = 0
                       ) -> tuple[list[str], float, float, list[float], int]:
    """Create n requests and wait until each is resolved.

    Returns (ids, seconds until every POST was answered, seconds until every request was resolved,
    per-request seconds from POST to resolved, how many were resolved in time)."""

    async def go():
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits, headers=AUTH) as client:
            t0 = time.monotonic()
            posted = await _post_all(client, n, concurrency, offset)
            t_posted = time.monotonic() - t0
            ids = [rid for rid, _ in posted]
            seen = await _wait_resolved(client, ids, concurrency, t0 + timeout)
            t_all = (max(seen.values()) - t0) if seen else float("nan")
            lat = sorted(seen[rid] - sent for rid, sent in posted if rid in seen)
            return ids, t_posted, t_all, lat, len(seen)

    return asyncio.run(go())


def pct(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def drain(args: argparse.Namespace, server: Server) -> tuple[int, int, float, int]:
    """After a POST row: let fulfilment catch up (up to ``--drain-timeout``). ``(resolved when the
    load stopped, requests in the journal, seconds waited, resolved then)``."""
    resolved_at_end = total_requests(server, "resolved")  # first: creates still landing raise the total
    total = total_requests(server)
    t0 = time.monotonic()
    deadline = t0 + args.drain_timeout
    while time.monotonic() < deadline and total_requests(server, "resolved") < total:
        time.sleep(0.5)
    return resolved_at_end, total, time.monotonic() - t0, total_requests(server, "resolved")


def total_requests(server: Server, status: str | None = None) -> int:
    params = {"limit": 1, **({"status": status} if status else {})}
    r = httpx.get(server.url + "/api/v1/requests", params=params, timeout=30, headers=AUTH)
    r.raise_for_status()
    return int(r.headers["X-Total-Count"])


# --------------------------------------------------------------------------------------------
# the rows
# --------------------------------------------------------------------------------------------

def gateway_env(data_dir: Path, port: int, hosts: int, routing_table: Path | None = None) -> dict[str, str]:
    env = {"SWITCHBOARD_DATA_DIR": str(data_dir), "SWITCHBOARD_PORT": str(port), "SWITCHBOARD_BIND": "127.0.0.1",
           "SWITCHBOARD_DASHBOARD": "false", "SWITCHBOARD_HOSTS": str(hosts), "RAY_USAGE_STATS_ENABLED": "0",
           # the bench measures throughput: the demo channel key's rate limit out of the way
           "SWITCHBOARD_CHANNEL_RATE_LIMIT_PER_SECOND": "1000000", "SWITCHBOARD_CHANNEL_RATE_LIMIT_BURST": "1000000"}
    if routing_table is not None:
        env["SWITCHBOARD_ROUTING_TABLE"] = str(routing_table)
    return env


def start_gateway(name: str, work: Path, args: argparse.Namespace, routing_table: Path | None = None) -> Server:
    port = free_port()
    data = work / f"{name}-data"
    cmd = [str(Path(PY).with_name("switchboard")), "serve"]
    if not Path(cmd[0]).exists():
        cmd = [PY, "-m", "gateway.cli", "serve"]
    return Server(name, cmd, port, "/readyz", work, gateway_env(data, port, args.hosts, routing_table)).start(args.start_timeout)


def rows_reference(args: argparse.Namespace, work: Path, ids_file: Path, rows: list[Row]) -> None:
    for key, kind, label in (("a", "dict", "FastAPI answering from a dict"),
                             ("b", "actor", "FastAPI answering with one call to a Ray actor")):
        if key not in args.rows:
            continue
        port = free_port()
        server = Server(f"app-{kind}", [PY, "-m", "bench.apps", kind, "--port", str(port)], port, "/healthz", work,
                        {"RAY_USAGE_STATS_ENABLED": "0"}).start(args.start_timeout)
        try:
            rows.append(measure_wrk(args, Row(key, label), server, "", "get.lua", [str(ids_file), "/items/"]))
        finally:
            server.stop()


def rows_gateway(args: argparse.Namespace, work: Path, rows: list[Row]) -> None:
    server = start_gateway("gateway", work, args)
    try:
        # (c): GET, round-robin over requests created (and resolved) beforehand.
        log(f"(c) creating {args.seed_requests} requests to read back")
        ids, _, t_all, _, done = create_and_resolve(server, args.seed_requests, args.concurrency, 60)
        if done < len(ids):
            raise RuntimeError(f"only {done} of {len(ids)} seed requests resolved within 60 s")
        ids_file = work / "gateway-ids.txt"
        ids_file.write_text("\n".join(ids) + "\n")
        sample = httpx.get(f"{server.url}/api/v1/requests/{ids[0]}", timeout=10, headers=AUTH)
        if "c" in args.rows:
            row = Row("c", "`GET /api/v1/requests/{id}` through the gateway")
            row.extra["response_bytes"] = len(sample.content)
            rows.append(measure_wrk(args, row, server, "", "get.lua", [str(ids_file), "/api/v1/requests/"]))

        # (d): POST, each 201 journaled; then check the journal has them all and let fulfilment drain.
        if "d" in args.rows:
            before = total_requests(server)
            row = Row("d", "`POST /api/v1/requests` through the gateway, journaled")
            measure_wrk(args, row, server, "", "post.lua", [])
            answered = row.extra["answered_total"]
            resolved_at_end, total, drain_seconds, drained = drain(args, server)
            row.extra.update(journal_before=before, journal_after=total, resolved_at_end=resolved_at_end,
                             drain_seconds=drain_seconds, resolved_after_drain=drained,
                             answered_201=answered)
            log(f"(d) journal: {total - before} new requests for {row.requests} measured 201s (+ warm-up); "
                f"{resolved_at_end} of {total} resolved when the load stopped, {drained} after "
                f"{row.extra['drain_seconds']:.1f} s more")
            rows.append(row)

        # (f): POST from 64 clients, each one request at a time (issue 7): the gateway groups them.
        if "f" in args.rows:
            wide = argparse.Namespace(**{**vars(args), "concurrency": args.clients_f})
            row = Row("f", f"`POST /api/v1/requests` from {args.clients_f} clients, journaled")
            before = total_requests(server)
            measure_wrk(wide, row, server, "", "post.lua", [])
            resolved_at_end, total, drain_seconds, drained = drain(args, server)  # (e') starts from a clean slate
            row.extra.update(journal_before=before, journal_after=total, concurrency=args.clients_f,
                             resolved_at_end=resolved_at_end, drain_seconds=drain_seconds,
                             resolved_after_drain=drained)
            log(f"(f) {resolved_at_end} of {total} resolved when the load stopped, {drained} after "
                f"{drain_seconds:.1f} s more")
            rows.append(row)

        # Like-for-like with (e): the same N requests, hosted, timed until every one is resolved.
        if "e" in args.rows:
            log(f"(e') {args.dedicated} hosted requests, timed until resolved")
            _, t_posted, t_all, lat, done = create_and_resolve(server, args.dedicated, args.concurrency,
                                                               args.dedicated_timeout, offset=500)
            rows.append(Row("e'", f"{args.dedicated} requests, hosted (default placement), until resolved",
                            rps=done / t_all, p50_ms=pct(lat, 50) * 1000, p99_ms=pct(lat, 99) * 1000,
                            requests=done, errors=args.dedicated - done, unit="requests/s",
                            extra={"posted_seconds": t_posted, "resolved_seconds": t_all}))
    finally:
        server.stop()


def dedicated_table(text: str, request_type: str = "billingInquiry") -> str:
    """The routing table with ``placement = "dedicated"`` for one request type: the placement line
    of its section replaced, or added right under the section header."""
    lines = text.splitlines()
    header = f"[requestTypes.{request_type}]"
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == header)
    except StopIteration:
        raise RuntimeError(f"the routing table has no {header} section") from None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    for i in range(start + 1, end):
        if re.match(r"\s*placement\s*=", lines[i]):
            lines[i] = 'placement = "dedicated"'
            break
    else:
        lines.insert(start + 1, 'placement = "dedicated"')
    return "\n".join(lines) + "\n"


def row_dedicated(args: argparse.Namespace, work: Path, rows: list[Row]) -> None:
    path = work / "routing-dedicated.toml"
    path.write_text(dedicated_table((ROOT / "routing" / "routing.toml").read_text()))
    server = start_gateway("gateway-dedicated", work, args, routing_table=path)
    try:
        wait_quiet(args, server.sid, "(e)")
        log(f"(e) {args.dedicated} requests, each its own Ray actor (DedicatedRequest), timed until resolved")
        before, busy0, own0, t0 = cpu_snapshot(server.sid), system_busy(), self_cpu(), time.monotonic()
        ids, t_posted, t_all, lat, done = create_and_resolve(server, args.dedicated, args.concurrency,
                                                             args.dedicated_timeout)
        after, busy1, own1, elapsed = cpu_snapshot(server.sid), system_busy(), self_cpu(), time.monotonic() - t0
        actors = [(n, rss) for n, _, rss in after.values() if n == "ray::DedicatedRequest"]
        row = Row("e", f"{args.dedicated} requests as dedicated Ray actors, until resolved",
                  rps=done / t_all if done else 0.0, p50_ms=pct(lat, 50) * 1000, p99_ms=pct(lat, 99) * 1000,
                  requests=done, errors=args.dedicated - done, unit="requests/s")
        account_cpu(row, before, after, busy0, busy1, own1 - own0, elapsed)
        row.extra.update(posted_seconds=t_posted, resolved_seconds=t_all, actor_processes=len(actors),
                         actor_rss_mb=sum(r for _, r in actors) / len(actors) / 2**20 if actors else 0.0)
        log(f"(e) {done}/{len(ids)} resolved in {t_all:.1f} s ({row.rps:.1f}/s); all POSTs answered in "
            f"{t_posted:.2f} s; {len(actors)} DedicatedRequest processes, "
            f"{row.extra['actor_rss_mb']:.0f} MB RSS each")
        rows.append(row)
    finally:
        server.stop()


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------

def machine() -> dict[str, str]:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    import fastapi
    import ray
    import uvicorn

    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if rev.returncode == 0:
        dirty = subprocess.run(["git", "status", "--porcelain", "--", ".", ":!bench", ":!docs"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        source = f"commit {rev.stdout.strip()}" + (" with uncommitted changes" if dirty else "")
    else:
        source = f"{ROOT} (not a git checkout)"
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{mem_kb / 2**20:.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "ray": ray.__version__,
        "fastapi": fastapi.__version__,
        "uvicorn": uvicorn.__version__,
        "wrk": wrk[0].split(" [")[0] if wrk else "?",
        "source": source,
    }


def server_cpu_ms(r: Row) -> float:
    """CPU time the server's processes (gateway, Ray actors, raylet...) spent per request: unlike
    req/s, it hardly moves when something else shares the machine."""
    if not r.cpu or not r.rps:
        return float("nan")
    return sum(r.cpu.values()) / r.rps * 1000


def fmt(x: float, nd: int = 1) -> str:
    return "-" if x != x else f"{x:,.{nd}f}"  # NaN -> "-"


def report(args: argparse.Namespace, rows: list[Row], idle_cores: float, started: float) -> str:
    by = {r.key: r for r in rows}
    b = by.get("b")
    lines = [
        f"Concurrency {args.concurrency} connections (wrk, {args.threads} thread), {args.duration:g} s measured "
        f"after {args.warmup:g} s warm-up per row; loopback; one uvicorn worker per server.",
        "",
        "| row | what | rate | p50 ms | p99 ms | rate / (b) | server CPU ms per request |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = f"{r.rps / b.rps:.2f}x" if b and b.rps else "-"
        err = f" ({r.errors} errors)" if r.errors else ""
        lines.append(f"| ({r.key}) | {r.label}{err} | {fmt(r.rps, 0 if r.rps >= 100 else 1)} {r.unit} | "
                     f"{fmt(r.p50_ms, 2)} | {fmt(r.p99_ms, 2)} | {ratio} | {fmt(server_cpu_ms(r), 2)} |")
    lines += ["", "Targets (from the issue):", ""]
    checks = []
    if b and "c" in by:
        checks.append(("(c) / (b) req/s", by["c"].rps / b.rps, ">=", 0.9))
        checks.append(("p99 (c) / p99 (b)", by["c"].p99_ms / b.p99_ms, "<=", 1.5))
    if b and "d" in by:
        checks.append(("(d) / (b) req/s", by["d"].rps / b.rps, ">=", 0.6))
    if b and "f" in by:
        checks.append((f"(f) / (b) req/s ({by['f'].extra['concurrency']} clients)", by["f"].rps / b.rps, ">=", 1.5))
        checks.append(("p99 (f), ms", by["f"].p99_ms, "<", 100.0))
    for name, value, op, target in checks:
        ok = value >= target if op == ">=" else value <= target if op == "<=" else value < target
        lines.append(f"- {name} = {value:.2f} (target {op} {target}): **{'PASS' if ok else 'MISS'}**")
    if "d" in by and "e" in by and by["e"].rps:
        lines.append(f"- (d) / (e) = {by['d'].rps / by['e'].rps:,.0f}x: creates acknowledged per second, hosted, "
                     f"against requests per second through to resolved when each request is its own Ray actor")
    lines += ["", "Where the CPU went during each measured row (cores busy, out of "
              f"{os.cpu_count()}; 'other' is everything outside the server and the load generator):", ""]
    for r in rows:
        if not r.cpu:
            continue
        top = ", ".join(f"{n} {c:.2f}" for n, c in list(r.cpu.items())[:5] if c >= 0.01)
        steal = f"; stolen by the hypervisor {r.steal_cores:.2f}" if r.steal_cores >= 0.05 else ""
        tries = r.extra.get("tries", 1)
        kept = f" (quietest of {tries} measurements)" if tries > 1 else ""
        lines.append(f"- ({r.key}){kept} machine {r.busy_cores:.2f}: {top}; load generator {r.wrk_cores:.2f}; "
                     f"other {r.other_cores:.2f}{steal}")
    notes = []
    if "c" in by:
        notes.append(f"(c) reads {args.seed_requests} resolved requests round-robin "
                     f"({by['c'].extra.get('response_bytes', 0)} bytes each); (a) and (b) answer a 2,200-byte body.")
    if "d" in by:
        x = by["d"].extra
        if "journal_after" in x:
            notes.append(f"(d) the journal grew by {x['journal_after'] - x['journal_before']:,} requests for "
                         f"{x['answered_total']:,} 201s counted by wrk (measured, warm-up and retries; "
                         f"wrk does not count the answers still in flight when it stops); when the load stopped "
                         f"{x['resolved_at_end']:,} of {x['journal_after']:,} were resolved, "
                         f"{x['resolved_after_drain']:,} after {x['drain_seconds']:.1f} s more (fulfilment "
                         f"runs behind the 201).")
            notes.append("(d), (f): fulfilment yields to a burst of creates (`SWITCHBOARD_BURST_BATCH`): it runs at "
                         "full speed once the load stops, and the next row starts when it has caught up.")
            hb = by["d"].extra["rss_mb_before"].get("ray::RequestHost", 0.0)
            ha = by["d"].extra["rss_mb_after"].get("ray::RequestHost", 0.0)
            notes.append(f"(d) the request hosts' resident memory went from {hb:,.0f} MB to {ha:,.0f} MB "
                         f"(both hosts) while the row ran: resolved requests stay loaded.")
    if "e" in by:
        x = by["e"].extra
        notes.append(f"(e) {by['e'].requests}/{args.dedicated} resolved in {x['resolved_seconds']:.1f} s "
                     f"(every POST answered after {x['posted_seconds']:.2f} s: the 201 comes before the actor "
                     f"exists); {x['actor_processes']} DedicatedRequest processes, {x['actor_rss_mb']:.0f} MB RSS "
                     f"each; p50/p99 are per request, from POST to resolved.")
    if "f" in by and "resolved_after_drain" in by["f"].extra:
        x = by["f"].extra
        notes.append(f"(f) when the load stopped {x['resolved_at_end']:,} of {x['journal_after']:,} requests were "
                     f"resolved, {x['resolved_after_drain']:,} after {x['drain_seconds']:.1f} s more.")
    if "e'" in by:
        notes.append("(e') is (e)'s procedure on the default hosted placement, for a like-for-like comparison.")
    if idle_cores > args.idle_threshold:
        notes.append(f"WARNING: the machine was not idle before the run ({idle_cores:.2f} cores busy): "
                     "the numbers are lower than they should be.")
    if any(r.other_cores > args.idle_threshold for r in rows):
        notes.append("WARNING: something outside the benchmark used CPU during a row (see 'other').")
    notes.append(f"Whole run: {time.monotonic() - started:.0f} s.")
    lines += [""] + [f"- {n}" for n in notes]
    return "\n".join(lines)


def machine_block(m: dict[str, str]) -> str:
    return (f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory']} RAM, Linux {m['kernel']}; "
            f"Python {m['python']}, Ray {m['ray']}, FastAPI {m['fastapi']}, uvicorn {m['uvicorn']}, {m['wrk']}. "
            f"Switchboard: {m['source']}.")


def foreign_busy(sid: int | None, seconds: float = 1.0) -> float:
    """Cores busy over the next ``seconds`` outside this script and the server session ``sid``."""
    ours0 = sum(t for _, t, _ in cpu_snapshot(sid).values()) if sid else 0
    b0, me0 = system_busy(), self_cpu()
    time.sleep(seconds)
    ours1 = sum(t for _, t, _ in cpu_snapshot(sid).values()) if sid else 0
    b1, me1 = system_busy(), self_cpu()
    total_s = max(1, b1[2] - b0[2]) / CLK_TCK / (os.cpu_count() or 1)  # wall seconds of the sample
    busy = (b1[0] - b0[0]) / CLK_TCK - (ours1 - ours0) / CLK_TCK - (me1 - me0)
    return max(0.0, busy / total_s)


def wait_quiet(args: argparse.Namespace, sid: int | None, what: str) -> None:
    """Before a row: wait up to ``--wait-idle`` s until nothing else uses the CPU (this machine
    may be shared with a test run or a build); the row reports 'other' CPU either way."""
    end = time.monotonic() + args.wait_idle
    busy = foreign_busy(sid)
    while busy > args.idle_threshold and time.monotonic() < end:
        log(f"{what}: waiting for the machine to be quiet ({busy:.2f} cores used by other processes)")
        busy = foreign_busy(sid, 2.0)
    if busy > args.idle_threshold:
        log(f"{what}: WARNING: {busy:.2f} cores still used by other processes; measuring anyway")


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--duration", type=float, default=15, help="seconds measured per wrk row (default 15)")
    p.add_argument("--warmup", type=float, default=3, help="seconds of warm-up before each wrk row (default 3)")
    p.add_argument("--concurrency", type=int, default=32, help="connections (wrk) / requests in flight (default 32)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: leave the CPU to the server)")
    p.add_argument("--hosts", type=int, default=2, help="request-host shards of the gateway (default 2, as serve)")
    p.add_argument("--dedicated", type=int, default=50, help="requests created in (e) (default 50)")
    p.add_argument("--seed-requests", type=int, default=300, help="requests created for (c) to read (default 300)")
    p.add_argument("--rows", default="abcdef", help="which rows to run, e.g. 'bc' (default abcdef)")
    p.add_argument("--clients-f", type=int, default=64, help="connections of row (f) (default 64)")
    p.add_argument("--request-timeout", type=float, default=10, help="wrk per-request timeout, s (default 10)")
    p.add_argument("--start-timeout", type=float, default=90, help="seconds a server may take to be ready")
    p.add_argument("--drain-timeout", type=float, default=60,
                   help="seconds to let fulfilment catch up after (d) and after (f) (default 60)")
    p.add_argument("--dedicated-timeout", type=float, default=90, help="seconds (e) may take to resolve all")
    p.add_argument("--time-limit", type=float, default=420,
                   help="hard limit for the whole run, s (default 420; a quiet machine needs about 200)")
    p.add_argument("--wait-idle", type=float, default=20,
                   help="before each row, wait up to this many s while other processes use the CPU (default 20)")
    p.add_argument("--idle-threshold", type=float, default=0.2,
                   help="cores other processes may use for the machine to count as quiet (default 0.2)")
    p.add_argument("--noise-limit", type=float, default=0.3,
                   help="measure a wrk row again when other processes used more cores than this (default 0.3)")
    p.add_argument("--retries", type=int, default=1, help="how many times a noisy row is measured again (default 1)")
    p.add_argument("--json", type=Path, help="also write the raw results here")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs, journals)")
    args = p.parse_args(argv)
    args.rows = set(args.rows.lower())
    if not args.rows <= set("abcdef"):
        p.error("--rows takes letters among abcdef")
    return args


def emit(args: argparse.Namespace, m: dict[str, str], rows: list[Row], idle: float, started: float,
         failures: list[str]) -> None:
    order = {k: i for i, k in enumerate(["a", "b", "c", "d", "f", "e", "e'"])}
    rows.sort(key=lambda r: order[r.key])
    text = report(args, rows, idle, started)
    if failures:
        text += "\n\nFAILED:\n" + "\n".join(f"- {f}" for f in failures)
    print()
    print(machine_block(m))
    print()
    print(text, flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": m, "args": {k: (sorted(v) if isinstance(v, set) else str(v))
                                                                 for k, v in vars(args).items()},
                                         "rows": [r.__dict__ for r in rows], "failures": failures},
                                        indent=2, default=str))


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if not have_wrk():
        return 2
    started = time.monotonic()

    def on_alarm(signum, frame):
        raise TimeLimitExceeded(f"the benchmark exceeded --time-limit {args.time_limit:g} s")

    stop_on_signals()
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(args.time_limit))

    work = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    rows: list[Row] = []
    failures: list[str] = []
    m, idle = machine(), 0.0
    try:
        log(machine_block(m))
        wait_quiet(args, None, "start")
        idle = foreign_busy(None)
        ids_file = work / "items.txt"
        ids_file.write_text("\n".join(str(i) for i in range(1000)) + "\n")
        # A row group that fails is reported and the others still run.
        groups = [(bool(args.rows & set("ab")), "(a)/(b)", lambda: rows_reference(args, work, ids_file, rows)),
                  (bool(args.rows & set("cdef")), "gateway (c)/(d)/(f)/(e')", lambda: rows_gateway(args, work, rows)),
                  ("e" in args.rows, "(e)", lambda: row_dedicated(args, work, rows))]
        for wanted, name, run in groups:
            if not wanted:
                continue
            try:
                run()
            except Exception as exc:
                first = str(exc).strip().splitlines()
                log(f"{name} FAILED: {exc}")
                failures.append(f"{name} failed: {type(exc).__name__}: {first[0] if first else ''} "
                                f"(last lines of its log above, on stderr)")
        emit(args, m, rows, idle, started, failures)
        return 1 if failures else 0
    except (KeyboardInterrupt, TimeLimitExceeded) as exc:
        log(f"stopped: {exc or 'Ctrl-C'}")
        if rows:
            emit(args, m, rows, idle, started, [f"interrupted: {exc or 'Ctrl-C'}; the rows above are all there is"])
        return 130 if isinstance(exc, KeyboardInterrupt) else 124
    finally:
        signal.alarm(0)
        clean_up(work, args.keep)


def clean_up(work: Path, keep: bool) -> None:
    """Stop every server this process started (a second Ctrl-C or a SIGTERM cannot interrupt it),
    then remove the work directory, or say where it is kept."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    stop_all()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if keep:
        log(f"work directory kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
