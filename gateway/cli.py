"""The ``switchboard`` command: serve, submit, status, requests, keys, campaign."""

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


_campaign_headers: dict[str, str] = {}  # the token of the campaign command being run


def _call(method: str, url: str, **kw) -> httpx.Response:
    if "/api/v1/campaigns" in url:
        kw["headers"] = {**_campaign_headers, **kw.get("headers", {})}
    import time

    for attempt in range(10):
        try:
            resp = httpx.request(method, url, timeout=30, **kw)
        except httpx.TransportError as exc:
            typer.echo(f"cannot reach the gateway at {url}: {exc} (is `switchboard serve` running?)", err=True)
            raise typer.Exit(2) from None
        if resp.status_code not in (429, 503) or "Retry-After" not in resp.headers or attempt == 9:
            return resp
        time.sleep(min(float(resp.headers["Retry-After"]), 10.0))  # rate limited or overloaded: as told
    return resp


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


campaign_app = typer.Typer(help="Outbound campaigns: launch from a file or a BSS selection, follow, control.",
                           no_args_is_help=True)
app.add_typer(campaign_app, name="campaign")
CHUNK = 5000  # rows per upload: the route's most
CHUNK_BYTES = 3 * 1024 * 1024  # and under the gateway's max_upload_bytes (4 MiB by default)


def _records(path: Path):
    """CSV (a header row) or JSONL records of a campaign file, numbered from 1."""
    import csv

    with path.open(newline="") as f:
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            for n, line in enumerate(f, 1):
                if line.strip():
                    yield n, json.loads(line)
        else:
            yield from enumerate(csv.DictReader(f), 1)


def _follow(api: str, cid: str) -> dict:
    """A progress bar with rate and ETA until the campaign ends; its last numbers."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]:,.0f}/s"), TimeRemainingColumn())
    with Progress(*columns) as bar:
        task = bar.add_task(f"campaign {cid}", total=None, rate=0.0)
        started, c = time.monotonic(), {}
        while True:
            c = _call("GET", f"{api}/api/v1/campaigns/{cid}").json()
            done = c["created"] + c["existing"] + c["failed"]
            bar.update(task, total=c["rows"], completed=done, rate=done / max(time.monotonic() - started, 1e-3))
            if c["status"] in ("completed", "cancelled", "paused"):
                return c
            time.sleep(0.5)


def _summary(c: dict) -> None:
    typer.echo(f"campaign {c['id']}: {c['status']}; {c['rows']} rows, {c['created']} created, "
               f"{c['existing']} existed already, {c['failed']} failed")
    typer.echo("requests by status: " + ", ".join(f"{k} {v}" for k, v in sorted(c["requestsByStatus"].items())))
    for e in c.get("errors", [])[:5]:
        typer.echo(f"  row {e['key']}: {e['error']}")


@campaign_app.command("launch")
def campaign_launch(
    file: Annotated[Path, typer.Argument(help="CSV (header row) or JSONL: `key` (else the line number), "
                                              "`partyId`, and characteristics in the other columns.")],
    request_type: Annotated[str, typer.Option("--type", help="The request type of every row.")],
    name: Annotated[Optional[str], typer.Option(help="Default: the file name.")] = None,
    campaign_id: Annotated[Optional[str], typer.Option("--id", help="Default: derived from the file's name and "
                                                                    "type, so a relaunch finds the campaign.")] = None,
    description: Annotated[Optional[str], typer.Option(help="The text of every request.")] = None,
    rate: Annotated[Optional[float], typer.Option(help="At most this many creates per second.")] = None,
    api: ApiUrl = DEFAULT_API,
    token: Token = None,
) -> None:
    """Launch (or relaunch) a campaign from a file: rows are uploaded in chunks, and sent from
    the first chunk on; the progress bar follows it. Run it again after a Ctrl-C or a crash: it creates exactly the
    requests still missing."""
    import hashlib

    _campaign_headers.update(_auth(token))
    cid = campaign_id or f"{file.stem[:40]}-{hashlib.sha256(f'{file.resolve()}|{request_type}'.encode()).hexdigest()[:12]}"
    template = {"requestType": request_type, "description": description}
    resp = _call("POST", f"{api}/api/v1/campaigns", json={"id": cid, "name": name or file.name,
                                                         "template": template, "ratePerSecond": rate})
    if resp.status_code >= 400:
        _show(resp)
    chunk: list[dict] = []
    size, chunks = 0, 0

    def upload(rows: list[dict], more: bool) -> None:
        nonlocal chunks
        _upload(api, cid, rows, more)
        chunks += 1
        if chunks == 1:  # sending starts while the rest uploads (it takes the rows in order)
            _start(api, cid)

    for n, record in _records(file):
        rec = {k: v for k, v in record.items() if v not in (None, "")}
        key, party = str(rec.pop("key", n)), rec.pop("partyId", None)
        if party is None:
            typer.echo(f"{file}:{n}: no partyId", err=True)
            raise typer.Exit(1)
        row = {"key": key, "partyId": str(party), "characteristics": rec}
        row_size = len(json.dumps(row)) + 2
        if chunk and (len(chunk) == CHUNK or size + row_size > CHUNK_BYTES):
            upload(chunk, more=True)  # this row comes next
            chunk, size = [], 0
        chunk.append(row)
        size += row_size
    if chunk:
        upload(chunk, more=False)  # the campaign may complete once these are sent
    _start(api, cid)  # again: a campaign completed before this relaunch sends rows new after its first chunk
    _summary(_follow(api, cid))


def _start(api: str, cid: str) -> None:
    started = _call("POST", f"{api}/api/v1/campaigns/{cid}/start")
    if started.status_code >= 400:
        _show(started)


def _upload(api: str, cid: str, rows: list[dict], more: bool) -> None:
    resp = _call("POST", f"{api}/api/v1/campaigns/{cid}/rows", json=rows, params={"more": str(more).lower()})
    if resp.status_code >= 400:
        _show(resp)


@campaign_app.command("select")
def campaign_select(
    request_type: Annotated[str, typer.Option("--type", help="E.g. dunningNotice.")] = "dunningNotice",
    min_days_overdue: Annotated[int, typer.Option(help="Accounts overdue at least this many days.")] = 30,
    name: Annotated[str, typer.Option()] = "dunning run",
    rate: Annotated[Optional[float], typer.Option(help="At most this many creates per second.")] = None,
    api: ApiUrl = DEFAULT_API,
    token: Token = None,
) -> None:
    """Launch a campaign over a selection of the BSS: one request per overdue account."""
    _campaign_headers.update(_auth(token))
    resp = _call("POST", f"{api}/api/v1/campaigns", json={
        "name": name, "template": {"requestType": request_type}, "ratePerSecond": rate, "start": True,
        "selection": {"minDaysOverdue": min_days_overdue}})
    if resp.status_code >= 400:
        _show(resp)
    _summary(_follow(api, resp.json()["id"]))


@campaign_app.command("status")
def campaign_status(campaign_id: str, api: ApiUrl = DEFAULT_API, token: Token = None) -> None:
    """A campaign's numbers: rows, created, failed, requests by status."""
    _campaign_headers.update(_auth(token))
    resp = _call("GET", f"{api}/api/v1/campaigns/{campaign_id}")
    if resp.status_code >= 400:
        _show(resp)
    _summary(resp.json())


def _control(action: str):
    def command(campaign_id: str, api: ApiUrl = DEFAULT_API, token: Token = None) -> None:
        _show(_call("POST", f"{api}/api/v1/campaigns/{campaign_id}/{action}", headers=_auth(token)))
    command.__doc__ = f"{action.capitalize()} a campaign."
    campaign_app.command(action)(command)


for _action in ("pause", "resume", "cancel"):
    _control(_action)


if __name__ == "__main__":
    app()
