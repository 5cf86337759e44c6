"""The FastAPI application: native API, health, readiness and metrics."""

from __future__ import annotations

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse

from routing.client import RuntimeClient

from . import problems
from .metrics import LatencyMiddleware, Metrics
from .actions import router as actions_router
from .campaigns import router as campaigns_router
from .auth import Authenticator
from .events import router as events_router
from .keys import router as keys_router
from .fastpath import FastCreate
from .limits import BodyLimitMiddleware
from .hub import router as hub_router
from .routes import router as requests_router
from .tmf683.hub import router as tmf683_hub_router
from .tmf683.routes import router as tmf683_router

DESCRIPTION = """
Switchboard manages every customer request: **Manage Request (Including Self Service)**, TM Forum
eTOM 1.3.5.9.1. Submit a request, follow its status (activities and timeline), list and cancel;
follow requests live (server-sent events) or subscribe a webhook (`/api/v1/hub`).

The same requests are TMF683 PartyInteraction resources under `/tmf-api/partyInteraction/v4`
(tag *TMF683 partyInteraction*), which answer errors in the TMF Error shape.

Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code` and, for
invalid input, `errors[].field` naming the field.

Every `/api/v1` route needs `Authorization: Bearer <token>`: an API key `sb_<keyid>_<secret>`
(`switchboard keys create`, or `/api/v1/keys` for admins) or a JWT of the configured identity
provider. Roles: `customer` (its own party's requests only), `channel` (its channel's requests, on
behalf of parties), `csr` (work queue and CSR actions), `operator` (reads, campaigns, dead letters),
`admin` (keys, and everything else). Health, readiness, `/metrics` (meant for a private network),
`/docs` and `/openapi.json` are open.
"""


def create_app(runtime: RuntimeClient) -> FastAPI:
    app = FastAPI(title="Switchboard", version="0.1.0", description=DESCRIPTION)
    app.state.runtime = runtime
    app.state.metrics = metrics = Metrics()
    app.state.auth = Authenticator(runtime.settings)
    problems.install(app)
    app.include_router(requests_router)
    app.include_router(actions_router)
    app.include_router(events_router)
    app.include_router(hub_router)
    app.include_router(campaigns_router)
    app.include_router(tmf683_router)
    app.include_router(tmf683_hub_router)
    app.include_router(keys_router)
    app.add_middleware(FastCreate, state=app.state)  # inside the body limits and the latency histogram
    app.add_middleware(BodyLimitMiddleware, max_bytes=runtime.settings.max_body_bytes,
                       max_depth=runtime.settings.max_json_depth, max_upload_bytes=runtime.settings.max_upload_bytes)
    app.add_middleware(LatencyMiddleware, metrics=metrics)

    @app.get("/healthz", tags=["operations"], summary="Liveness")
    async def healthz() -> dict[str, str]:
        """200 while the gateway process serves HTTP."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Readiness",
             responses={503: {"description": "An actor the API needs does not answer (problem details)."}})
    async def readyz() -> Response:
        """200 only when the router, every request host, the webhooks actor and the campaigns actor
        answer."""
        checks = await runtime.ready()
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        bad = ", ".join(f"{k} {v}" for k, v in checks.items() if v != "ok")
        return problems.problem(503, "runtime.not_ready", "Runtime not ready", bad, "/readyz",
                                headers={"Retry-After": "1"})

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    async def metrics_endpoint() -> Response:
        body = metrics.render(await runtime.snapshot())
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    return app
