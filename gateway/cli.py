"""The ``switchboard`` command: serve, submit, status, requests."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import httpx
import typer

app = typer.Typer(help="Switchboard: manage customer requests.", no_args_is_help=True, add_completion=False)

ApiUrl = Annotated[str, typer.Option("--api", envvar="SWITCHBOARD_API", help="Base URL of the gateway.")]
DEFAULT_API = f"http://127.0.0.1:{os.environ.get('SWITCHBOARD_PORT', '8000')}"


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
) -> None:
    """Submit a request (POST /api/v1/requests) and print it."""
    text = sys.stdin.read() if file is None or str(file) == "-" else file.read_text()
    headers = {"Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    _show(_call("POST", f"{api}/api/v1/requests", content=text, headers=headers))


@app.command()
def status(request_id: str, api: ApiUrl = DEFAULT_API) -> None:
    """Show a request: status, activities and timeline."""
    _show(_call("GET", f"{api}/api/v1/requests/{request_id}"))


@app.command()
def requests(
    status: Annotated[Optional[str], typer.Option(help="Only this status.")] = None,
    request_type: Annotated[Optional[str], typer.Option("--type", help="Only this request type.")] = None,
    party: Annotated[Optional[str], typer.Option(help="Only this related party id.")] = None,
    limit: int = 20,
    api: ApiUrl = DEFAULT_API,
) -> None:
    """List requests, newest first."""
    params = {k: v for k, v in {"status": status, "requestType": request_type, "relatedParty.id": party,
                                "limit": limit}.items() if v is not None}
    resp = _call("GET", f"{api}/api/v1/requests", params=params)
    if resp.status_code >= 400:
        _show(resp)
    typer.echo(f"{resp.headers.get('X-Total-Count')} request(s)")
    for r in resp.json():
        party_id = r["relatedParty"][0]["id"] if r["relatedParty"] else "-"
        typer.echo(f"{r['id']}  {r['status']:<12} {r['requestType']:<16} {r['channel']:<8} {party_id}  {r['creationDate']}")


if __name__ == "__main__":
    app()
