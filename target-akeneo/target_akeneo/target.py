"""`target-akeneo`: the Singer target class, its settings and the CLI edge for errors."""

from __future__ import annotations

import sys
import typing as t

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.contrib.msgspec import MsgSpecReader

from target_akeneo import settings as defaults
from target_akeneo.errors import RejectedProductsError, TargetAkeneoError
from target_akeneo.runtime import Runtime
from target_akeneo.settings import parse_settings
from target_akeneo.sinks import AkeneoSink

if t.TYPE_CHECKING:
    from singer_sdk.plugin_base import _ConfigInput


def _str(name: str, description: str, **kwargs: t.Any) -> th.Property[t.Any]:
    return th.Property(name, th.StringType, description=description, **kwargs)


# Meltano 4.4 cannot pass a `decimal`-kind setting that comes from an environment variable
# (its JSON encoder has no Decimal), so durations are declared as number-or-numeric-string:
# the plugin definitions give them a `string` kind and settings.py parses them once.
_SECONDS = th.CustomType({"type": ["number", "string"], "pattern": r"^[0-9]+(\.[0-9]+)?$"})


def _seconds(name: str, *, default: float, description: str) -> th.Property[t.Any]:
    return th.Property(name, _SECONDS, default=default, description=description)


CONFIG_SCHEMA = th.PropertiesList(
    _str(
        "base_url",
        "Base URL of the Akeneo PIM, e.g. `https://acme.cloud.akeneo.com` (no `/api` suffix).",
        required=True,
        title="PIM base URL",
    ),
    _str("client_id", "Client ID of the Akeneo connection.", required=True, secret=True),
    _str("secret", "Secret of the Akeneo connection.", required=True, secret=True),
    _str("username", "API user name of the Akeneo connection.", required=True, secret=True),
    _str("password", "Password of the connection's API user.", required=True, secret=True),
    th.Property(
        "mapping",
        th.ObjectType(),
        description=(
            "Mapping of record fields onto product properties and attributes, one entry per "
            "stream (see the README's mapping language). Exclusive with `mapping_file`."
        ),
    ),
    _str(
        "mapping_file",
        "Path of a YAML or JSON file holding the mapping. Exclusive with `mapping`.",
    ),
    _str(
        "product_endpoint",
        "`identifier` upserts through /products (by identifier); `uuid` through "
        "/products-uuid (Akeneo 7 and SaaS), looking up uuids by identifier.",
        default="identifier",
        allowed_values=["identifier", "uuid"],
    ),
    th.Property(
        "batch_size",
        th.IntegerType(minimum=1, maximum=100),
        default=100,
        description="Products per collection PATCH request (Akeneo's maximum is 100).",
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType(minimum=1, maximum=4),
        default=2,
        description="Requests in flight at once (Akeneo SaaS allows 4 per connection).",
    ),
    _str(
        "dead_letter_path",
        "JSON-lines file receiving rejected products (source record, payload, Akeneo's "
        "message and errors). Rewritten by each run that rejects something.",
        default=defaults.DEFAULT_DEAD_LETTER_PATH,
    ),
    _str(
        "run_report_path",
        "JSON file receiving the run report (created, updated, unchanged, rejected, "
        "requests, retries, duration).",
        default=defaults.DEFAULT_RUN_REPORT_PATH,
    ),
    th.Property(
        "skip_unchanged",
        th.BooleanType,
        default=True,
        description="Do not resend a product whose payload equals the one last confirmed by "
        "this PIM (content hash kept in `cache_path`).",
    ),
    _str(
        "cache_path",
        "SQLite file holding the payload hashes for `skip_unchanged`.",
        default=defaults.DEFAULT_CACHE_PATH,
    ),
    th.Property(
        "create_missing_options",
        th.BooleanType,
        default=False,
        description="Create unknown option codes of mapped select attributes before sending "
        "products (throttled to 3 requests per second) instead of having them rejected.",
    ),
    th.Property(
        "dry_run",
        th.BooleanType,
        default=False,
        description="Validate the mapping and write the payloads to `dry_run_path` without "
        "sending any product.",
    ),
    _str(
        "dry_run_path",
        "JSON-lines file receiving the payloads of a dry run.",
        default=defaults.DEFAULT_DRY_RUN_PATH,
    ),
    th.Property(
        "fail_on_rejected",
        th.BooleanType,
        default=False,
        description="Exit non-zero at the end of the run when any product was rejected.",
    ),
    _seconds(
        "request_timeout",
        default=30,
        description="Seconds to wait for an answer before the request counts as failed "
        "(and is retried).",
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0, maximum=20),
        default=6,
        description="Retries of a request after 408, 429, 5xx, a timeout or a dropped "
        "connection, before its products go to the dead-letter file.",
    ),
    _seconds(
        "backoff_base",
        default=1,
        description="First retry delay in seconds; doubles per try, with jitter.",
    ),
    _seconds(
        "backoff_max",
        default=30,
        description="Longest retry delay in seconds (a longer Retry-After is still honoured).",
    ),
    th.Property(
        "validate_records",
        th.BooleanType,
        default=False,
        description="Validate records against the stream schema first (off by default: the "
        "mapping checks and shapes every field it uses, and validation costs CPU per record).",
    ),
).to_dict()


class TargetAkeneo(Target):
    """Singer target upserting products into Akeneo PIM through its REST API."""

    name = "target-akeneo"
    config_jsonschema = CONFIG_SCHEMA
    default_sink_class = AkeneoSink
    message_reader_class = MsgSpecReader

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        # Sinks send concurrently themselves; draining them in parallel too would
        # break the `max_concurrency` promise.
        self.max_parallelism = 1
        self.runtime = Runtime(parse_settings(self.config))
        try:
            self.runtime.start()
        except BaseException:
            self.runtime.abort()
            raise

    def _write_state_message(self, state: dict[str, t.Any]) -> None:
        """STATE only once the PIM answered for every product before it (sending is pipelined).

        Raises instead when the PIM stopped answering, so no bookmark covers lost products.
        """
        self.runtime.settle()
        super()._write_state_message(state)

    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        # Input without STATE never settled in `_write_state_message`; the report needs it.
        self.runtime.settle()
        report = self.runtime.finish()
        if self.runtime.settings.fail_on_rejected and report["rejected"]:
            raise RejectedProductsError(
                f"{report['rejected']} product(s) rejected (fail_on_rejected is on); "
                f"see {report['dead_letter_path']}"
            )

    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: _ConfigInput | None = None,
        file_input: t.IO[str] | None = None,
    ) -> None:
        """Run the target; our errors become one log line each and exit code 1."""
        try:
            super().invoke(
                about=about, about_format=about_format, config=config, file_input=file_input
            )
        except TargetAkeneoError as exc:
            for message in exc.messages:
                cls.logger.error("%s", message)
            sys.exit(1)


if __name__ == "__main__":
    TargetAkeneo.cli()
