"""`target-akeneo`: the Singer target class, the run's wiring and the CLI edge for errors."""

from __future__ import annotations

import copy
import logging
import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecReader

from target_akeneo.cache import ConfirmedPayloads, SentHashCache
from target_akeneo.client import AkeneoClient, RetryPolicy
from target_akeneo.errors import MappingError, RejectedProductsError, TargetAkeneoError
from target_akeneo.mapping import (
    CompiledMapping,
    attribute_codes,
    compile_mapping,
    family_codes,
    parse_mapping,
    validate_mapping,
)
from target_akeneo.report import JsonLinesWriter, RunReport
from target_akeneo.sdk_compat import ConfigValidatedOnParse, SettleBeforeState
from target_akeneo.settings import CONFIG_SCHEMA, Settings, parse_settings
from target_akeneo.sinks import AkeneoSink
from target_akeneo.structure import load_structure
from target_akeneo.upsert import Upserter, UpsertOptions
from target_akeneo.uuids import UuidStore

logger = logging.getLogger("target-akeneo")


class TargetAkeneo(ConfigValidatedOnParse, SettleBeforeState):
    """Singer target upserting products into Akeneo PIM through its REST API."""

    name = "target-akeneo"
    # A copy: singer-sdk adds its built-in settings to the class's schema in place.
    config_jsonschema = copy.deepcopy(CONFIG_SCHEMA)
    default_sink_class = AkeneoSink
    message_reader_class = MsgSpecReader

    def __init__(self, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        # Validated here against the full schema (with the SDK's built-in settings).
        self.append_builtin_config(self.config_jsonschema)
        self.settings: Settings = parse_settings(self.config, self.config_jsonschema)
        # Sinks send concurrently themselves; draining them in parallel too would
        # break the `max_concurrency` promise.
        self.max_parallelism = 1
        self._client = _client(self.settings)
        try:
            self._mappings, self.upserter = _start(self.settings, self._client)
        except BaseException:
            self._client.close()
            raise

    def mapping_for(self, stream: str) -> CompiledMapping:
        """The compiled mapping of a stream; a stream without one stops the run."""
        try:
            return self._mappings[stream]
        except KeyError:
            known = ", ".join(sorted(self._mappings)) or "none"
            raise MappingError(
                f"{self.settings.mapping_source}: no mapping for stream '{stream}'"
                f" (mapped streams: {known})"
            ) from None

    def settle_before_state(self) -> None:
        """STATE only once the PIM answered for every product before it (or raise)."""
        self.upserter.settle()

    def process_endofpipe(self) -> None:
        super().process_endofpipe()
        # Input without STATE never settled before a STATE; the report needs it.
        self.upserter.settle()
        report = self.upserter.finish()
        self._client.close()
        if self.settings.fail_on_rejected and report["rejected"]:
            raise RejectedProductsError(
                f"{report['rejected']} product(s) rejected (fail_on_rejected is on); "
                f"see {report['dead_letter_path']}"
            )

    @classmethod
    def invoke(cls, **kwargs: t.Any) -> None:
        """Run the target; our errors become one log line each and exit code 1."""
        try:
            super().invoke(**kwargs)
        except TargetAkeneoError as exc:
            for message in exc.messages:
                cls.logger.error("%s", message)
            sys.exit(1)


def _client(settings: Settings) -> AkeneoClient:
    return AkeneoClient(
        settings.base_url,
        settings.credentials,
        timeout=settings.request_timeout,
        retry=RetryPolicy(settings.max_retries, settings.backoff_base, settings.backoff_max),
        max_concurrency=settings.max_concurrency,
    )


def _start(settings: Settings, client: AkeneoClient) -> tuple[dict[str, CompiledMapping], Upserter]:
    """Parse the mapping, read the PIM structure it touches, validate, compile; then wire."""
    streams = parse_mapping(settings.mapping, settings.mapping_source)
    client.authenticate()
    structure = load_structure(client, attribute_codes(streams), family_codes(streams))
    validate_mapping(streams, structure, create_options=settings.create_missing_options)
    mappings = {name: compile_mapping(m, structure) for name, m in streams.items()}
    cache_file = None
    if not settings.dry_run or settings.skip_unchanged:
        cache_file = SentHashCache(
            settings.cache_path, settings.base_url, settings.product_endpoint
        )
    by_uuid = settings.product_endpoint == "uuid"
    uuid_store = None
    if by_uuid and not settings.dry_run:
        uuid_store = UuidStore(settings.cache_path, settings.base_url)
    logger.info(
        "PIM structure read with %d requests; mapping valid for streams: %s",
        client.counters.requests,
        ", ".join(sorted(mappings)),
    )
    upserter = Upserter(
        client=client,
        structure=structure,
        confirmed=ConfirmedPayloads(cache_file, skip_unchanged=settings.skip_unchanged),
        report=RunReport(),
        dead_letters=JsonLinesWriter(settings.dead_letter_path),
        dry_run_writer=JsonLinesWriter(settings.dry_run_path),
        options=UpsertOptions(
            by_uuid=by_uuid,
            create_missing_options=settings.create_missing_options,
            dry_run=settings.dry_run,
            batch_size=settings.batch_size,
            max_concurrency=settings.max_concurrency,
            base_url=settings.base_url,
            dead_letter_path=settings.dead_letter_path,
            run_report_path=settings.run_report_path,
        ),
        uuid_store=uuid_store,
    )
    return mappings, upserter


if __name__ == "__main__":
    TargetAkeneo.cli()
