"""The upserter: what happens to mapped products between the sink and the PIM.

It owns the rules of sending (ordering and newest-wins through the `Dispatcher`,
skip-unchanged, option creation, uuid assignment), the outcome of every line (confirmed,
or a dead letter with its reason), the run report, and the promise behind each STATE:
`settle` returns only once the PIM has answered for every product handed over before.
Its collaborators are passed in; it builds no client, file or cache of its own.

Stages to come attach here: a pre-send step beside `_create_missing_options` (media
uploads), a lane per kind of line in the dispatcher (models before their variants), and
the state store behind `ConfirmedPayloads` (rejected products to retry, value hashes).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from target_akeneo.cache import ConfirmedPayloads
from target_akeneo.client import AkeneoClient, LineResult
from target_akeneo.dispatch import Dispatcher, Outcome, Pending
from target_akeneo.errors import PimUnavailableError
from target_akeneo.mapping import CompiledMapping
from target_akeneo.report import JsonLinesWriter, RunReport, dead_letter, summary_line, write_report
from target_akeneo.structure import PimStructure
from target_akeneo.uuids import Uuids, UuidStore

logger = logging.getLogger("target-akeneo")

_encode = msgspec.json.Encoder(order="sorted").encode
PRODUCTS = "products"  # the dispatcher lane of product lines


def _digest(line: bytes) -> str:
    return hashlib.blake2b(line, digest_size=16).hexdigest()


@dataclass
class Unmappable:
    """A record the mapping could not turn into a product."""

    identifier: str | None
    record: Mapping[str, Any]
    message: str


@dataclass
class Batch:
    """What a sink hands over per drained batch: products deduplicated, newest kept."""

    received: int = 0
    superseded: int = 0
    products: dict[str, tuple[dict[str, Any], Mapping[str, Any]]] = field(default_factory=dict)
    unmappable: list[Unmappable] = field(default_factory=list)

    def add(self, identifier: str, payload: dict[str, Any], record: Mapping[str, Any]) -> None:
        if identifier in self.products:
            # A later record replaces the pending one: the product goes out once, newest.
            self.superseded += 1
        self.products[identifier] = (payload, record)


@dataclass(frozen=True)
class UpsertOptions:
    """The settings the upserter acts on."""

    by_uuid: bool
    create_missing_options: bool
    dry_run: bool
    batch_size: int
    max_concurrency: int
    base_url: str
    dead_letter_path: Path
    run_report_path: Path


class Upserter:
    """Sends mapped products, accounts for every line, writes the run report."""

    def __init__(
        self,
        *,
        client: AkeneoClient,
        structure: PimStructure,
        confirmed: ConfirmedPayloads,
        report: RunReport,
        dead_letters: JsonLinesWriter,
        dry_run_writer: JsonLinesWriter,
        options: UpsertOptions,
        executor: Executor | None = None,
        uuid_store: UuidStore | None = None,
    ) -> None:
        self._client = client
        self._structure = structure
        self._confirmed = confirmed
        self._report = report
        self._dead_letters = dead_letters
        self._dry_run_writer = dry_run_writer
        self._options = options
        self._uuids = Uuids(uuid_store, self._search_uuids)
        self._executor = executor or ThreadPoolExecutor(
            max_workers=options.max_concurrency, thread_name_prefix="akeneo-send"
        )
        # Two chunks per worker: one being sent, one ready, so workers never wait for reading.
        self._dispatcher = Dispatcher(
            self, self._executor, options.batch_size, limit=2 * options.max_concurrency
        )
        # Outcomes whose retries ran out: the PIM is gone and the run must end without STATE.
        self._unavailable: list[Outcome] = []

    # -- from the sinks (main thread) ---------------------------------------------------

    def submit(self, mapping: CompiledMapping, batch: Batch) -> None:
        """Account a drained batch and queue its changed products (answers come later)."""
        stream, report = mapping.stream, self._report
        report.add(stream, "received", batch.received)
        if batch.superseded:
            report.add(stream, "unchanged", batch.superseded)
            report.add(stream, "superseded", batch.superseded)
        for entry in batch.unmappable:
            report.add(stream, "rejected")
            self._dead_letters.write(
                dead_letter(
                    stream,
                    entry.identifier,
                    "mapping_error",
                    status_code=None,
                    message=entry.message,
                    errors=None,
                    record=entry.record,
                    payload=None,
                )
            )
        if batch.products:
            self._send(mapping, batch)
        if self._unavailable:
            self.settle()

    def _send(self, mapping: CompiledMapping, batch: Batch) -> None:
        stream, options = mapping.stream, self._options
        items = []
        for identifier, (payload, record) in batch.products.items():
            line = _encode(payload)
            items.append(Pending(stream, identifier, payload, record, _digest(line), line))
        if not options.dry_run:
            # An older version still in flight is answered first: newest wins, sent once.
            self._dispatcher.wait_for(item.identifier for item in items)
        todo = self._changed(stream, items)
        if not todo:
            return
        if options.dry_run:
            for item in todo:
                self._dry_run_writer.write({"stream": stream, "payload": item.payload})
            self._report.add(stream, "planned", len(todo))
            return
        if options.create_missing_options:
            self._create_missing_options(mapping, todo)
        if options.by_uuid:
            self._assign_uuids(todo)
        self._dispatcher.send(PRODUCTS, todo)

    def _changed(self, stream: str, items: list[Pending]) -> list[Pending]:
        known = self._confirmed.known([item.identifier for item in items])
        todo = [item for item in items if known.get(item.identifier) != item.digest]
        if len(todo) < len(items):
            self._report.add(stream, "unchanged", len(items) - len(todo))
        return todo

    def _create_missing_options(self, mapping: CompiledMapping, items: Sequence[Pending]) -> None:
        """Create unknown option codes of mapped select attributes (throttled by the client)."""
        structure = self._structure
        for attribute, multiple in mapping.select_attributes:
            missing: set[str] = set()
            for item in items:
                for entry in item.payload.get("values", {}).get(attribute, ()):
                    data = entry["data"]
                    for code in data if multiple else (data,):
                        if isinstance(code, str) and not structure.has_option(attribute, code):
                            missing.add(code)
            if not missing:
                continue
            codes = sorted(missing)
            created = []
            for code, result in zip(
                codes, self._client.create_options(attribute, codes), strict=True
            ):
                if result.ok:
                    created.append(code)
                else:
                    logger.warning(
                        "could not create option '%s' of attribute '%s': %s",
                        code,
                        attribute,
                        result.message,
                    )
            structure.add_options(attribute, created)
            logger.info("created %d option(s) of attribute '%s'", len(created), attribute)

    def _assign_uuids(self, items: Sequence[Pending]) -> None:
        """Existing products keep their uuid, new ones get a uuid4; the identifier is a value."""
        attribute = self._structure.identifier_attribute
        assigned = self._uuids.assign([item.identifier for item in items])
        for item in items:
            payload = {key: value for key, value in item.payload.items() if key != "identifier"}
            payload["uuid"] = assigned[item.identifier]
            if attribute:
                values = dict(payload.get("values", {}))
                values[attribute] = [{"locale": None, "scope": None, "data": item.identifier}]
                payload["values"] = values
            item.line = _encode(payload)

    def _search_uuids(self, identifiers: Sequence[str]) -> dict[str, str]:
        return self._client.find_uuids(identifiers, self._structure.identifier_attribute)

    # -- from the dispatcher ------------------------------------------------------------

    def send_chunk(self, lane: str, chunk: Sequence[Pending]) -> list[Outcome]:
        """Send one ≤100-line request (worker thread); the client retries what is transient."""
        results = self._client.upsert_products(
            [item.line for item in chunk], by_uuid=self._options.by_uuid
        )
        return [_outcome(item, result) for item, result in zip(chunk, results, strict=True)]

    def account(self, lane: str, outcomes: Sequence[Outcome]) -> None:
        """Tally one chunk's outcomes (main thread, in submission order)."""
        counts: dict[tuple[str, str], int] = {}
        for outcome in outcomes:
            item = outcome.item
            if self._options.by_uuid:
                self._uuids.answered(item.identifier, outcome.status_code)
            if outcome.reason is None:
                status = "created" if outcome.status_code == 201 else "updated"
                self._confirmed.confirm(item.identifier, item.digest)
            else:
                status = "rejected"
                self._reject(outcome)
            counts[item.stream, status] = counts.get((item.stream, status), 0) + 1
        for (stream, status), count in counts.items():
            self._report.add(stream, status, count)

    def _reject(self, outcome: Outcome) -> None:
        item = outcome.item
        if outcome.reason == "retries_exhausted":
            self._unavailable.append(outcome)
        errors = outcome.body.get("errors")
        self._dead_letters.write(
            dead_letter(
                item.stream,
                item.identifier,
                outcome.reason or "rejected_by_pim",
                status_code=outcome.status_code,
                message=str(outcome.body.get("message") or ""),
                errors=errors if isinstance(errors, list) else None,
                record=item.record,
                payload=json.loads(item.line),
            )
        )

    # -- run boundaries -----------------------------------------------------------------

    def settle(self) -> None:
        """Return once the PIM answered for every product received so far.

        Raises `PimUnavailableError` (after writing the run report) when retries ran out for
        any product, so no STATE can cover a product whose outcome is unknown: those products
        are in the dead-letter file, and the bookmark stays where it was.
        """
        self._dispatcher.settle()
        self._confirmed.flush()
        self._uuids.flush()
        self._dead_letters.flush()
        if self._unavailable:
            self.finish()
            last = str(self._unavailable[-1].body.get("message") or "no answer")
            raise PimUnavailableError(
                f"the PIM at {self._options.base_url} is unavailable ({last}); "
                f"{len(self._unavailable)} product(s) unconfirmed and written to "
                f"{self._options.dead_letter_path}; run stopped before saving state"
            )

    def finish(self) -> dict[str, Any]:
        """Account what is still in flight, write the run report, log the summary line."""
        self._dispatcher.settle()
        self._executor.shutdown(wait=True)
        self._close_files()
        report = self._report.to_dict(
            self._client.counters, self._options.dead_letter_path, dry_run=self._options.dry_run
        )
        write_report(self._options.run_report_path, report)
        logger.info("%s", summary_line(report))
        return report

    def _close_files(self) -> None:
        self._dead_letters.close()
        self._dry_run_writer.close()
        self._confirmed.close()
        self._uuids.close()


def _outcome(item: Pending, result: LineResult) -> Outcome:
    if result.ok:
        return Outcome(item, result.status_code, result.body, None)
    reason = "retries_exhausted" if result.exhausted else "rejected_by_pim"
    return Outcome(item, result.status_code, result.body, reason)
