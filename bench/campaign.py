"""Campaign benchmark (issue 7): N outbound dunningNotice requests launched from the CLI against
``make run``'s defaults; time until every one is acknowledged (journaled), and the memory of the
whole system at the end.

    make bench-campaign                                       # = .venv/bin/python -m bench.campaign
    .venv/bin/python -m bench.campaign                        # 100,000 requests, the issue's target
    .venv/bin/python -m bench.campaign --requests 5000 --follow 10   # a quick look

The target: "A campaign of 100,000 outbound dunningNotice requests, launched from the CLI against
`make run`'s defaults, is acknowledged (journaled) in at most 60 seconds, with the process memory of
the whole system under 4 GiB at the end."

What it does:

1. Starts ``switchboard serve`` (the .venv's script) with make run's defaults: 2 request hosts, the
   SQLite journal, the demo data, the Ray dashboard on; only a fresh temporary data directory, a
   free port, loopback and ``RAY_USAGE_STATS_ENABLED=0`` are set (and, only when 8265 is taken by
   someone else, another dashboard port). Waits for ``/readyz``.
2. Writes a CSV of ``--requests`` rows ``key,partyId,billingAccountId``: row i is ``r{i}``,
   ``CUST-{k:06d}``, ``BA-{k:06d}`` with k = 4 + i % 997. The demo BSS has 1,000 accounts (the
   generated customers CUST-000004..CUST-001000 own BA-000004..BA-001000), so the rows cycle over
   them; each row is still its own request, keyed by its row key.
3. Runs, as a user would, ``switchboard campaign launch FILE --type dunningNotice --token <operator
   demo key> --api URL``: it uploads the rows in chunks, starts the campaign and follows it with a
   progress bar until it completes. The CLI wall time (its start to its exit) is the number
   compared with the 60 s target; its output goes to ``cli.log``; its exit code and its summary
   (``N rows, N created``) are checked.
4. Reads the campaign (``GET /api/v1/campaigns/{id}``): startedAt -> finishedAt (the sending time,
   without the upload), created/failed, requests by status; and checks independently that the
   journal holds exactly N dunningNotice requests (``X-Total-Count`` of ``GET /api/v1/requests``
   with the admin key).
5. Memory, sampled every 0.5 s while the CLI runs, over every process of the server's session
   (gateway, Ray's gcs_server, raylet, dashboard, workers and actors) plus the CLI's process tree:
   the sum of RSS, and the sum of PSS (``Pss:`` of /proc/PID/smaps_rollup, which splits shared
   pages between the processes that map them: the honest "memory of the whole system"). Peak and
   at the end (right after the CLI exits), and the drop of MemAvailable (/proc/meminfo) since
   before the server started (a third view; it includes whatever else runs on the machine).
6. After the campaign: ``requestsByStatus`` sampled for ``--follow`` seconds, to see whether the
   flows go on after acknowledgement (the rate at which requests leave acknowledged/inProgress).
7. CPU seconds (utime+stime, /proc/PID/stat) of the session's processes during the campaign,
   processes that appeared during it included, per process name.

Prints one markdown table (targets pass/fail), then the breakdown tables. Exit code 0 when the run
worked, whatever the targets say (it is a measurement); 1 when the run itself broke (the CLI
failed, the counts are wrong); 130 on Ctrl-C. The server and everything in its session are stopped
at the end, on an error and on Ctrl-C; the temporary directory is removed unless ``--keep``.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.run import (CLK_TCK, PY, ROOT, Server, _name, _stat, free_port, guarded, log, self_cpu, session_pids,
                       stop_on_signals, system_busy)
from gateway.keystore import DEMO_KEYS

OPERATOR_KEY = next(token for token, role, _ in DEMO_KEYS if role == "operator")
ADMIN_KEY = next(token for token, role, _ in DEMO_KEYS if role == "admin")
REQUEST_TYPE = "dunningNotice"
TARGET_SECONDS = 60.0
TARGET_GIB = 4.0
OPEN = ("acknowledged", "inProgress")  # statuses a request leaves when its flow runs
GiB, MiB = 2**30, 2**20
DASHBOARD_PORT = 8265  # Settings.dashboard_port


# --------------------------------------------------------------------------------------------
# /proc readings
# --------------------------------------------------------------------------------------------

def meminfo(key: str) -> int:
    """A /proc/meminfo value in bytes."""
    m = re.search(rf"^{key}:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    return int(m.group(1)) * 1024 if m else 0


def rss_pss(pid: int) -> tuple[int, int] | None:
    """(RSS, PSS) in bytes from /proc/PID/smaps_rollup, or None when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    rss = pss = 0
    for line in text.splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1]) * 1024
        elif line.startswith("Pss:"):
            pss = int(line.split()[1]) * 1024
    return rss, pss


def pids_of(sids: set[int]) -> list[int]:
    """Processes of any of these sessions (one pass over /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None and st[0] in sids:
                out.append(int(entry))
    return out


def proc_name(pid: int) -> str:
    """bench.run._name, plus the processes it names badly: the dashboard's module processes (their
    title is ``ray-dashboard-<Module>-0 (python -c ...)``) and multiprocessing's helpers."""
    name = _name(pid)
    try:
        args = [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    except OSError:
        return name
    if args and args[0].startswith("ray-dashboard-"):
        return args[0].split()[0].rsplit("-", 1)[0]
    if "-c" in args[:-1]:
        code = args[args.index("-c") + 1]
        for what in ("forkserver", "resource_tracker"):
            if f"multiprocessing.{what}" in code:
                return f"multiprocessing {what}"
        return "python -c"
    return name


@dataclass
class Proc:
    pid: int
    name: str
    ticks: int
    rss: int
    pss: int


def snapshot(sids: set[int]) -> dict[int, Proc]:
    snap = {}
    for pid in pids_of(sids):
        st, mem = _stat(pid), rss_pss(pid)
        if st is None or mem is None:
            continue
        snap[pid] = Proc(pid, proc_name(pid), st[1], *mem)
    return snap


@dataclass
class Sampler:
    """Samples memory (and CPU ticks) of the processes of some sessions every ``every`` s
    in a thread: peaks, and the last CPU ticks seen of every process, so that a process that
    appeared (or exited) during the run is counted."""
    sids: set[int]
    start_ticks: dict[int, int]
    every: float = 0.5
    peak_pss: int = 0
    peak_rss: int = 0
    peak_pss_at: float = 0.0
    min_available: int = 1 << 62
    samples: int = 0
    last_ticks: dict[int, tuple[str, int]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _t0: float = 0.0

    def take(self) -> dict[int, Proc]:
        snap = snapshot(self.sids)
        pss, rss = sum(p.pss for p in snap.values()), sum(p.rss for p in snap.values())
        if pss > self.peak_pss:
            self.peak_pss, self.peak_pss_at = pss, time.monotonic() - self._t0
        self.peak_rss = max(self.peak_rss, rss)
        self.min_available = min(self.min_available, meminfo("MemAvailable"))
        for p in snap.values():
            self.last_ticks[p.pid] = (p.name, p.ticks)
        self.samples += 1
        return snap

    def _loop(self) -> None:
        while not self._stop.is_set():
            t = time.monotonic()
            self.take()
            self._stop.wait(max(0.0, self.every - (time.monotonic() - t)))

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def cpu_by_name(self) -> dict[str, float]:
        """CPU seconds per process name since the start (a process that appeared counts from 0)."""
        out: dict[str, float] = {}
        for pid, (name, ticks) in self.last_ticks.items():
            out[name] = out.get(name, 0.0) + (ticks - self.start_ticks.get(pid, 0)) / CLK_TCK
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))


# --------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------

def write_rows(path: Path, n: int) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "partyId", "billingAccountId"])
        for i in range(n):
            k = 4 + i % 997
            w.writerow([f"r{i}", f"CUST-{k:06d}", f"BA-{k:06d}"])


def port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def clean_env() -> dict[str, str]:
    """The caller's environment without any SWITCHBOARD_* setting: make run's defaults."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}


def start_server(work: Path, timeout: float, notes: list[str], settings: dict[str, str] | None = None) -> Server:
    """``switchboard serve`` with make run's defaults. The dashboard stays on; only when its port
    (8265) is taken by someone else's server (checked first, and again when Ray fails to bind it:
    another server's dashboard binds it seconds after that server starts) does it get another one."""
    for attempt in (1, 2):
        port = free_port()
        env = {"SWITCHBOARD_DATA_DIR": str(work / "data"), "SWITCHBOARD_PORT": str(port),
               "SWITCHBOARD_BIND": "127.0.0.1", "RAY_USAGE_STATS_ENABLED": "0", **(settings or {})}
        if attempt == 2 or not port_free(DASHBOARD_PORT):
            dash = free_port()
            env["SWITCHBOARD_DASHBOARD_PORT"] = str(dash)
            notes.append(f"port {DASHBOARD_PORT} was taken by another process: the Ray dashboard ran on "
                         f"{dash} (still on)")
        cmd = [str(Path(PY).with_name("switchboard")), "serve"]
        server = Server("switchboard" if attempt == 1 else "switchboard-2", cmd, port, "/readyz", work, env)
        server.env = {**clean_env(), **env}
        try:
            return server.start(timeout)
        except RuntimeError:
            text = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
            server.stop()
            flat = " ".join(text.split())  # the log is wrapped at the terminal width
            if attempt == 1 and "address already in use" in flat and f"{DASHBOARD_PORT})" in flat:
                log(f"the dashboard port {DASHBOARD_PORT} was taken meanwhile; starting again on another port")
                shutil.rmtree(work / "data", ignore_errors=True)
                continue
            raise
    raise AssertionError("unreachable")


def git_commit() -> str:
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if rev.returncode != 0:
        return "?"
    dirty = subprocess.run(["git", "status", "--porcelain", "--", ".", ":!bench", ":!docs"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return rev.stdout.strip() + (" (+ uncommitted changes)" if dirty else "")


class RunBroke(Exception):
    """The run itself failed (not a missed target)."""


@dataclass
class Result:
    n: int
    cli_seconds: float = 0.0
    cli_rc: int = 0
    campaign: dict = field(default_factory=dict)
    journal_total: int = 0
    idle_pss: int = 0
    idle_rss: int = 0
    idle: dict[int, Proc] = field(default_factory=dict)
    end: dict[int, Proc] = field(default_factory=dict)
    sampler: Sampler | None = None
    available_before: int = 0
    available_end: int = 0
    harness_cpu: float = 0.0
    busy_cores: float = 0.0  # the whole machine during the CLI run, from /proc/stat
    follow: list[tuple[float, dict[str, int]]] = field(default_factory=list)
    follow_pss: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def sending_seconds(self) -> float:
        c = self.campaign
        if c.get("startedAt") and c.get("finishedAt"):
            return c["finishedAt"] - c["startedAt"]
        return float("nan")


def run_cli(server: Server, rows: Path, work: Path, res: Result, every: float) -> str:
    """The CLI as a user runs it, sampled while it runs; returns its output."""
    sb = str(Path(PY).with_name("switchboard"))
    cmd = [sb, "campaign", "launch", str(rows), "--type", REQUEST_TYPE, "--token", OPERATOR_KEY,
           "--api", server.url]
    cli_log = work / "cli.log"
    log(f"running: {' '.join(cmd)} (output: {cli_log})")
    before = snapshot({server.sid})
    res.idle = before
    res.idle_pss, res.idle_rss = sum(p.pss for p in before.values()), sum(p.rss for p in before.values())
    sampler = Sampler({server.sid}, {pid: p.ticks for pid, p in before.items()}, every)
    res.sampler = sampler
    cpu0, busy0 = self_cpu(), system_busy()
    limit = max(600.0, res.n / 50)  # 50 creates/s would be far slower than anything seen
    with open(cli_log, "wb") as out:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=clean_env(), stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        sampler.sids.add(proc.pid)  # its own session: the CLI and anything it starts
        sampler.start()
        try:
            res.cli_rc = proc.wait(limit)
        except BaseException:
            _kill_session(proc)
            raise
        finally:
            res.cli_seconds = time.monotonic() - t0
            sampler.stop()
        # the end: right after the CLI exits
        res.end = sampler.take()
        res.available_end = meminfo("MemAvailable")
        res.harness_cpu = self_cpu() - cpu0
        busy1 = system_busy()
        res.busy_cores = (busy1[0] - busy0[0]) / max(1, busy1[2] - busy0[2]) * (os.cpu_count() or 1)
    text = cli_log.read_text(errors="replace")
    log(f"CLI exited with {res.cli_rc} after {res.cli_seconds:.1f} s")
    return text


def _kill_session(proc: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in session_pids(proc.pid):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        try:
            proc.wait(3)
            if not session_pids(proc.pid):
                return
        except subprocess.TimeoutExpired:
            pass


def check(server: Server, cli_text: str, res: Result) -> None:
    op = {"Authorization": f"Bearer {OPERATOR_KEY}"}
    last = cli_text.strip().splitlines()[-12:]
    if res.cli_rc != 0:
        raise RunBroke(f"the CLI exited with {res.cli_rc}:\n" + "\n".join(last))
    m = re.search(r"^campaign (\S+): (\w+); (\d+) rows, (\d+) created, (\d+) existed already, (\d+) failed",
                  cli_text, re.M)
    if m is None:
        raise RunBroke("the CLI printed no summary:\n" + "\n".join(last))
    cid, status, rows, created = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
    log(f"CLI summary: {m.group(0)}")
    listed = httpx.get(f"{server.url}/api/v1/campaigns", headers=op, timeout=60)
    listed.raise_for_status()
    ids = [c["id"] for c in listed.json()]
    if ids != [cid]:
        res.notes.append(f"campaigns listed: {ids} (expected only {cid})")
    r = httpx.get(f"{server.url}/api/v1/campaigns/{cid}", headers=op, timeout=60)
    r.raise_for_status()
    res.campaign = r.json()
    total = httpx.get(f"{server.url}/api/v1/requests", params={"requestType": REQUEST_TYPE, "limit": 1},
                      headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=60)
    total.raise_for_status()
    res.journal_total = int(total.headers["X-Total-Count"])
    log(f"campaign {cid}: {res.campaign['status']}, {res.campaign['created']} created, "
        f"{res.campaign['failed']} failed; journal: {res.journal_total} {REQUEST_TYPE} requests")
    wrong = []
    if status != "completed" or res.campaign["status"] != "completed":
        wrong.append(f"campaign status {status} / {res.campaign['status']} (expected completed)")
    if rows != res.n or created != res.n:
        wrong.append(f"the CLI says {rows} rows, {created} created (expected {res.n}, {res.n})")
    if res.campaign["created"] != res.n or res.campaign["failed"] != 0:
        wrong.append(f"the campaign says {res.campaign['created']} created, {res.campaign['failed']} failed")
    if res.journal_total != res.n:
        wrong.append(f"the journal holds {res.journal_total} {REQUEST_TYPE} requests, not {res.n}")
    if wrong:
        raise RunBroke("; ".join(wrong))


def follow(server: Server, res: Result, seconds: float) -> None:
    """requestsByStatus once a second for ``seconds`` (or until nothing is acknowledged/inProgress)."""
    op = {"Authorization": f"Bearer {OPERATOR_KEY}"}
    url = f"{server.url}/api/v1/campaigns/{res.campaign['id']}"
    t0 = time.monotonic()
    res.follow.append((0.0, dict(res.campaign.get("requestsByStatus", {}))))
    log(f"following fulfilment for up to {seconds:g} s: {res.follow[0][1]}")
    while time.monotonic() - t0 < seconds:
        time.sleep(1.0)
        try:
            r = httpx.get(url, headers=op, timeout=30)
        except httpx.HTTPError as exc:
            res.notes.append(f"follow: {exc!r}")
            continue
        if r.status_code != 200:
            res.notes.append(f"follow: GET campaign answered {r.status_code}")
            continue
        by = r.json()["requestsByStatus"]
        res.follow.append((time.monotonic() - t0, by))
        if sum(by.get(s, 0) for s in OPEN) == 0:
            break
    res.follow_pss = sum(p.pss for p in snapshot({server.sid}).values())
    log(f"after {res.follow[-1][0]:.0f} s: {res.follow[-1][1]}")


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------

def gib(b: float) -> str:
    return f"{b / GiB:.2f}"


def mib(b: float) -> str:
    return f"{b / MiB:,.0f}"


def report(res: Result, commit: str) -> str:
    s = res.sampler
    assert s is not None
    end_pss = sum(p.pss for p in res.end.values())
    end_rss = sum(p.rss for p in res.end.values())
    send = res.sending_seconds
    ok_time = res.cli_seconds <= TARGET_SECONDS
    ok_mem = end_pss < TARGET_GIB * GiB
    mem_total = meminfo("MemTotal")
    lines = [
        "| requests | CLI wall time (s) | sending time (s) | acknowledged/s (CLI / sending) | target 60 s "
        "| PSS at end (GiB) | PSS peak (GiB) | target 4 GiB | machine |",
        "|---:|---:|---:|---:|---|---:|---:|---|---|",
        f"| {res.n:,} | {res.cli_seconds:.1f} | {send:.1f} | {res.n / res.cli_seconds:,.0f} / "
        f"{res.n / send:,.0f} | **{'PASS' if ok_time else 'FAIL'}** | {gib(end_pss)} | {gib(s.peak_pss)} | "
        f"**{'PASS' if ok_mem else 'FAIL'}** | {os.cpu_count()} CPUs, {mem_total / GiB:.1f} GiB MemTotal, "
        f"commit {commit} |",
        "",
        f"Memory of the server's session ({len(res.end)} processes at the end) plus the CLI while it ran, "
        f"sampled every {s.every:g} s ({s.samples} samples):",
        "",
        "| view | idle server (before the CLI) | peak | at the end (CLI exited) |",
        "|---|---:|---:|---:|",
        f"| sum of PSS | {gib(res.idle_pss)} GiB = {mib(res.idle_pss)} MiB | {gib(s.peak_pss)} GiB = "
        f"{mib(s.peak_pss)} MiB (at {s.peak_pss_at:.0f} s) | {gib(end_pss)} GiB = {mib(end_pss)} MiB |",
        f"| sum of RSS (shared pages counted in each process) | {gib(res.idle_rss)} GiB = {mib(res.idle_rss)} MiB "
        f"| {gib(s.peak_rss)} GiB = {mib(s.peak_rss)} MiB | {gib(end_rss)} GiB = {mib(end_rss)} MiB |",
        f"| MemAvailable drop since before the server started (whole machine, shared) | - "
        f"| {gib(res.available_before - s.min_available)} GiB = {mib(res.available_before - s.min_available)} MiB "
        f"| {gib(res.available_before - res.available_end)} GiB = "
        f"{mib(res.available_before - res.available_end)} MiB |",
    ]
    if res.follow_pss:
        lines += ["", f"PSS after the fulfilment was followed ({res.follow[-1][0]:.0f} s more): "
                      f"{gib(res.follow_pss)} GiB = {mib(res.follow_pss)} MiB."]
    procs = sorted(res.end.values(), key=lambda p: -p.pss)
    grew = {p.pid: p.pss - (res.idle[p.pid].pss if p.pid in res.idle else 0) for p in procs}
    lines += ["", "Processes at the end, by PSS (top 12; PSS growth since the idle server, before the CLI):", "",
              "| pid | process | PSS MiB | growth MiB | RSS MiB |", "|---:|---|---:|---:|---:|"]
    lines += [f"| {p.pid} | {p.name} | {mib(p.pss)} | {grew[p.pid] / MiB:+,.0f} | {mib(p.rss)} |" for p in procs[:12]]
    if len(procs) > 12:
        rest = procs[12:]
        lines.append(f"| | {len(rest)} more | {mib(sum(p.pss for p in rest))} | "
                     f"{sum(grew[p.pid] for p in rest) / MiB:+,.0f} | {mib(sum(p.rss for p in rest))} |")
    lines += ["", f"PSS growth from the idle server to the end: {(end_pss - res.idle_pss) / MiB:+,.0f} MiB = "
                  f"{(end_pss - res.idle_pss) / res.n / 1024:,.1f} KiB per request."]
    cpu = s.cpu_by_name()
    total_cpu = sum(cpu.values())
    other = max(0.0, res.busy_cores - (total_cpu + res.harness_cpu) / res.cli_seconds)
    lines += ["", f"CPU during the campaign (utime+stime, the server's session and the CLI): {total_cpu:,.1f} s "
                  f"in {res.cli_seconds:.1f} s = {total_cpu / res.cli_seconds:.2f} cores "
                  f"({total_cpu / res.n * 1000:.2f} ms per request). The machine was {res.busy_cores:.2f} "
                  f"cores busy (of {os.cpu_count()}): this script's sampling {res.harness_cpu / res.cli_seconds:.2f}, "
                  f"other processes {other:.2f}. By process name (top 10):", "",
              "| process | CPU s | cores |", "|---|---:|---:|"]
    lines += [f"| {n} | {c:,.1f} | {c / res.cli_seconds:.2f} |" for n, c in list(cpu.items())[:10]]
    c = res.campaign
    lines += ["", f"Campaign {c.get('id')}: {c.get('created'):,} created, {c.get('existing')} existing, "
                  f"{c.get('failed')} failed; sending {send:.1f} s (startedAt -> finishedAt), so the upload and "
                  f"start took {res.cli_seconds - send:.1f} s of the CLI's {res.cli_seconds:.1f} s; the journal "
                  f"holds {res.journal_total:,} {REQUEST_TYPE} requests."]
    if res.follow:
        statuses = sorted({k for _, by in res.follow for k in by})
        first_t, first = res.follow[0]
        last_t, last = res.follow[-1]
        lines += ["", f"Fulfilment after the campaign completed (requests by status, followed {last_t:.0f} s):", "",
                  "| status | " + " | ".join(statuses) + " |", "|---|" + "---:|" * len(statuses)]
        for label, by in ((f"at CLI exit", first), (f"after {last_t:.0f} s", last)):
            lines.append(f"| {label} | " + " | ".join(f"{by.get(k, 0):,}" for k in statuses) + " |")
        open0, open1 = sum(first.get(k, 0) for k in OPEN), sum(last.get(k, 0) for k in OPEN)
        if last_t > 0:
            rate = (open0 - open1) / last_t
            tail = ""
            if open1 and rate > 0:
                tail = f"; at that rate the {open1:,} still open need {open1 / rate:,.0f} s more"
            elif open1:
                tail = f"; {open1:,} are still acknowledged/inProgress and none left in that time"
            lines.append("")
            lines.append(f"Requests leaving acknowledged/inProgress: {open0:,} -> {open1:,} in {last_t:.0f} s = "
                         f"{rate:,.1f}/s{tail}.")
    if res.notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in res.notes]
    return "\n".join(lines)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.campaign", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--requests", type=int, default=100_000, help="rows of the campaign (default 100000)")
    p.add_argument("--follow", type=float, default=60,
                   help="seconds to follow the fulfilment after the campaign completed (default 60)")
    p.add_argument("--set", action="append", default=[], metavar="SWITCHBOARD_X=VALUE",
                   help="a setting changed from the defaults, for experiments (said in the report)")
    p.add_argument("--keep", action="store_true", help="keep the work directory (CSV, logs, data)")
    p.add_argument("--start-timeout", type=float, default=120, help="seconds the server may take to be ready")
    p.add_argument("--sample-every", type=float, default=2.0,
                   help="seconds between memory samples (default 2; each costs ~0.1 s of CPU on 2 cores)")
    args = p.parse_args(argv)
    if args.requests < 1:
        p.error("--requests must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    stop_on_signals()
    work = Path(tempfile.mkdtemp(prefix="switchboard-campaign-"))
    return guarded(lambda: run(args, work), work, args.keep)


def run(args: argparse.Namespace, work: Path) -> int:
    res = Result(args.requests)
    commit = git_commit()
    try:
        rows = work / "rows.csv"
        write_rows(rows, args.requests)
        log(f"{args.requests:,} rows written to {rows}; machine: {os.cpu_count()} CPUs, "
            f"{meminfo('MemTotal') / GiB:.1f} GiB; commit {commit}")
        res.available_before = meminfo("MemAvailable")
        settings = dict(kv.split("=", 1) for kv in args.set)
        if settings:
            res.notes.append("settings changed from make run's defaults: "
                             + ", ".join(f"{k}={v}" for k, v in settings.items()))
        server = start_server(work, args.start_timeout, res.notes, settings)
        cli_text = run_cli(server, rows, work, res, args.sample_every)
        check(server, cli_text, res)
        if args.follow > 0:
            follow(server, res, args.follow)
        print()
        print(report(res, commit), flush=True)
        return 0
    except RunBroke as exc:
        log(f"FAILED: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
