"""The two reference servers of the benchmark, each run in its own process by ``bench.run``.

``dict``  (row a): FastAPI answering ``GET /items/{id}`` from a dict: the ceiling of FastAPI +
          uvicorn, one worker, on this machine.
``actor`` (row b): FastAPI answering ``GET /items/{id}`` with one ``await actor.get.remote(id)`` to an
          async Ray actor that looks the item up in its own dict: the price of one Ray hop.

Both answer a 2,200-byte JSON body (about the size of the gateway's answer in row c) and run under the same uvicorn settings as the gateway
(``gateway/serve.py``: one worker, default loop and HTTP parser, ``log_level="warning"``, no access
log), so the only difference between the rows is what the handler does.

    python -m bench.apps dict  --port 18001
    python -m bench.apps actor --port 18002
"""

from __future__ import annotations

import argparse
import json
import sys

import uvicorn
from fastapi import FastAPI, Response

BODY_BYTES = 2200  # about the size of a resolved billingInquiry as GET /api/v1/requests/{id} returns it
JSON = "application/json"


def _item(i: int) -> bytes:
    head = {"id": f"{i:032x}", "status": "resolved", "requestType": "billingInquiry", "priority": 3}
    pad = BODY_BYTES - len(json.dumps({**head, "timeline": ""}))
    return json.dumps({**head, "timeline": "x" * max(0, pad)}).encode()


ITEMS = {str(i): _item(i) for i in range(1000)}


def dict_app() -> FastAPI:
    app = FastAPI()
    bodies = dict(ITEMS)

    @app.get("/items/{item_id}")
    async def get_item(item_id: str) -> Response:
        return Response(bodies.get(item_id, b"{}"), media_type=JSON)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def actor_app() -> FastAPI:
    import ray

    @ray.remote
    class Items:
        def __init__(self) -> None:
            self.bodies = dict(ITEMS)

        async def get(self, item_id: str) -> bytes:  # async actor: same kind as RequestHost
            return self.bodies.get(item_id, b"{}")

    # Same Ray start as `switchboard serve` with SWITCHBOARD_DASHBOARD=false.
    ray.init(address="local", include_dashboard=False, namespace="bench", log_to_driver=False)
    items = Items.options(name="items").remote()
    ray.get(items.get.remote("0"))  # the actor is up before we serve
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def get_item(item_id: str) -> Response:
        return Response(await items.get.remote(item_id), media_type=JSON)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.apps", description=__doc__.split("\n\n")[0])
    p.add_argument("kind", choices=["dict", "actor"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    args = p.parse_args(argv)
    app = dict_app() if args.kind == "dict" else actor_app()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    finally:
        if args.kind == "actor":
            import ray

            ray.shutdown()
    sys.exit(0)


if __name__ == "__main__":
    main()
