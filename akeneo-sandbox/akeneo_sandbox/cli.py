"""Command line: `akeneo-sandbox serve [flags]`. Errors become one line on stderr, exit 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from akeneo_sandbox.auth import Credentials
from akeneo_sandbox.config import DEFAULT_CREDENTIALS, Settings
from akeneo_sandbox.errors import SandboxError, SettingsError
from akeneo_sandbox.faults import parse_faults
from akeneo_sandbox.load import parse_latency, parse_limits

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="akeneo-sandbox", description="A strict local Akeneo-compatible PIM REST API."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the API over HTTP")
    defaults = Settings()
    serve.add_argument(
        "--host", default=defaults.host, help="address to bind (default: %(default)s)"
    )
    serve.add_argument(
        "--port", type=int, default=defaults.port, help="port (default: %(default)s)"
    )
    serve.add_argument(
        "--db", default=defaults.db, help="SQLite file or :memory: (default: %(default)s)"
    )
    serve.add_argument(
        "--catalog", type=Path, help="catalog JSON/YAML (default: built-in demo catalog)"
    )
    serve.add_argument("--client-id", default=DEFAULT_CREDENTIALS.client_id)
    serve.add_argument("--secret", default=DEFAULT_CREDENTIALS.secret)
    serve.add_argument("--username", default=DEFAULT_CREDENTIALS.username)
    serve.add_argument("--password", default=DEFAULT_CREDENTIALS.password)
    serve.add_argument(
        "--token-ttl", type=int, default=defaults.token_ttl, help="access token lifetime in seconds"
    )
    serve.add_argument("--faults", default=None, help="e.g. 429=0.05,500=0.02,reset=0.01,slow=0.02")
    serve.add_argument("--seed", type=int, default=defaults.seed, help="seed of the random draws")
    serve.add_argument(
        "--slow-seconds",
        type=float,
        default=defaults.slow_seconds,
        help="delay of a `slow` fault (default: %(default)s)",
    )
    serve.add_argument(
        "--latency", default=None, help="server-side delay, e.g. request=80ms,line=10ms,jitter=0.2"
    )
    serve.add_argument("--limits", default=None, help="429 above, e.g. concurrent=4,rate=100")
    serve.add_argument("--log-level", choices=LOG_LEVELS, default=defaults.log_level)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """Check every flag once; errors name the flag."""
    if not 0 <= args.port <= 65535:
        raise SettingsError(f"--port: {args.port} is not a TCP port")
    if args.token_ttl < 1:
        raise SettingsError(f"--token-ttl: must be at least 1 second, got {args.token_ttl}")
    if args.slow_seconds < 0:
        raise SettingsError(f"--slow-seconds: must not be negative, got {args.slow_seconds}")
    for flag, value in (
        ("--client-id", args.client_id),
        ("--secret", args.secret),
        ("--username", args.username),
        ("--password", args.password),
    ):
        if not value:
            raise SettingsError(f"{flag}: must not be empty")
    return Settings(
        host=args.host,
        port=args.port,
        db=args.db,
        catalog=args.catalog,
        credentials=Credentials(args.client_id, args.secret, args.username, args.password),
        token_ttl=args.token_ttl,
        faults=parse_faults(args.faults),
        seed=args.seed,
        slow_seconds=args.slow_seconds,
        latency=parse_latency(args.latency),
        limits=parse_limits(args.limits),
        log_level=args.log_level,
    )


class _Server(uvicorn.Server):
    """Announces the address once the socket is bound (so waiting callers can connect)."""

    async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        await super().startup(sockets)
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            print(f"akeneo-sandbox listening on http://{host}:{port}", file=sys.stderr, flush=True)  # noqa: T201


def serve(settings: Settings) -> None:
    from akeneo_sandbox.app import create_app

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.log_level == "debug",
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    _Server(config).run()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        serve(settings_from(args))
    except SandboxError as error:
        print(f"akeneo-sandbox: error: {error}", file=sys.stderr)  # noqa: T201
        return 2
    return 0
