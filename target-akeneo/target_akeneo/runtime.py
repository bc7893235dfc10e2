"""Everything one run shares across sinks: client, PIM structure, mappings, outputs."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from target_akeneo.cache import SentHashCache
from target_akeneo.client import AkeneoClient
from target_akeneo.dispatch import Dispatcher, Outcome
from target_akeneo.errors import MappingError, PimUnavailableError
from target_akeneo.mapping import (
    CompiledMapping,
    attribute_codes,
    compile_mapping,
    family_codes,
    parse_mapping,
    validate_mapping,
)
from target_akeneo.report import JsonLinesWriter, RunReport, summary_line, write_report
from target_akeneo.settings import Settings
from target_akeneo.structure import PimStructure, load_attribute_codes, load_structure

logger = logging.getLogger("target-akeneo")

# Confirmed hashes are written to the cache in groups: one SQLite commit per this many.
CACHE_WRITE_EVERY = 1000


class Runtime:
    """Set up once at target start: the mapping is checked before any product is read."""

    def __init__(self, settings: Settings, client: AkeneoClient | None = None) -> None:
        self.settings = settings
        self.client = client or AkeneoClient(
            settings.base_url,
            settings.credentials,
            timeout=settings.request_timeout,
            max_retries=settings.max_retries,
            backoff_base=settings.backoff_base,
            backoff_max=settings.backoff_max,
            max_concurrency=settings.max_concurrency,
        )
        self.report = RunReport()
        self.dead_letters = JsonLinesWriter(settings.dead_letter_path)
        self.dry_run_writer = JsonLinesWriter(settings.dry_run_path)
        self.structure = PimStructure()
        self.compiled: dict[str, CompiledMapping] = {}
        self.cache: SentHashCache | None = None
        # Payload hashes confirmed during this run: a product is never sent twice unchanged.
        self.sent: dict[str, str] = {}
        self.executor = ThreadPoolExecutor(
            max_workers=settings.max_concurrency, thread_name_prefix="akeneo-send"
        )
        # Two chunks per worker: one being sent, one ready, so workers never wait for reading.
        self.dispatcher = Dispatcher(
            self.executor, settings.batch_size, limit=2 * settings.max_concurrency
        )
        # Outcomes whose retries ran out: the PIM is gone and the run must end without STATE.
        self.unavailable: list[Outcome] = []
        self._confirmed: list[tuple[str, str]] = []

    def start(self) -> None:
        """Parse the mapping, read the PIM structure it touches, validate, compile."""
        streams = parse_mapping(self.settings.mapping, self.settings.mapping_source)
        self.client.authenticate()
        self.structure = load_structure(
            self.client, attribute_codes(streams), family_codes(streams)
        )
        if attribute_codes(streams) - set(self.structure.attributes):
            load_attribute_codes(self.client, self.structure)
        validate_mapping(
            streams, self.structure, create_options=self.settings.create_missing_options
        )
        self.compiled = {name: compile_mapping(m, self.structure) for name, m in streams.items()}
        if not self.settings.dry_run or self.settings.skip_unchanged:
            self.cache = SentHashCache(
                self.settings.cache_path, self.settings.base_url, self.settings.product_endpoint
            )
        logger.info(
            "PIM structure read with %d requests; mapping valid for streams: %s",
            self.client.counters.requests,
            ", ".join(sorted(self.compiled)),
        )

    def compiled_for(self, stream: str) -> CompiledMapping:
        try:
            return self.compiled[stream]
        except KeyError:
            known = ", ".join(sorted(self.compiled)) or "none"
            raise MappingError(
                f"{self.settings.mapping_source}: no mapping for stream '{stream}'"
                f" (mapped streams: {known})"
            ) from None

    def confirm(self, identifier: str, digest: str) -> None:
        """Remember a payload the PIM accepted: never resent this run, nor unchanged later."""
        self.sent[identifier] = digest
        if self.cache is not None:
            self._confirmed.append((identifier, digest))
            if len(self._confirmed) >= CACHE_WRITE_EVERY:
                self._write_cache()

    def _write_cache(self) -> None:
        if self.cache is not None and self._confirmed:
            self.cache.put_many(self._confirmed)
        self._confirmed = []

    def settle(self) -> None:
        """Return once the PIM answered for every product received so far.

        Raises `PimUnavailableError` (after writing the run report) when retries ran out for
        any product, so no STATE can cover a product whose outcome is unknown.
        """
        self.dispatcher.settle()
        self._write_cache()
        self.dead_letters.flush()
        if self.unavailable:
            self.stop_unavailable()

    def stop_unavailable(self) -> None:
        """Fail the run: products with an unknown outcome must not be covered by STATE.

        They are in the dead-letter file already; stopping before any STATE keeps Meltano's
        bookmark where it was, so the next run sends them again.
        """
        self.finish()
        last = str(self.unavailable[-1].body.get("message") or "no answer")
        raise PimUnavailableError(
            f"the PIM at {self.settings.base_url} is unavailable ({last}); "
            f"{len(self.unavailable)} product(s) unconfirmed and written to "
            f"{self.settings.dead_letter_path}; run stopped before saving state"
        )

    def finish(self) -> dict[str, Any]:
        """Account what is still in flight, write the run report, log the summary line."""
        self.dispatcher.settle()
        self._write_cache()
        self.executor.shutdown(wait=True)
        self.dead_letters.close()
        self.dry_run_writer.close()
        if self.cache is not None:
            self.cache.close()
        report = self.report.to_dict(
            self.client.counters, self.settings.dead_letter_path, dry_run=self.settings.dry_run
        )
        write_report(self.settings.run_report_path, report)
        logger.info("%s", summary_line(report))
        self.client.close()
        return report

    def abort(self) -> None:
        self.dispatcher.cancel()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.dead_letters.close()
        self.dry_run_writer.close()
        if self.cache is not None:
            self.cache.close()
        self.client.close()
