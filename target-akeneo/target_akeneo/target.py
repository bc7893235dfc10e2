"""`target-akeneo`: the Singer target class, the run's wiring and the CLI edge for errors."""

from __future__ import annotations

import copy
import datetime
import logging
import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecReader
from singer_sdk.sinks import Sink

from target_akeneo.associations import (
    AssociationPass,
    WaitingLines,
    check_types,
    parse_associations,
)
from target_akeneo.cache import ConfirmedPayloads, SentHashCache
from target_akeneo.categories import CategoryCheck
from target_akeneo.category_paths import CategoryPaths
from target_akeneo.client import AkeneoClient, RetryPolicy
from target_akeneo.dispatch import Dispatcher
from target_akeneo.errors import MappingError, RejectedProductsError, TargetAkeneoError
from target_akeneo.fetch import Fetcher, SourcePolicy
from target_akeneo.mapping import (
    CompiledMapping,
    StreamMapping,
    attribute_codes,
    compile_mapping,
    family_codes,
    parse_mapping,
    validate_mapping,
)
from target_akeneo.media import MEDIA_TYPES, MediaStore, MediaUploader
from target_akeneo.missing import MissingProducts, ProductsSeen
from target_akeneo.models import FamilyVariant, ModelBuilder, ModelStage, load_family_variants
from target_akeneo.preview import DryRun, Preview
from target_akeneo.rejected import RejectedStore
from target_akeneo.report import JsonLinesWriter, RunFileWriter, RunReport
from target_akeneo.report_page import RunHistory
from target_akeneo.sdk_compat import ConfigValidatedOnParse, SettleBeforeState
from target_akeneo.settings import CONFIG_SCHEMA, Settings, parse_settings
from target_akeneo.sinks import AkeneoSink
from target_akeneo.structure import PimStructure, load_structure
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

    def drain_others(self, sink: Sink) -> None:
        """Hand over the records other streams hold, before `sink`'s batch: a `create: false`
        stream then finds the products that earlier records of another stream create."""
        for stream in self._mappings:
            if stream != sink.stream_name and self.sink_exists(stream):
                other = self.get_sink(stream)
                if other.current_size:
                    self.drain_one(other)

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
    started = datetime.datetime.now(tz=datetime.UTC)
    streams = parse_mapping(settings.mapping, settings.mapping_source)
    client.authenticate()
    structure = load_structure(client, attribute_codes(streams), family_codes(streams))
    problems: list[str] = []
    try:
        validate_mapping(streams, structure, create_options=settings.create_missing_options)
    except MappingError as exc:
        problems.extend(exc.messages)
    try:
        categories = CategoryCheck.at_start(client, streams)
    except MappingError as exc:  # reported with the structure's problems, all at once
        problems.extend(exc.messages)
    variants: dict[str, dict[str, FamilyVariant]] = {}
    try:
        variants = load_family_variants(client, streams)
    except MappingError as exc:
        problems.extend(exc.messages)
    if problems:
        raise MappingError(*problems)
    mappings = {name: compile_mapping(m, structure) for name, m in streams.items()}
    category_paths = _category_paths(settings, client, streams, structure)
    links = parse_associations(settings.mapping, settings.mapping_source)
    if links:
        types = {str(t["code"]): bool(t.get("is_quantified")) for t in client.association_types()}
        check_types(links, types, settings.mapping_source)
    cache_file = None
    if not settings.dry_run or settings.skip_unchanged:
        cache_file = SentHashCache(
            settings.cache_path, settings.base_url, settings.product_endpoint
        )
    by_uuid = settings.product_endpoint == "uuid"
    uuid_store = None
    if by_uuid and not settings.dry_run:
        uuid_store = UuidStore(settings.cache_path, settings.base_url)
    rejected = None
    if not settings.dry_run and settings.retry_rejected_days:
        rejected = RejectedStore(settings.cache_path, settings.base_url, settings.product_endpoint)
        expired = rejected.expire(settings.retry_rejected_days)
        if expired:
            logger.warning(
                "%d rejected product(s) first rejected over %d days ago are no longer retried"
                " (see the dead-letter files of their runs)",
                expired,
                settings.retry_rejected_days,
            )
    logger.info(
        "PIM structure read with %d requests; mapping valid for streams: %s",
        client.counters.requests,
        ", ".join(sorted(mappings)),
    )
    report, dead_letters = RunReport(), RunFileWriter(settings.dead_letter_path, started)
    dry_run = DryRun(JsonLinesWriter(settings.dry_run_path))
    if settings.dry_run:
        dry_run.preview = Preview(
            client,
            structure,
            by_uuid=by_uuid,
            create_missing_options=settings.create_missing_options,
        )
    confirmed = ConfirmedPayloads(cache_file, skip_unchanged=settings.skip_unchanged)
    media = _media(settings, client, structure, report, dead_letters)
    associations = None
    if links and not settings.dry_run:
        associations = AssociationPass(
            client=client,
            links=links,
            confirmed=confirmed,
            waiting=WaitingLines(settings.cache_path),
            report=report,
            dead_letters=dead_letters,
        )
    upserter = Upserter(
        client=client,
        structure=structure,
        confirmed=confirmed,
        report=report,
        dead_letters=dead_letters,
        dry_run=dry_run,
        options=UpsertOptions(
            by_uuid=by_uuid,
            create_missing_options=settings.create_missing_options,
            whole_product=settings.send == "whole_product",
            dry_run=settings.dry_run,
            batch_size=settings.batch_size,
            max_concurrency=settings.max_concurrency,
            base_url=settings.base_url,
            dead_letter_path=settings.dead_letter_path,
            run_report_path=settings.run_report_path,
            preview_path=settings.preview_path,
            report_page_path=settings.report_page_path,
        ),
        uuid_store=uuid_store,
        rejected=rejected,
        categories=categories,
        media=media,
        associations=associations,
        category_paths=category_paths,
        missing=_missing(settings, client, confirmed, report),
        history=None if settings.dry_run else RunHistory(settings.cache_path, settings.base_url),
    )
    model_specs = {name: m.model for name, m in streams.items() if m.model is not None}
    if model_specs or any(m.kind == "product_models" or m.parent for m in streams.values()):
        models_file = None
        if cache_file is not None:
            # The same state store, its own scope: the hash of each model's payload by code.
            models_file = SentHashCache(settings.cache_path, settings.base_url, "product-models")
        confirmed_models = ConfirmedPayloads(models_file, skip_unchanged=settings.skip_unchanged)

        def stage(dispatcher: Dispatcher) -> ModelStage:
            return ModelStage(
                ModelBuilder(model_specs, variants),
                dispatcher=dispatcher,
                client=client,
                confirmed=confirmed_models,
                report=report,
                dead_letters=dead_letters,
                dry_run=dry_run if settings.dry_run else None,
                send_products=upserter.send_rows,
                reject=upserter.refuse_row,
                count_unchanged=upserter.count_unchanged,
                whole=settings.send == "whole_product",
                media=media,
                structure=structure,
                associations=associations,
            )

        upserter.stage_models(stage)
    return mappings, upserter


def _missing(
    settings: Settings, client: AkeneoClient, confirmed: ConfirmedPayloads, report: RunReport
) -> MissingProducts | None:
    if settings.dry_run or settings.missing_products == "ignore":
        return None
    return MissingProducts(
        client=client,
        seen=ProductsSeen(settings.cache_path, settings.base_url),
        confirmed=confirmed,
        report=report,
        action=settings.missing_products,
        max_ratio=settings.missing_products_max_ratio,
    )


def _category_paths(
    settings: Settings,
    client: AkeneoClient,
    streams: t.Mapping[str, StreamMapping],
    structure: PimStructure,
) -> CategoryPaths | None:
    """Path-mapped categories: their roots must exist, their label locale too."""
    specs = {name: m.category_path for name, m in streams.items() if m.category_path}
    if not specs:
        return None
    roots = {spec.root for spec in specs.values()}
    found = {str(item["code"]) for item in client.categories(roots)}
    problems = [
        f"{settings.mapping_source}: {name}.categories.root: category '{spec.root}' "
        "does not exist in the PIM"
        for name, spec in specs.items()
        if spec.root not in found
    ]
    locale = settings.category_label_locale
    if settings.create_missing_categories and not structure.locales.get(locale):
        problems.append(
            f"setting 'category_label_locale': locale '{locale}' is not enabled in the PIM"
        )
    if problems:
        raise MappingError(*problems)
    return CategoryPaths(client, specs, create=settings.create_missing_categories, locale=locale)


def _media(
    settings: Settings,
    client: AkeneoClient,
    structure: PimStructure,
    report: RunReport,
    dead_letters: JsonLinesWriter,
) -> MediaUploader | None:
    """The media step, when the mapping fills an image or file attribute."""
    if settings.dry_run or not any(a.type in MEDIA_TYPES for a in structure.attributes.values()):
        return None
    fetcher = Fetcher(
        SourcePolicy.parse(settings.media_sources),
        connect_timeout=settings.media_connect_timeout,
        read_timeout=settings.media_read_timeout,
    )
    return MediaUploader(
        client=client,
        structure=structure,
        fetcher=fetcher,
        store=MediaStore(settings.cache_path, settings.base_url),
        report=report,
        dead_letters=dead_letters,
        max_mb=settings.media_max_mb,
        concurrency=settings.media_concurrency,
    )


if __name__ == "__main__":
    TargetAkeneo.cli()
