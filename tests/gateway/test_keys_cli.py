"""`switchboard keys create|list|revoke`: the token is printed once, the store keeps a hash only,
a list never shows a secret, a revoked key no longer verifies."""

from __future__ import annotations

import os
import subprocess
import sys

from gateway.keystore import KeyStore


def keys(*args: str, data_dir) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway.cli", "keys", *args, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "200"})  # a table as wide as the terminal


def test_create_list_revoke(tmp_path):
    made = keys("create", "--role", "customer", "--party", "CUST-0001", "--name", "app", data_dir=tmp_path)
    assert made.returncode == 0, made.stderr
    token = made.stdout.split()[-1]
    _, key_id, secret = token.split("_", 2)  # the secret may hold "_" too
    store = KeyStore(tmp_path / "keys.db")
    assert store.verify(token).party_id == "CUST-0001"
    assert secret.encode() not in (tmp_path / "keys.db").read_bytes()

    listed = keys("list", data_dir=tmp_path)
    assert key_id in listed.stdout and "customer" in listed.stdout and "CUST-0001" in listed.stdout
    assert secret not in listed.stdout and "live" in listed.stdout

    assert keys("create", "--role", "customer", data_dir=tmp_path).returncode == 2  # a customer key needs a party
    assert keys("create", "--role", "channel", "--channel", "pigeon", data_dir=tmp_path).returncode == 2
    assert keys("revoke", key_id, data_dir=tmp_path).returncode == 0
    assert store.verify(token) is None
    assert "revoked" in keys("list", data_dir=tmp_path).stdout
    assert keys("revoke", "nosuchkey", data_dir=tmp_path).returncode == 1
