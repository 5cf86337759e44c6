"""The ``switchboard`` command: serve, submit, status, requests, keys."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import httpx
import typer

app = typer.Typer(help="Switchboard: manage customer requests.", no_args_is_help=True, add_completion=False)

keys = typer.Typer(help="API keys: create, list, revoke (in <data dir>/keys.db).", no_args_is_help=True)
app.add_typer(keys, name="keys")

ApiUrl = Annotated[str, typer.Option("--api", envvar="SWITCHBOARD_API", help="Base URL of the gateway.")]
Token = Annotated[Optional[str], typer.Option("--token", envvar="SWITCHBOARD_TOKEN",
                                              help="API key or JWT sent as `Authorization: Bearer`.")]
DataDir = Annotated[Optional[Path], typer.Option(help="Data directory (default ./var, or SWITCHBOARD_DATA_DIR).")]
DEFAULT_API = f"http://127.0.0.1:{os.environ.get('SWITCHBOARD_PORT', '8000')}"


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _show(resp: httpx.Response) -> None:
    try:
        body = resp.json()
    except ValueError:
        body = resp.text
    typer.echo(json.dumps(body, indent=2) if not isinstance(body, str) else body)
    if resp.status_code >= 400:
        raise typer.Exit(1)


def _call(method: str, url: str, **kw) -> httpx.Response:
    try:
        return httpx.request(method, url, timeout=30, **kw)
    except httpx.TransportError as exc:
        typer.echo(f"cannot reach the gateway at {url}: {exc} (is `switchboard serve` running?)", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    port: Annotated[Optional[int], typer.Option(help="Port (default 8000, or SWITCHBOARD_PORT).")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="Data directory (default ./var).")] = None,
    hosts: Annotated[Optional[int], typer.Option(help="Number of request-host shards (default 2).")] = None,
) -> None:
    """Start local Ray, the router, the request hosts and the process actors, load the demo data,
    and serve the gateway. Ctrl-C stops everything."""
    from routing.config import Settings

    from .serve import serve as run

    overrides = {k: v for k, v in {"port": port, "data_dir": data_dir, "hosts": hosts}.items() if v is not None}
    run(Settings(**overrides))


@app.command()
def submit(
    file: Annotated[Optional[Path], typer.Argument(help="JSON body of the request; - or omitted reads stdin.")] = None,
    idempotency_key: Annotated[Optional[str], typer.Option("--key", help="Idempotency-Key header.")] = None,
    api: ApiUrl = DEFAULT_API,
    token: Token = None,
) -> None:
    """Submit a request (POST /api/v1/requests) and print it."""
    text = sys.stdin.read() if file is None or str(file) == "-" else file.read_text()
    headers = {"Content-Type": "application/json", **_auth(token)}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    _show(_call("POST", f"{api}/api/v1/requests", content=text, headers=headers))


@app.command()
def status(request_id: str, api: ApiUrl = DEFAULT_API, token: Token = None) -> None:
    """Show a request: status, activities and timeline."""
    _show(_call("GET", f"{api}/api/v1/requests/{request_id}", headers=_auth(token)))


@app.command()
def requests(
    status: Annotated[Optional[str], typer.Option(help="Only this status.")] = None,
    request_type: Annotated[Optional[str], typer.Option("--type", help="Only this request type.")] = None,
    party: Annotated[Optional[str], typer.Option(help="Only this related party id.")] = None,
    limit: int = 20,
    api: ApiUrl = DEFAULT_API,
    token: Token = None,
) -> None:
    """List requests, newest first."""
    params = {k: v for k, v in {"status": status, "requestType": request_type, "relatedParty.id": party,
                                "limit": limit}.items() if v is not None}
    resp = _call("GET", f"{api}/api/v1/requests", params=params, headers=_auth(token))
    if resp.status_code >= 400:
        _show(resp)
    typer.echo(f"{resp.headers.get('X-Total-Count')} request(s)")
    for r in resp.json():
        party_id = r["relatedParty"][0]["id"] if r["relatedParty"] else "-"
        typer.echo(f"{r['id']}  {r['status']:<12} {r['requestType']:<16} {r['channel']:<8} {party_id}  {r['creationDate']}")



def _store(data_dir: Path | None):
    from routing.config import Settings

    from .keystore import KeyStore

    settings = Settings(**({"data_dir": data_dir} if data_dir else {}))
    return KeyStore(settings.keys_path)


@keys.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="customer, channel, csr, operator or admin.")],
    party: Annotated[Optional[str], typer.Option(help="The party a customer key acts as.")] = None,
    channel: Annotated[Optional[str], typer.Option(help="The channel of a channel key (web, mobile, ...).")] = None,
    csr: Annotated[Optional[str], typer.Option(help="The CSR id a csr key acts as.")] = None,
    name: Annotated[Optional[str], typer.Option(help="A note: whose key it is.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Create a key and print its token: this once only (the store keeps an argon2id hash)."""
    from actors.errors import Invalid
    from actors.models import Channel

    from .keystore import Role

    try:
        Role(role)
        if channel is not None:
            Channel(channel)
        key, token = _store(data_dir).create(role, party_id=party, channel=channel, csr_id=csr, name=name)
    except (Invalid, ValueError) as exc:
        typer.echo(f"cannot create the key: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"key {key.id} ({key.role})")
    typer.echo(token)


@keys.command("list")
def keys_list(data_dir: DataDir = None) -> None:
    """Ids, roles, bindings, created and revoked; never a secret."""
    for k in _store(data_dir).list():
        binding = k.party_id or k.channel or k.csr_id or "-"
        typer.echo(f"{k.id:<18} {k.role:<9} {binding:<12} created {k.created_at}  "
                   f"{'revoked ' + k.revoked_at if k.revoked_at else 'live'}  {k.name or ''}".rstrip())


@keys.command("revoke")
def keys_revoke(key_id: str, data_dir: DataDir = None) -> None:
    """Revoke a key; running gateways stop accepting it within SWITCHBOARD_AUTH_CACHE_SECONDS (60)."""
    from actors.errors import NotFound

    try:
        k = _store(data_dir).revoke(key_id)
    except NotFound as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"revoked {k.id} at {k.revoked_at}")


if __name__ == "__main__":
    app()
