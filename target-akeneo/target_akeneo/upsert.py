"""The upserter: what happens to mapped products between the sink and the PIM.

It owns the rules of sending (ordering and newest-wins through the `Dispatcher`,
skip-unchanged, option creation, uuid assignment), the outcome of every line (confirmed,
or a dead letter with its reason), the run report, and the promise behind each STATE:
`settle` returns only once the PIM has answered for every product handed over before.
Its collaborators are passed in; it builds no client, file or cache of its own.

Media sources are split off each line before hashing (`media.split_media`) and handed to
the `MediaUploader` once the PIM has the product. Stages to come attach here: a lane per
kind of line in the dispatcher (models before their variants), and
the state store behind `ConfirmedPayloads` (rejected products to retry, value hashes).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from target_akeneo.associations import AssociationPass
from target_akeneo.cache import ConfirmedPayloads, payload_digest
from target_akeneo.categories import CategoryPaths
from target_akeneo.client import AkeneoClient, LineResult
from target_akeneo.dispatch import Dispatcher, Outcome, Pending
from target_akeneo.errors import PimUnavailableError, TargetAkeneoError
from target_akeneo.mapping import CompiledMapping
from target_akeneo.media import MediaUploader, MediaValue, split_media
from target_akeneo.missing import MissingProducts
from target_akeneo.report import JsonLinesWriter, RunReport, dead_letter, summary_line, write_report
from target_akeneo.structure import PimStructure

logger = logging.getLogger("target-akeneo")

_encode = msgspec.json.Encoder(order="sorted").encode
PRODUCTS = "products"  # the dispatcher lane of product lines


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
        media: MediaUploader | None = None,
        associations: AssociationPass | None = None,
        category_paths: CategoryPaths | None = None,
        missing: MissingProducts | None = None,
    ) -> None:
        self._client = client
        self._structure = structure
        self._confirmed = confirmed
        self._report = report
        self._dead_letters = dead_letters
        self._dry_run_writer = dry_run_writer
        self._options = options
        self._executor = executor or ThreadPoolExecutor(
            max_workers=options.max_concurrency, thread_name_prefix="akeneo-send"
        )
        # Two chunks per worker: one being sent, one ready, so workers never wait for reading.
        self._dispatcher = Dispatcher(
            self, self._executor, options.batch_size, limit=2 * options.max_concurrency
        )
        # Outcomes whose retries ran out: the PIM is gone and the run must end without STATE.
        self._unavailable: list[Outcome] = []
        # Media sources of products being sent: uploaded once the product is confirmed.
        self._media = media
        self._media_of: dict[str, list[MediaValue]] = {}
        # Association lines go out in a second pass, once the products they name are in.
        self._associations = associations
        self._category_paths = category_paths
        # Products received per version, for `missing_products` on ACTIVATE_VERSION.
        self._missing = missing

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
        back: set[str] = set()
        if self._missing is not None and not options.dry_run:
            back = self._missing.received(stream, list(batch.products))
        for identifier, (mapped, record) in batch.products.items():
            payload = self._split_media(identifier, mapped)
            if identifier in back and "enabled" not in payload:
                payload = {**payload, "enabled": True}  # disabled when it went missing
            if self._category_paths is not None:
                payload = self._category_paths.to_codes(stream, payload)
            line = _encode(payload)
            items.append(Pending(stream, identifier, payload, record, payload_digest(line), line))
        if self._category_paths is not None and not options.dry_run:
            items = self._known_categories(items)
        if not options.dry_run:
            # An older version still in flight is answered first: newest wins, sent once.
            self._dispatcher.wait_for(item.identifier for item in items)
        todo = self._changed(stream, items)
        self._follow_unchanged(items, todo)
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

    def _known_categories(self, items: list[Pending]) -> list[Pending]:
        """Products whose path categories are missing (and not created) are held back."""
        assert self._category_paths is not None
        unknown = self._category_paths.prepare()
        if not unknown:
            return items
        kept = []
        for item in items:
            missing = [unknown[c] for c in item.payload.get("categories", ()) if c in unknown]
            if not missing:
                kept.append(item)
                continue
            self._report.add(item.stream, "rejected")
            self._media_of.pop(item.identifier, None)
            self._dead_letters.write(
                dead_letter(
                    item.stream,
                    item.identifier,
                    "unknown_category",
                    status_code=None,
                    message="; ".join(missing),
                    errors=None,
                    record=item.record,
                    payload=item.payload,
                )
            )
        return kept

    def _split_media(self, identifier: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The line without media sources; these go to the media step once confirmed."""
        if self._media is None or self._options.dry_run:
            return payload
        payload, media = split_media(payload, self._structure)
        self._media.forget_erased(identifier, payload)
        if media:
            self._media_of[identifier] = media
        else:
            self._media_of.pop(identifier, None)
        return payload

    def _follow_unchanged(self, items: Sequence[Pending], todo: Sequence[Pending]) -> None:
        """Products the PIM already has unchanged still get their media and associations."""
        if self._media is None and self._associations is None and self._missing is None:
            return
        sent = {item.identifier for item in todo}
        unchanged = [item for item in items if item.identifier not in sent]
        if self._missing is not None and unchanged:
            # Confirmed by an earlier run (skip-unchanged): the PIM has them.
            self._missing.confirmed(unchanged[0].stream, [item.identifier for item in unchanged])
        for item in unchanged:
            self._follow(item)

    def _follow(self, item: Pending) -> None:
        """The PIM has this product: its media values and associations can follow."""
        if self._associations is not None:
            self._associations.add(item.stream, item.identifier, item.record)
        values = self._media_of.pop(item.identifier, None)
        if values and self._media is not None:
            self._media.submit(item.stream, item.identifier, item.record, values)

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
        found = self._client.find_uuids([item.identifier for item in items], attribute)
        for item in items:
            payload = {key: value for key, value in item.payload.items() if key != "identifier"}
            payload["uuid"] = found.get(item.identifier) or str(uuid.uuid4())
            if attribute:
                values = dict(payload.get("values", {}))
                values[attribute] = [{"locale": None, "scope": None, "data": item.identifier}]
                payload["values"] = values
            item.line = _encode(payload)

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
        if self._missing is not None:
            confirmed: dict[str, list[str]] = {}
            for outcome in outcomes:
                if outcome.reason is None:
                    confirmed.setdefault(outcome.item.stream, []).append(outcome.item.identifier)
            for stream, identifiers in confirmed.items():
                self._missing.confirmed(stream, identifiers)
        for outcome in outcomes:
            item = outcome.item
            if outcome.reason is None:
                status = "created" if outcome.status_code == 201 else "updated"
                self._confirmed.confirm(item.identifier, item.digest)
                self._follow(item)
            else:
                status = "rejected"
                self._media_of.pop(item.identifier, None)
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

    def activate_version(self, stream: str, version: int) -> None:
        """Singer's ACTIVATE_VERSION: once everything before is answered, apply
        `missing_products` (a refusal writes the report and stops the run)."""
        self.settle()
        if self._missing is None:
            return
        try:
            self._missing.activate_version(stream, version)
        except TargetAkeneoError:
            self.finish()
            raise

    def settle(self) -> None:
        """Return once the PIM answered for every product received so far.

        Raises `PimUnavailableError` (after writing the run report) when retries ran out for
        any product, so no STATE can cover a product whose outcome is unknown: those products
        are in the dead-letter file, and the bookmark stays where it was.
        """
        self._dispatcher.settle()
        if self._media is not None:
            self._media.settle()
        if self._associations is not None:
            self._associations.flush(final=False)
        self._confirmed.flush()
        self._dead_letters.flush()
        if self._media is not None and self._media.unavailable and not self._unavailable:
            self.finish()
            raise PimUnavailableError(
                f"the PIM at {self._options.base_url} is unavailable for media uploads "
                f"({self._media.unavailable[-1]}); run stopped before saving state"
            )
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
        if self._associations is not None:
            self._associations.flush(final=True)
        self._executor.shutdown(wait=True)
        if self._media is not None:
            self._media.close()
        if self._missing is not None:
            self._missing.close()
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


def _outcome(item: Pending, result: LineResult) -> Outcome:
    if result.ok:
        return Outcome(item, result.status_code, result.body, None)
    reason = "retries_exhausted" if result.exhausted else "rejected_by_pim"
    return Outcome(item, result.status_code, result.body, reason)
