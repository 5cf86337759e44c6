"""Settings, from the environment (``SWITCHBOARD_*``) with embedded defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    bind: str = Field("127.0.0.1", description="Address the gateway listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port of the gateway.")
    data_dir: Path = Field(Path("var"), description="Journal shards and the reference BSS live here.")
    hosts: int = Field(2, ge=1, le=256, description="Number of request-host shards.")
    routing_table: Path | None = Field(None, description="Routing table TOML; the embedded one when unset.")
    bss_url: str | None = Field(None, description="A BSS speaking TMF678/622/648/663 at this base URL; "
                                "unset: the embedded SQLite BSS only (see bss/__init__.py).")
    demo_customers: int = Field(1000, ge=3, description="Customers generated when the BSS file is missing.")
    ray_address: str | None = Field(None, description="Join this Ray cluster; unset starts a local Ray.")
    namespace: str = Field("switchboard", description="Ray namespace of the named actors.")
    dashboard: bool = Field(True, description="Start the Ray dashboard with a local Ray.")
    dashboard_port: int = Field(8265, ge=1, le=65535)
    max_waiting_creates: int = Field(4096, ge=1, description="Creates the gateway lets wait for the "
                                     "runtime; more at once are answered 503 with Retry-After.")
    max_journal_backlog: int = Field(20000, ge=1, description="Journal commits a host lets wait; over "
                                     "it, new creates are answered 503 with Retry-After.")
    max_driving: int = Field(256, ge=0, description="Requests a host takes up at once from creates (their "
                             "fulfilment running); a create beyond it is journaled as acknowledged and taken "
                             "up in turn. Also how many passivated requests woken by their timers fire them at once. "
                             "0: no bound.")
    max_active: int = Field(20000, ge=0, description="Request actors a host keeps in memory; past it the least "
                            "recently used idle ones are passivated at once. 0: no bound.")
    max_ready: int = Field(500000, ge=1, description="Acknowledged requests a host lets wait to be taken up; "
                           "over it, new creates are answered 503 with Retry-After.")
    burst_batch: int = Field(8, ge=0, description="A batch of at least this many creates reaching a host "
                             "is a burst: the host takes no new request up (acknowledged ones wait, those "
                             "driving go on) until such batches stop for twice their usual gap (0.25 to 2 s). "
                             "0: fulfilment never yields.")
    yield_seconds: float = Field(60.0, gt=0, description="The longest a request waits for its fulfilment to "
                                 "start because of a burst; then requests are taken up as usual again.")
    process_nice: int = Field(4, ge=0, le=19, description="Niceness added to process actors: on a busy "
                              "machine, taking requests in and answering queries come before fulfilment.")
    passivate_after: float = Field(300.0, ge=0, description="Seconds a request actor may sit idle before its "
                                   "host unloads it (its state is in the journal); 0 never does.")
    call_timeout_seconds: float = Field(30.0, gt=0, description="How long the gateway waits for a request "
                                        "host to answer a create, a status query or an action; then it "
                                        "answers 504 runtime.timeout (the detail says whether the call had "
                                        "left the gateway).")
    timer_horizon_seconds: float = Field(900.0, ge=0, description="A passivated request's timer due within "
                                         "this long is kept in its host's memory; one due later stays in the "
                                         "journal only, and the host arms it when it comes within this long "
                                         "(it looks every third of it). 0 keeps every timer in memory.")
    events_poll_seconds: float = Field(0.2, gt=0, le=10, description="How often live streams and webhooks "
                                       "read the journal for new events.")
    events_heartbeat_seconds: float = Field(15.0, gt=0, description="An SSE comment line after this long "
                                            "without an event, so proxies keep the stream open.")
    events_retry_ms: int = Field(2000, ge=0, description="The `retry:` an SSE client waits before reconnecting.")
    webhook_timeout_seconds: float = Field(5.0, gt=0, description="Timeout of one webhook delivery attempt.")
    webhook_max_attempts: int = Field(6, ge=1, le=100, description="Attempts of a delivery before its "
                                      "dead-letter entry.")
    webhook_initial_backoff_seconds: float = Field(1.0, ge=0, description="Wait after the first failure.")
    webhook_backoff_multiplier: float = Field(4.0, ge=1, description="Each following wait is this much longer.")
    webhook_max_backoff_seconds: float = Field(600.0, ge=0, description="The longest wait between attempts.")
    webhook_allow_private: bool = Field(False, description="Accept webhook callbacks that resolve to private, "
                                        "loopback, link-local or unspecified addresses (tests, closed networks).")
    # -- authentication and per-key rate limits (gateway/auth.py), body limits (gateway/limits.py)
    demo_keys: bool = Field(True, description="With the embedded demo BSS, ensure one demo API key per role.")
    auth_cache_seconds: float = Field(60.0, ge=0, description="A verified token is trusted this long without "
                                      "checking the key store again: a revoked key stops working within it.")
    jwt_jwks_url: str | None = Field(None, description="Accept JWTs signed by a key of this JWKS (OIDC).")
    jwt_public_key: str | None = Field(None, description="Accept JWTs signed by this PEM public key.")
    jwt_audience: str | None = Field(None, description="The `aud` a JWT must carry (required with a JWT key).")
    jwt_issuer: str | None = Field(None, description="The `iss` a JWT must carry, when set.")
    max_body_bytes: int = Field(65536, ge=1024, description="Largest request body; more is 413.")
    max_upload_bytes: int = Field(4 * 1024 * 1024, ge=1024, description="Largest body of a campaign rows upload "
                                  "(`POST /api/v1/campaigns/{id}/rows`, up to 5,000 rows); more is 413.")
    max_json_depth: int = Field(16, ge=2, le=256, description="Deepest JSON nesting of a body; more is 422.")
    rate_limit_per_second: float = Field(20.0, gt=0, description="Requests per second per key (refill rate).")
    rate_limit_burst: int = Field(40, ge=1, description="Requests a key may send at once before 429.")
    channel_rate_limit_per_second: float = Field(200.0, gt=0, description="The same for channel keys.")
    channel_rate_limit_burst: int = Field(400, ge=1, description="The same for channel keys.")

    def journal_path(self, shard: int) -> Path:
        return self.data_dir / "journal" / f"shard-{shard}.db"

    @property
    def webhooks_path(self) -> Path:
        return self.data_dir / "webhooks.db"

    @property
    def keys_path(self) -> Path:
        return self.data_dir / "keys.db"

    @property
    def bss_path(self) -> Path:
        return self.data_dir / "bss.db"
