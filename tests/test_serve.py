"""What a new user does: `switchboard serve` (as `make run` does), submit, Ctrl-C, start again."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from gateway.keystore import DEMO_KEYS
from tests.conftest import inquiry

ADMIN = next(token for token, role, _ in DEMO_KEYS if role == "admin")
AUTH = {"Authorization": f"Bearer {ADMIN}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(data_dir, port) -> subprocess.Popen:
    env = {**os.environ, "SWITCHBOARD_PORT": str(port), "SWITCHBOARD_DATA_DIR": str(data_dir),
           "SWITCHBOARD_DASHBOARD": "false", "SWITCHBOARD_DEMO_CUSTOMERS": "50"}
    env.pop("RAY_ADDRESS", None)
    return subprocess.Popen([sys.executable, "-m", "gateway.cli", "serve"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def wait_ready(proc: subprocess.Popen, base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited early:\n{proc.stdout.read()}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail("serve did not become ready")


def ctrl_c(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("serve did not stop on Ctrl-C")
    assert proc.returncode == 0, out
    return out


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], input=stdin, capture_output=True,
                          text=True, timeout=60)


def poll(url: str, status: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = httpx.get(url, timeout=5, headers=AUTH).json()
        if body["status"] == status:
            return body
        time.sleep(0.1)
    pytest.fail(f"{url} never became {status}: {body}")


@pytest.mark.own_ray
@pytest.mark.timeout(400)
def test_serve_stop_and_serve_again_finds_the_requests(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(tmp_path, port)
    try:
        wait_ready(proc, base)
        assert httpx.post(f"{base}/api/v1/requests", json=inquiry()).status_code == 401  # no key
        resolved = httpx.post(f"{base}/api/v1/requests", json=inquiry(), headers=AUTH).json()
        submitted = cli("submit", "--api", base, "--token", ADMIN, "--key", "cli-1",
                        stdin=json.dumps(inquiry(account="BA-9999")))
        assert submitted.returncode == 0, submitted.stderr
        held = json.loads(submitted.stdout)
        done = poll(f"{base}{resolved['href']}", "resolved")
        waiting = poll(f"{base}{held['href']}", "held")
        assert done["result"]["balance"] == {"value": 42.5, "unit": "EUR"}
    finally:
        out = ctrl_c(proc)
    assert f"{base}/docs" in out and "stopped." in out
    assert all(token in out for token, _, _ in DEMO_KEYS)  # the demo keys, one per role, are printed

    proc = start(tmp_path, port)
    try:
        wait_ready(proc, base)
        shown = cli("status", resolved["id"], "--api", base, "--token", ADMIN)
        assert shown.returncode == 0 and json.loads(shown.stdout) == done
        listed = cli("requests", "--api", base, "--token", ADMIN, "--status", "held")
        assert "1 request(s)" in listed.stdout and held["id"] in listed.stdout
        missing = cli("status", "0" * 32, "--api", base, "--token", ADMIN)
        assert missing.returncode == 1 and "request.not_found" in missing.stdout
        assert httpx.get(f"{base}{resolved['href']}", headers=AUTH).json() == done
        again = httpx.get(f"{base}{held['href']}", headers=AUTH).json()
        assert again["sla"].pop("timeLeft")["resolution"] < waiting["sla"].pop("timeLeft")["resolution"]  # runs on
        assert again == waiting
        assert httpx.get(f"{base}/api/v1/requests", headers=AUTH).headers["X-Total-Count"] == "2"
    finally:
        ctrl_c(proc)
