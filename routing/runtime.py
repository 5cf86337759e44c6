"""Start and stop the runtime: process actors, request hosts, the router and the webhooks deliverer,
as named Ray actors.

``Runtime`` is the supervisor: it owns what it starts, so when its driver exits (Ctrl-C on
``switchboard serve``) Ray stops every one of them. State lives only in the journal and the BSS.
"""

from __future__ import annotations

import logging
from typing import Any

import ray

from actors import names
from actors.host import Intake, RequestHost
from actors.process import ProcessActor
from actors.webhooks import DeliveryPolicy, Webhooks
from bss import demo

from . import campaigns
from .campaigns import Campaigns
from .config import Settings
from .router import Classifier, Router
from .table import RoutingTable

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, settings: Settings, table: RoutingTable | None = None):
        self.settings = settings
        self.table = table or RoutingTable.load(settings.routing_table)
        self.processes: dict[str, list[Any]] = {}
        self.hosts: list[Any] = []
        self.router: Any = None
        self.webhooks: Any = None
        self.campaigns: Any = None

    def start(self) -> Runtime:
        s, ns = self.settings, self.settings.namespace
        if demo.ensure(s.bss_path, s.demo_customers):
            log.info("generated demo BSS data (%d customers) in %s", s.demo_customers, s.bss_path)
        for kind, cfg in self.table.processes.items():
            self.processes[kind] = [
                ProcessActor.options(name=names.process_name(kind, n), namespace=ns).remote(
                    kind, n, str(s.bss_path), s.bss_url, s.process_nice)
                for n in range(cfg.replicas)
            ]
        policies = self.table.policies()
        replicas = {kind: cfg.replicas for kind, cfg in self.table.processes.items()}
        self.hosts = [
            RequestHost.options(name=names.host_name(i), namespace=ns).remote(
                i, str(s.journal_path(i)), policies, replicas, ns, s.passivate_after or None, s.max_journal_backlog,
                s.max_driving or None, s.max_active or None, s.max_ready,
                Intake(s.burst_batch, s.yield_seconds) if s.burst_batch else None, Classifier(self.table),
                s.timer_horizon_seconds or None,
            )
            for i in range(s.hosts)
        ]
        self.router = Router.options(name=names.ROUTER, namespace=ns).remote(self.table, s.hosts, ns)
        self.webhooks = Webhooks.options(name=names.WEBHOOKS, namespace=ns).remote(
            str(s.webhooks_path), [str(s.journal_path(i)) for i in range(s.hosts)], delivery_policy(s))
        # Wait until every actor has run its constructor (hosts have rehydrated their shard).
        self.campaigns = Campaigns.options(name=campaigns.NAME, namespace=ns).remote(
            str(s.data_dir / "campaigns.db"), str(s.bss_path), ns, self.table, s.hosts)
        ray.get([self.router.ping.remote(), self.webhooks.ping.remote(), self.campaigns.ping.remote(), *(h.ping.remote() for h in self.hosts),
                 *(p.ping.remote() for ps in self.processes.values() for p in ps)])
        return self

    def stop(self) -> None:
        for handle in [self.campaigns, self.webhooks, self.router, *self.hosts, *(p for ps in self.processes.values() for p in ps)]:
            if handle is not None:
                ray.kill(handle, no_restart=True)
        self.hosts, self.processes, self.router, self.webhooks, self.campaigns = [], {}, None, None, None


def delivery_policy(s: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(timeout_seconds=s.webhook_timeout_seconds, max_attempts=s.webhook_max_attempts,
                          initial_backoff_seconds=s.webhook_initial_backoff_seconds,
                          backoff_multiplier=s.webhook_backoff_multiplier,
                          max_backoff_seconds=s.webhook_max_backoff_seconds, poll_seconds=s.events_poll_seconds)
