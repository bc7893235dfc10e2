"""Settings of one sandbox, parsed once from the command line into a frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from akeneo_sandbox.auth import Credentials
from akeneo_sandbox.faults import FaultSpec
from akeneo_sandbox.load import LatencySpec, LimitSpec

DEFAULT_CREDENTIALS = Credentials(
    client_id="sandbox-client",
    secret="sandbox-secret",  # noqa: S106
    username="admin",
    password="admin",  # noqa: S106
)


@dataclass(frozen=True)
class Settings:
    """Everything `akeneo-sandbox serve` accepts; the defaults are the documented ones."""

    host: str = "127.0.0.1"
    port: int = 8081
    db: str = ":memory:"
    catalog: Path | None = None
    credentials: Credentials = DEFAULT_CREDENTIALS
    token_ttl: int = 3600
    faults: FaultSpec = field(default_factory=FaultSpec)
    seed: int = 0
    slow_seconds: float = 35.0
    latency: LatencySpec = field(default_factory=LatencySpec)
    limits: LimitSpec = field(default_factory=LimitSpec)
    log_level: str = "warning"
