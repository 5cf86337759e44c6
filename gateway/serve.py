"""``switchboard serve``: start Ray, the runtime and the gateway in one process; Ctrl-C stops all."""

from __future__ import annotations

import gc
import logging

import ray
import uvicorn

from routing.client import RuntimeClient
from routing.config import Settings
from routing.runtime import Runtime

from .app import create_app
from .keystore import KeyStore, ensure_demo_keys

log = logging.getLogger("switchboard")


def start_ray(settings: Settings) -> None:
    if settings.ray_address:
        ray.init(address=settings.ray_address, namespace=settings.namespace)
        return
    ray.init(
        address="local",
        namespace=settings.namespace,
        include_dashboard=settings.dashboard,
        dashboard_host="127.0.0.1",
        dashboard_port=settings.dashboard_port,
    )


def serve(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    start_ray(settings)
    runtime = Runtime(settings).start()
    try:
        app = create_app(RuntimeClient(settings))
        base = f"http://{settings.bind}:{settings.port}"
        banner = [
            f"Switchboard is up: {len(runtime.hosts)} request hosts, data in {settings.data_dir.resolve()}",
            f"  API docs:   {base}/docs",
            f"  API:        {base}/api/v1/requests",
            f"  metrics:    {base}/metrics",
        ]
        if settings.dashboard and not settings.ray_address:
            banner.append(f"  Ray dashboard: http://127.0.0.1:{settings.dashboard_port} "
                          "(token: ~/.ray/auth_token)")
        if settings.demo_keys and settings.bss_url is None:  # the embedded demo BSS: a demo key per role
            banner.append("  demo API keys (Authorization: Bearer <key>; SWITCHBOARD_DEMO_KEYS=false turns them off):")
            for token, key in ensure_demo_keys(KeyStore(settings.keys_path)):
                binding = key.party_id or key.channel or key.csr_id or ""
                banner.append(f"    {key.role.value:<9} {binding:<10} {token}")
        banner.append("Ctrl-C stops everything; the journal keeps every request.")
        # Everything made so far (Ray, FastAPI, pydantic schemas, the app) lives as long as the
        # process: out of the cyclic collector's way, and that collector run less often. Under load
        # its full passes over that heap otherwise stalled every request in flight.
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 50, 100)
        # Open event streams never end by themselves: give them a moment on Ctrl-C, then close them.
        config = uvicorn.Config(app, host=settings.bind, port=settings.port, log_level="warning",
                                access_log=False, timeout_graceful_shutdown=3)
        server = uvicorn.Server(config)
        original_startup = server.startup

        async def startup(sockets=None):
            await original_startup(sockets)
            print("\n".join(banner), flush=True)

        server.startup = startup
        try:
            server.run()
        except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after its graceful shutdown
            pass
    finally:
        print("stopping Switchboard...", flush=True)
        runtime.stop()
        ray.shutdown()
        print("stopped.", flush=True)
