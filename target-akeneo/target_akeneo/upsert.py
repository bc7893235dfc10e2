"""The upserter: what happens to mapped products between the sink and the PIM.

It owns the rules of sending (ordering and newest-wins through the `Dispatcher`,
skip-unchanged, option creation, uuid assignment), the outcome of every line (confirmed,
or a dead letter with its reason), the run report, and the promise behind each STATE:
`settle` returns only once the PIM has answered for every product handed over before.
Its collaborators are passed in; it builds no client, file or cache of its own.

Media sources are split off each line before hashing (`media.split_media`) and handed to
the `MediaUploader` once the PIM has the product; association lines follow in a second
pass (`AssociationPass`). Stages to come attach here: a lane per kind of line in the
dispatcher (models before their variants), and more of the state store behind
`ConfirmedPayloads` (value hashes). Rejected products are kept in the `RejectedStore` and
come back through `retry`: queued there, and read and sent `RETRY_CHUNK` at a time at their
stream's first batch, so retrying a whole catalog holds one chunk in memory.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from target_akeneo.associations import AssociationPass
from target_akeneo.cache import ConfirmedPayloads
from target_akeneo.category_paths import CategoryPaths
from target_akeneo.client import AkeneoClient, LineResult
from target_akeneo.deltas import ValueKey, count_values, delta, value_keys
from target_akeneo.dispatch import Dispatcher, Outcome, Pending
from target_akeneo.errors import PimUnavailableError, TargetAkeneoError
from target_akeneo.mapping import CompiledMapping
from target_akeneo.media import MediaUploader, MediaValue, Owner, split_media
from target_akeneo.missing import MissingProducts
from target_akeneo.models import MODELS, ModelStage, Row
from target_akeneo.option_codes import OptionCodes
from target_akeneo.preview import MODEL, PRODUCT, DryRun
from target_akeneo.rejected import RejectedStore, record_key
from target_akeneo.report import JsonLinesWriter, RunReport, dead_letter, summary_line, write_report
from target_akeneo.report_page import RunHistory, write_report_page
from target_akeneo.structure import PimStructure
from target_akeneo.uuids import Uuids, UuidStore

if TYPE_CHECKING:
    from target_akeneo.categories import CategoryCheck

logger = logging.getLogger("target-akeneo")

_encode = msgspec.json.Encoder(order="sorted").encode
PRODUCTS = "products"  # the dispatcher lane of product lines
RETRY_CHUNK = 500  # pending records read, mapped and sent at a time


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


# Maps a chunk of source records into a batch (the sink's mapping and identifier hint).
BuildBatch = Callable[[Sequence[dict[str, Any]]], Batch]


@dataclass(frozen=True)
class UpsertOptions:
    """The settings the upserter acts on."""

    by_uuid: bool
    create_missing_options: bool
    whole_product: bool  # `send: whole_product`: a changed product goes out whole
    dry_run: bool
    batch_size: int
    max_concurrency: int
    base_url: str
    dead_letter_path: Path
    run_report_path: Path
    preview_path: Path
    report_page_path: Path


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
        dry_run: DryRun,
        options: UpsertOptions,
        executor: Executor | None = None,
        uuid_store: UuidStore | None = None,
        rejected: RejectedStore | None = None,
        categories: CategoryCheck | None = None,
        media: MediaUploader | None = None,
        associations: AssociationPass | None = None,
        category_paths: CategoryPaths | None = None,
        missing: MissingProducts | None = None,
        history: RunHistory | None = None,
    ) -> None:
        self._client = client
        self._structure = structure
        self._confirmed = confirmed
        self._report = report
        self._dead_letters = dead_letters
        self._dry_run = dry_run
        self._history = history
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
        # Media sources of products being sent: uploaded once the product is confirmed.
        self._media = media
        self._media_of: dict[str, list[MediaValue]] = {}
        # Association lines go out in a second pass, once the products they name are in.
        self._associations = associations
        self._category_paths = category_paths
        # Products received per version, for `missing_products` on ACTIVATE_VERSION.
        self._missing = missing
        # Rejected products kept for later runs, and this run's retries of them.
        self._rejected = rejected
        # (Which retries are in flight is asked of the store: memory holds none of them.)
        self._retry_done: set[str] = set()
        # Per stream with queued retries, how to map them, until the stream's first batch
        # (or the next settle): a product that batch holds again is dropped, newest wins.
        self._held: dict[str, tuple[CompiledMapping, BuildBatch]] = {}
        self._categories = categories
        self._option_codes = OptionCodes(structure)
        # Streams with a `model` block: their rows wait for settle (see models.py).
        self._models: ModelStage | None = None
        self._mappings: dict[str, CompiledMapping] = {}
        # Products a delta created (deleted in the PIM meanwhile), to send again whole.
        self._recreate: list[Pending] = []
        self._remade: set[tuple[str, str]] = set()  # those sent whole, not yet answered
        # Per stream, the values its mapping may erase (see `deltas.value_keys`).
        self._erasable: dict[str, tuple[ValueKey, ...]] = {}

    def stage_models(self, make: Callable[[Dispatcher], ModelStage]) -> None:
        """Attach the model stage (it sends through this upserter's dispatcher)."""
        self._models = make(self._dispatcher)

    # -- from the sinks (main thread) ---------------------------------------------------

    def retry(self, mapping: CompiledMapping, build: BuildBatch) -> int:
        """Queue a stream's rejected products to send again, once per run, at its first
        batch or the next settle; return how many (none when retrying is off)."""
        stream = mapping.stream
        if self._rejected is None or stream in self._retry_done:
            return 0
        self._retry_done.add(stream)
        count = self._rejected.queue(stream)
        if count:
            self._held[stream] = (mapping, build)
        return count

    def submit(self, mapping: CompiledMapping, batch: Batch) -> None:
        """Account a drained batch and queue its changed products (answers come later).

        The stream's queued retries go first, less the products this batch holds again.
        """
        held = self._held.pop(mapping.stream, None)
        if held is not None:
            self._send_retries(mapping, held[1], batch)
        self._check_categories(mapping, batch)
        self._submit(mapping, batch, retry=False)

    def _send_retries(self, mapping: CompiledMapping, build: BuildBatch, first: Batch) -> None:
        """Map and send the stream's queued products `RETRY_CHUNK` at a time (the dispatcher
        waits for answers past its limit, so only a few chunks are ever held)."""
        assert self._rejected is not None
        stream = mapping.stream
        again = [*first.products, *(e.identifier for e in first.unmappable if e.identifier)]
        self._rejected.answered(stream, again)  # the newer record wins: not retried
        for records in self._rejected.queued(stream, RETRY_CHUNK):
            retried = build(records)
            if retried.unmappable:
                # Counted still rejected at once: no longer a retry in flight.
                keys = [record_key(e.identifier, e.record) for e in retried.unmappable]
                self._rejected.answered(stream, keys)
            self._check_categories(mapping, retried, first)  # (the stream's first only)
            self._submit(mapping, retried, retry=True)

    def _check_categories(self, mapping: CompiledMapping, *batches: Batch) -> None:
        if self._categories is not None:
            self._categories.check(mapping.mapping, *batches)

    def _submit(self, mapping: CompiledMapping, batch: Batch, *, retry: bool) -> None:
        """`retry`: the batch holds pending products from the state store, counted in
        `received` and `retried` (and `still_rejected` if rejected again)."""
        stream, report = mapping.stream, self._report
        if mapping.mapping.kind == "product_models" and self._models is not None:
            self._submit_models(mapping, batch)
            return
        report.add(stream, "received", batch.received)
        if retry:
            report.add(stream, "retried", batch.received)
            report.add(stream, "still_rejected", len(batch.unmappable))
        if batch.superseded:
            report.add(stream, "unchanged", batch.superseded)
            report.add(stream, "superseded", batch.superseded)
        for entry in batch.unmappable:
            report.add(stream, "rejected")
            if self._rejected is not None:
                self._rejected.keep(stream, entry.identifier, entry.record, entry.message)
            self._write_unmappable(stream, entry, PRODUCT)
        if batch.unmappable and self._rejected is not None:
            self._rejected.flush()
        if batch.products and self._models is not None and self._models.builder.handles(stream):
            self._hold_for_models(mapping, batch)
        elif batch.products:
            self._send(mapping, batch)
        if self._unavailable:
            self.settle()

    def _send(self, mapping: CompiledMapping, batch: Batch) -> None:
        stream, options = mapping.stream, self._options
        self._mappings[stream] = mapping
        self._send_whole()
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
            # The line and the state to remember are set by `_changed`.
            items.append(Pending(stream, identifier, payload, record, b"", b""))
        if self._category_paths is not None and not options.dry_run:
            items = self._known_categories(items)
        if not options.dry_run:
            # An older version still in flight is answered first: newest wins, sent once.
            self._dispatcher.wait_for(item.identifier for item in items)
        todo = self._changed(mapping, items)
        self._follow_unchanged(items, todo)
        todo = self._existing_only(mapping, todo)
        if self._models is not None and not options.dry_run:
            todo = self._models.parents_ready(todo)
        if not todo:
            return
        if options.dry_run:
            self._dry_run.planned(
                PRODUCT, stream, [(item.identifier, item.payload) for item in todo]
            )
            self._report.add(stream, "planned", len(todo))
            self._report.add(stream, "values_sent", sum(count_values(i.payload) for i in todo))
            return
        if options.create_missing_options:
            self._create_missing_options(mapping, todo)
        if options.by_uuid:
            self._assign_uuids(todo)
        self._dispatcher.send(PRODUCTS, todo)

    def _submit_models(self, mapping: CompiledMapping, batch: Batch) -> None:
        """A `product_models:` stream: its lines are models, counted apart from products."""
        assert self._models is not None
        for entry in batch.unmappable:
            self._report.add_model("rejected")
            self._write_unmappable(mapping.stream, entry, MODEL)
        if batch.products:
            self._models.submit_stream(mapping.stream, batch.products)

    def _hold_for_models(self, mapping: CompiledMapping, batch: Batch) -> None:
        self._mappings[mapping.stream] = mapping
        options = self._options
        if options.create_missing_options and not options.dry_run:
            # Before the models go out: their values (a colour axis) may need new options.
            self._create_missing_options(
                mapping,
                [
                    Pending(mapping.stream, k, p, r, b"", b"")
                    for k, (p, r) in batch.products.items()
                ],
            )
        assert self._models is not None
        confirmed = self._confirmed if self._unchanged_needs_nothing() else None
        replaced = self._models.collect(mapping.stream, batch.products, confirmed)
        if replaced:
            self._report.add(mapping.stream, "unchanged", replaced)
            self._report.add(mapping.stream, "superseded", replaced)

    def _unchanged_needs_nothing(self) -> bool:
        """Whether a product found unchanged needs nothing but `count_unchanged`: no media
        or associations follow it, no category path or re-enabling changes its payload before
        it is compared, no preview lists it. Then model rows are compared as they are held."""
        return not self._options.dry_run and all(
            step is None
            for step in (self._media, self._associations, self._category_paths, self._missing)
        )

    def count_unchanged(self, stream: str, identifiers: list[str]) -> None:
        """Products the PIM has as their records hold them: nothing of theirs is pending."""
        self._report.add(stream, "unchanged", len(identifiers))
        if self._rejected is not None:
            self._rejected.answered(stream, identifiers)
            self._rejected.resolve(stream, identifiers)

    def send_rows(self, stream: str, rows: list[Row]) -> None:
        """Send rows of a model stream once their parents are confirmed (the model stage)."""
        batch = Batch()
        for row in rows:
            batch.products[row.identifier] = (row.payload, row.record)
        self._send(self._mappings[stream], batch)

    def refuse_row(self, row: Row, reason: str, body: Mapping[str, Any]) -> None:
        """Dead-letter a row of a model stream that is not sent (conflict, model rejected)."""
        self._report.add(row.stream, "rejected")
        self._media_of.pop(row.identifier, None)
        errors = body.get("errors")
        status = body.get("status_code")
        if self._options.dry_run:
            message = str(body.get("message") or "")
            self._dry_run.refused(PRODUCT, row.stream, row.identifier, f"{reason}: {message}")
        self._dead_letters.write(
            dead_letter(
                row.stream,
                row.identifier,
                reason,
                status_code=status if isinstance(status, int) else None,
                message=str(body.get("message") or ""),
                errors=errors if isinstance(errors, list) else None,
                record=row.record,
                payload=row.payload,
            )
        )

    def _changed(self, mapping: CompiledMapping, items: list[Pending]) -> list[Pending]:
        """The products to send, each reduced to what differs from what the PIM confirmed
        from this stream (`send: changed_values`) or whole when anything differs."""
        stream = mapping.stream
        erasable = self._erasable.get(stream)
        if erasable is None:
            erasable = self._erasable[stream] = value_keys(mapping.mapping)
        known = self._confirmed.known(stream, [item.identifier for item in items])
        todo = []
        for item in items:
            found = delta(
                item.payload,
                known.get(item.identifier),
                whole=self._options.whole_product,
                erasable=erasable,
            )
            item.digest = found.state
            if found.payload is not None:
                if found.payload is not item.payload:
                    item.whole = item.payload
                item.payload, item.line = found.payload, _encode(found.payload)
                todo.append(item)
        if len(todo) < len(items):
            sent = {item.identifier for item in todo}
            same = [item.identifier for item in items if item.identifier not in sent]
            if self._options.dry_run:
                kept = [
                    (item.identifier, item.payload) for item in items if item.identifier not in sent
                ]
                self._dry_run.unchanged(PRODUCT, stream, kept)
            self.count_unchanged(stream, same)
        return todo

    def _existing_only(self, mapping: CompiledMapping, items: list[Pending]) -> list[Pending]:
        """`create: false`: the products the PIM lacks are skipped, found by one search per
        100 changed products (by uuid, the search's uuids are then used for sending)."""
        if mapping.mapping.create or not items:
            return items
        stream, attribute = mapping.stream, self._structure.identifier_attribute
        identifiers = [item.identifier for item in items]
        if self._options.by_uuid:
            found = self._client.find_uuids(identifiers, attribute)
            if not self._options.dry_run:
                self._uuids.searched(found)
            existing = set(found)
        else:
            existing = self._client.existing_products(identifiers, attribute)
        kept = [item for item in items if item.identifier in existing]
        if len(kept) < len(items):
            skipped = [item.identifier for item in items if item.identifier not in existing]
            self._report.add(stream, "skipped_missing", len(skipped))
            if self._rejected is not None:
                self._rejected.answered(stream, skipped)
            logger.info(
                "stream '%s': %d product(s) the PIM does not have were skipped (create: false)",
                stream,
                len(skipped),
            )
        return kept

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
            if self._rejected is not None:  # sent again next run: the category may exist then
                self._rejected.keep(item.stream, item.identifier, item.record, "unknown_category")
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
        if self._rejected is not None:
            self._rejected.flush()
        return kept

    def _split_media(self, identifier: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The line without media sources; these go to the media step once confirmed."""
        if self._media is None or self._options.dry_run:
            return payload
        payload, media = split_media(payload, self._structure)
        self._media.forget_erased(Owner(identifier), payload)
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
            self._media.submit(item.stream, Owner(item.identifier), item.record, values)

    def _create_missing_options(self, mapping: CompiledMapping, items: Sequence[Pending]) -> None:
        """Create the options a mapped select value needs, with codes Akeneo accepts made from
        the source values (see `option_codes`) and the source text as labels; the products
        then carry those codes. Throttled by the client."""
        structure = self._structure
        locales = _label_locales(mapping, structure)
        for attribute, multiple in mapping.select_attributes:
            values: set[str] = set()
            for item in items:
                for entry in item.payload.get("values", {}).get(attribute, ()):
                    data = entry["data"]
                    values.update(v for v in (data if multiple else (data,)) if isinstance(v, str))
            codes = self._option_codes.codes_for(attribute, values)
            renamed = {value: code for value, code in codes.items() if value != code}
            if renamed:
                _use_codes(items, attribute, renamed, multiple=multiple)
            labels: dict[str, dict[str, str]] = {}
            for value, code in sorted(codes.items()):
                if not structure.has_option(attribute, code):
                    labels.setdefault(code, dict.fromkeys(locales, value))
            if not labels:
                continue
            created = []
            results = self._client.create_options(attribute, list(labels), labels)
            for code, result in zip(labels, results, strict=True):
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
            with structure.options_lock:
                known = structure.option_labels.setdefault(attribute, {})
                known.update({code: frozenset(labels[code].values()) for code in created})
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

    def _write_unmappable(self, stream: str, entry: Unmappable, kind: str) -> None:
        """The dead letter of a record the mapping could not turn into a product or model."""
        if self._options.dry_run:
            self._dry_run.refused(kind, stream, entry.identifier, entry.message)
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

    # -- from the dispatcher ------------------------------------------------------------

    def send_chunk(self, lane: str, chunk: Sequence[Pending]) -> list[Outcome]:
        """Send one ≤100-line request (worker thread); the client retries what is transient."""
        if lane == MODELS and self._models is not None:
            return self._models.send_chunk(chunk)
        results = self._client.upsert_products(
            [item.line for item in chunk], by_uuid=self._options.by_uuid
        )
        return [_outcome(item, result) for item, result in zip(chunk, results, strict=True)]

    def account(self, lane: str, outcomes: Sequence[Outcome]) -> None:
        """Tally one chunk's outcomes (main thread, in submission order)."""
        if lane == MODELS and self._models is not None:
            self._unavailable.extend(self._models.account(outcomes))
            return
        counts: dict[tuple[str, str], int] = {}
        confirmed: dict[str, list[str]] = {}
        refused: dict[str, list[str]] = {}
        recreated: list[Pending] = []
        for outcome in outcomes:
            item = outcome.item
            models = self._models
            if (
                outcome.reason == "rejected_by_pim"
                and models
                and models.held_for_conversion(outcome)
            ):
                continue
            if self._options.by_uuid:
                self._uuids.answered(item.identifier, outcome.status_code)
            counts[item.stream, "values_sent"] = counts.get(
                (item.stream, "values_sent"), 0
            ) + count_values(item.payload)
            counts[item.stream, "bytes_sent"] = counts.get((item.stream, "bytes_sent"), 0) + len(
                item.line
            )
            if outcome.reason is None and outcome.status_code == 201 and item.whole:
                # The delta created the product: it was deleted in the PIM. Every stream
                # sends it whole again, this one at once (counted then).
                recreated.append(item)
                continue
            key = (item.stream, item.identifier)
            if outcome.reason is None:
                # A product its delta created (then sent whole) counts as created.
                remade = key in self._remade
                self._remade.discard(key)
                status = "created" if outcome.status_code == 201 or remade else "updated"
                self._confirmed.confirm(item.stream, item.identifier, item.digest)
                confirmed.setdefault(item.stream, []).append(item.identifier)
                self._follow(item)
            else:
                status = "rejected"
                self._remade.discard(key)
                self._media_of.pop(item.identifier, None)
                self._reject(outcome)
                refused.setdefault(item.stream, []).append(item.identifier)
            counts[item.stream, status] = counts.get((item.stream, status), 0) + 1
        if recreated:
            self._confirmed.forget([item.identifier for item in recreated])
            self._recreate.extend(recreated)
            self._remade.update((item.stream, item.identifier) for item in recreated)
        if self._rejected is not None:
            for stream, identifiers in confirmed.items():
                self._rejected.answered(stream, identifiers)
                self._rejected.resolve(stream, identifiers)
            for stream, identifiers in refused.items():
                still = len(self._rejected.answered(stream, identifiers))
                if still:
                    counts[stream, "still_rejected"] = still
            self._rejected.flush()
        if self._missing is not None:
            for stream, identifiers in confirmed.items():
                self._missing.confirmed(stream, identifiers)
        for (stream, status), count in counts.items():
            self._report.add(stream, status, count)

    def _send_whole(self) -> None:
        """Send again, whole, the products a delta created (main thread, outside `account`;
        before any newer version of them is compared)."""
        while self._recreate:
            items, self._recreate = self._recreate, []
            logger.warning(
                "%d product(s) deleted in the PIM since last confirmed: sent whole again "
                "(first: '%s')",
                len(items),
                items[0].identifier,
            )
            whole = []
            for item in items:
                assert item.whole is not None
                line = _encode(item.whole)
                whole.append(
                    Pending(
                        item.stream, item.identifier, item.whole, item.record, item.digest, line
                    )
                )
            for stream in dict.fromkeys(item.stream for item in whole):
                group = [item for item in whole if item.stream == stream]
                if self._options.create_missing_options:
                    self._create_missing_options(self._mappings[stream], group)
                if self._options.by_uuid:
                    self._assign_uuids(group)
                self._dispatcher.send(PRODUCTS, group)

    def _reject(self, outcome: Outcome) -> None:
        item = outcome.item
        if outcome.reason == "retries_exhausted":
            self._unavailable.append(outcome)
        errors = outcome.body.get("errors")
        if self._rejected is not None:
            self._rejected.keep(item.stream, item.identifier, item.record, _reason(outcome))
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
        for stream in list(self._held):
            mapping, build = self._held.pop(stream)
            self._send_retries(mapping, build, Batch())
        if self._models is not None:
            if self._unavailable:
                self._models.abandon("the PIM is unavailable")
            elif self._models.builder.pending():
                self._models.flush()
            self._dispatcher.settle()
            while self._models.convert():
                self._dispatcher.settle()
        self._dispatcher.settle()
        while self._recreate:
            self._send_whole()
            self._dispatcher.settle()
        if self._media is not None:
            self._media.settle()
        if self._associations is not None:
            self._associations.flush(final=False)
        self._confirmed.flush()
        self._uuids.flush()
        if self._rejected is not None:
            self._rejected.flush()
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
                f"{self._dead_letters.path}; run stopped before saving state"
            )

    def finish(self) -> dict[str, Any]:
        """Account what is still in flight, write the run report, log the summary line."""
        self._dispatcher.settle()
        while self._recreate and not self._unavailable:
            self._send_whole()
            self._dispatcher.settle()
        if self._associations is not None:
            self._associations.flush(final=True)
            self._associations.close()
        self._executor.shutdown(wait=True)
        if self._media is not None:
            self._media.close()
        if self._missing is not None:
            self._missing.close()
        self._close_files()
        written = self._dead_letters.path if self._dead_letters.count else None
        report = self._report.to_dict(self._client.counters, written, dry_run=self._options.dry_run)
        options = self._options
        preview = self._dry_run.preview
        if options.dry_run and preview is not None:
            report["preview_reads"] = preview.reads
        write_report(options.run_report_path, report)
        if options.dry_run and preview is not None:
            preview.write(options.preview_path, options.base_url)
            preview.close()
            self._dry_run.preview = None
            logger.info("change preview written to %s", options.preview_path)
        elif not options.dry_run:
            self._write_report_page(report)
        logger.info("%s", summary_line(report))
        return report

    def _write_report_page(self, report: dict[str, Any]) -> None:
        """The run's HTML report, with the recent runs of this PIM kept in the state store."""
        history = self._history
        runs = [report]
        if history is not None:
            runs = history.add(report)
            history.close()
            self._history = None
        write_report_page(self._options.report_page_path, report, runs, self._options.base_url)
        logger.info("run report page written to %s", self._options.report_page_path)

    def _close_files(self) -> None:
        if self._models is not None:
            self._models.close()
        self._dead_letters.close()
        self._dry_run.close()
        self._confirmed.close()
        self._uuids.close()
        if self._rejected is not None:
            self._rejected.close()
            self._rejected = None


def _label_locales(mapping: CompiledMapping, structure: PimStructure) -> list[str]:
    """Locales of new options' labels: those the stream's mapping writes, else every
    activated locale of the PIM."""
    named: set[str] = set()
    for spec in mapping.mapping.values:
        named.update(spec.locales.values() if spec.locales else ())
        if spec.locale:
            named.add(spec.locale)
    return sorted(named or {code for code, active in structure.locales.items() if active})


def _use_codes(
    items: Sequence[Pending], attribute: str, codes: Mapping[str, str], *, multiple: bool
) -> None:
    """Put option codes in place of the source values (the digest stays the source's)."""
    for item in items:
        entries = item.payload.get("values", {}).get(attribute)
        if not entries:
            continue
        for entry in entries:
            data = entry["data"]
            if multiple and isinstance(data, list):
                entry["data"] = [codes.get(v, v) if isinstance(v, str) else v for v in data]
            elif isinstance(data, str):
                entry["data"] = codes.get(data, data)
        item.line = _encode(item.payload)


def _reason(outcome: Outcome) -> str:
    """One line for the pending list: Akeneo's message and its first errors."""
    body = outcome.body
    parts = [str(body.get("message") or outcome.reason or "rejected")]
    errors = body.get("errors")
    if isinstance(errors, list):
        parts.extend(
            f"{error.get('attribute') or error.get('property') or ''}: {error.get('message')}"
            for error in errors[:3]
            if isinstance(error, Mapping)
        )
    return "; ".join(parts)


def _outcome(item: Pending, result: LineResult) -> Outcome:
    if result.ok:
        return Outcome(item, result.status_code, result.body, None)
    reason = "retries_exhausted" if result.exhausted else "rejected_by_pim"
    return Outcome(item, result.status_code, result.body, reason)
