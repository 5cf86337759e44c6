"""Prometheus metrics of the gateway and of the runtime behind it, served at /metrics."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector


class RuntimeCollector(Collector):
    """Turns the last runtime snapshot (taken just before each scrape) into metric families."""

    def __init__(self) -> None:
        self.snapshot: dict[str, Any] = {"transitions": {}, "byStatus": {}}

    def collect(self):
        t = CounterMetricFamily("switchboard_transitions", "Request status transitions counted by the hosts "
                                "since they started.", labels=["requestType", "from", "to"])
        for (rtype, frm, to), n in sorted(self.snapshot["transitions"].items()):
            t.add_metric([rtype, frm, to], n)
        yield t
        g = GaugeMetricFamily("switchboard_requests", "Requests in the journal by current status.", labels=["status"])
        for status, n in sorted(self.snapshot["byStatus"].items()):
            g.add_metric([status], n)
        yield g
        e = CounterMetricFamily("switchboard_sla_events", "SLA warnings and breaches counted by the hosts since "
                                "they started.", labels=["requestType", "event", "target"])
        for (rtype, event, target), n in sorted(self.snapshot.get("sla", {}).items()):
            e.add_metric([rtype, event, target], n)
        yield e
        a = GaugeMetricFamily("switchboard_request_actors", "Request actors in host memory (active).")
        a.add_metric([], self.snapshot.get("active", 0))
        yield a
        for name, help_ in (("passivated", "Request actors unloaded while idle"),
                            ("reactivated", "Passivated request actors loaded again by a message, query or timer")):
            c = CounterMetricFamily(f"switchboard_{name}", f"{help_}, since the hosts started.")
            c.add_metric([], self.snapshot.get(name, 0))
            yield c
        for name, key, help_ in (
                ("requests_ready", "ready", "Acknowledged requests waiting in the hosts' lines to be taken up "
                 "(past SWITCHBOARD_MAX_READY on a host, its new creates get 503)"),
                ("journal_backlog", "journalBacklog", "Journal commits waiting for the hosts' writer threads "
                 "(past SWITCHBOARD_MAX_JOURNAL_BACKLOG on a host, its new creates get 503)"),
                ("creates_waiting", "createsWaiting", "Creates waiting in this gateway process to be sent to "
                 "their host while a batch is on its way there (at SWITCHBOARD_MAX_WAITING_CREATES, new ones "
                 "get 503)")):
            w = GaugeMetricFamily(f"switchboard_{name}", help_ + ".")
            w.add_metric([], self.snapshot.get(key, 0))
            yield w


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.created = Counter("switchboard_requests_created", "Requests created, by type and channel.",
                               ["requestType", "channel"], registry=self.registry)
        self.latency = Histogram("switchboard_http_request_duration_seconds", "Gateway request latency.",
                                 ["method", "route", "status"], registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
        self.streams = Gauge("switchboard_event_streams", "Server-sent event streams open now.",
                             registry=self.registry)
        self.runtime = RuntimeCollector()
        self.registry.register(self.runtime)

    def render(self, snapshot: dict[str, Any]) -> bytes:
        self.runtime.snapshot = snapshot
        return generate_latest(self.registry)


class LatencyMiddleware:
    """Pure ASGI middleware (no per-request task) timing each HTTP request by route template."""

    def __init__(self, app, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = [500, False]  # the status, and whether the answer is a stream of events

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                status[1] = any(k == b"content-type" and v.startswith(b"text/event-stream")
                                for k, v in message.get("headers", ()))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if not status[1]:  # a stream lasts as long as its client stays: not a latency
                route = scope.get("route")
                path = getattr(route, "path", "unmatched")
                self.metrics.latency.labels(scope["method"], path, str(status[0])).observe(time.perf_counter() - start)
