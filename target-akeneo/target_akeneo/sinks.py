"""The Akeneo sink: map on arrival, dedupe, skip unchanged, send batches, account for every line."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec
from singer_sdk.helpers._typing import get_datelike_property_type
from singer_sdk.sinks import BatchSink

from target_akeneo.client import API_PREFIX, RETRYABLE_STATUSES, LineResult
from target_akeneo.dispatch import Outcome, Pending
from target_akeneo.errors import ApiError, AuthenticationError, ValueShapeError
from target_akeneo.report import dead_letter

if TYPE_CHECKING:
    from singer_sdk import Target
    from singer_sdk.helpers.conform import DatetimeErrorTreatmentEnum
    from singer_sdk.sinks.core import BaseJSONSchemaValidator

    from target_akeneo.runtime import Runtime

_encode = msgspec.json.Encoder(order="sorted").encode
UUID_LOOKUP_FIELD = "identifier"


def _digest(line: bytes) -> str:
    return hashlib.blake2b(line, digest_size=16).hexdigest()


def _chunks(items: Sequence[Pending], size: int) -> list[Sequence[Pending]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


class AkeneoSink(BatchSink):
    """One per stream; a batch is queued for sending and accounted later, before STATE."""

    # Small batches keep the senders fed: the next 200 records are mapped while the chunks
    # already queued go out. Chunks stay full across batches (see `Dispatcher`).
    MAX_SIZE_DEFAULT = 200

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: Sequence[str] | None,
    ) -> None:
        self.runtime: Runtime = target.runtime  # type: ignore[attr-defined]
        self._compiled = self.runtime.compiled_for(stream_name)
        self._timestamp_plan: tuple[dict[str, Any], frozenset[str], tuple[str, ...]] | None = None
        super().__init__(target, stream_name, schema, key_properties)

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        # JSON-schema validation costs more than mapping; the mapping checks what it uses.
        if self.config.get("validate_records", False):
            return super().get_validator()
        return None

    # -- per record -----------------------------------------------------------------

    def _parse_timestamps_in_record(
        self,
        record: dict[str, Any],
        schema: dict[str, Any],
        treatment: DatetimeErrorTreatmentEnum,
    ) -> None:
        """Hand the SDK only the date-like and unknown fields, not all of them.

        The SDK looks up every field's schema on every record, which cost more than the
        mapping itself; which fields are date-like is known once per schema.
        """
        plan = self._timestamp_plan
        if plan is None or plan[0] is not schema:
            properties = schema["properties"]
            datelike = tuple(k for k, v in properties.items() if get_datelike_property_type(v))
            plan = self._timestamp_plan = (schema, frozenset(properties), datelike)
        _, known, datelike = plan
        subset = {key: record[key] for key in datelike if key in record}
        if not known.issuperset(record):
            subset.update((key, record[key]) for key in record.keys() - known)
        if subset:
            super()._parse_timestamps_in_record(subset, schema, treatment)
            record.update(subset)

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        report = self.runtime.report
        report.add(self.stream_name, "received")
        try:
            identifier, payload = self._compiled.build(record)
        except ValueShapeError as exc:
            report.add(self.stream_name, "rejected")
            self.runtime.dead_letters.write(
                dead_letter(
                    self.stream_name,
                    self._identifier_hint(record),
                    "mapping_error",
                    status_code=None,
                    message=str(exc),
                    errors=None,
                    record=record,
                    payload=None,
                )
            )
            return
        line = _encode(payload)
        pending: dict[str, Pending] = context.setdefault("pending", {})
        if identifier in pending:
            # A later record replaces the pending one: the product goes out once, newest.
            report.add(self.stream_name, "unchanged")
            report.add(self.stream_name, "superseded")
        pending[identifier] = Pending(identifier, payload, record, _digest(line), line)

    def _identifier_hint(self, record: Mapping[str, Any]) -> str | None:
        for key in self.key_properties:
            if record.get(key) is not None:
                return str(record[key])
        return None

    # -- per batch ------------------------------------------------------------------

    def process_batch(self, context: dict[str, Any]) -> None:
        """Queue the batch without waiting for the PIM; `Runtime.settle` collects the answers."""
        pending: dict[str, Pending] = context.get("pending", {})
        if pending:
            self._send_all(list(pending.values()))
        if self.runtime.unavailable:
            self.runtime.settle()

    def _changed(self, items: list[Pending]) -> list[Pending]:
        runtime = self.runtime
        known: dict[str, str] = {}
        if runtime.settings.skip_unchanged and runtime.cache is not None:
            known = runtime.cache.get_many([item.identifier for item in items])
        sent = runtime.sent
        todo = []
        unchanged = 0
        for item in items:
            if sent.get(item.identifier) == item.digest or (
                known.get(item.identifier) == item.digest
            ):
                unchanged += 1
            else:
                todo.append(item)
        if unchanged:
            runtime.report.add(self.stream_name, "unchanged", unchanged)
        return todo

    def _send_all(self, items: list[Pending]) -> None:
        runtime = self.runtime
        settings = runtime.settings
        if not settings.dry_run:
            # An older version still in flight is answered first: newest wins, sent once.
            runtime.dispatcher.wait_for(item.identifier for item in items)
        todo = self._changed(items)
        if not todo:
            return
        if settings.dry_run:
            for item in todo:
                runtime.dry_run_writer.write({"stream": self.stream_name, "payload": item.payload})
                runtime.report.add(self.stream_name, "planned")
            return
        if settings.create_missing_options:
            self._create_missing_options(todo)
        if settings.product_endpoint == "uuid":
            self._assign_uuids(todo)
        runtime.dispatcher.send(self, todo)

    def account(self, outcomes: Sequence[Outcome]) -> None:
        """Tally one chunk's outcomes (main thread, in submission order)."""
        runtime = self.runtime
        report = runtime.report
        stream = self.stream_name
        created = updated = 0
        for outcome in outcomes:
            status = outcome.status_code
            if outcome.reason is None and status is not None and 200 <= status < 300:
                if status == 201:
                    created += 1
                else:
                    updated += 1
                runtime.confirm(outcome.item.identifier, outcome.item.digest)
            else:
                self._reject(outcome)
        if created:
            report.add(stream, "created", created)
        if updated:
            report.add(stream, "updated", updated)

    def _reject(self, outcome: Outcome) -> None:
        runtime = self.runtime
        item = outcome.item
        runtime.report.add(self.stream_name, "rejected")
        if outcome.reason == "retries_exhausted":
            runtime.unavailable.append(outcome)
        body = outcome.body
        errors = body.get("errors")
        runtime.dead_letters.write(
            dead_letter(
                self.stream_name,
                item.identifier,
                outcome.reason or "rejected_by_pim",
                status_code=outcome.status_code,
                message=str(body.get("message") or ""),
                errors=errors if isinstance(errors, list) else None,
                record=item.record,
                payload=json.loads(item.line),
            )
        )

    # -- sending (worker threads) ----------------------------------------------------

    def _product_path(self) -> str:
        suffix = "products-uuid" if self.runtime.settings.product_endpoint == "uuid" else "products"
        return f"{API_PREFIX}/{suffix}"

    def send_chunk(self, chunk: Sequence[Pending]) -> list[Outcome]:
        """Send one ≤100-line request; resend lines whose outcome is transient or unknown."""
        client = self.runtime.client
        path = self._product_path()
        outcomes: list[Outcome] = []
        remaining = list(chunk)
        attempt = 0
        while True:
            try:
                results = client.patch_collection(path, [item.line for item in remaining])
            except ApiError as exc:
                if exc.status_code == 401:
                    raise AuthenticationError(str(exc)) from None
                reason = "retries_exhausted" if exc.exhausted else "rejected_by_pim"
                body = exc.body or {"message": str(exc)}
                outcomes.extend(Outcome(item, exc.status_code, body, reason) for item in remaining)
                return outcomes
            retry = self._sort_results(remaining, results, outcomes)
            if not retry:
                return outcomes
            if attempt >= client.max_retries:
                body = {"message": f"line still failing after {attempt + 1} tries"}
                outcomes.extend(Outcome(item, None, body, "retries_exhausted") for item in retry)
                return outcomes
            client.wait_before_retry(attempt)
            attempt += 1
            remaining = retry

    @staticmethod
    def _sort_results(
        sent: Sequence[Pending], results: Iterable[LineResult], outcomes: list[Outcome]
    ) -> list[Pending]:
        by_line = {result.line: result for result in results}
        retry = []
        for position, item in enumerate(sent, start=1):
            result = by_line.get(position)
            if result is None or result.status_code in RETRYABLE_STATUSES:
                retry.append(item)
            else:
                outcomes.append(Outcome(item, result.status_code, result.body, None))
        return retry

    # -- before sending ---------------------------------------------------------------

    def _create_missing_options(self, items: Sequence[Pending]) -> None:
        """Create unknown option codes of mapped select attributes (throttled by the client)."""
        runtime = self.runtime
        structure = runtime.structure
        for attribute, multiple in self._compiled.select_attributes:
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
            lines = [_encode({"code": code, "attribute": attribute}) for code in codes]
            created = []
            for start in range(0, len(lines), 100):
                results = runtime.client.patch_options(attribute, lines[start : start + 100])
                for result in results:
                    code = codes[start + result.line - 1]
                    if 200 <= result.status_code < 300:
                        created.append(code)
                    else:
                        self.logger.warning(
                            "could not create option '%s' of attribute '%s': %s",
                            code,
                            attribute,
                            result.message,
                        )
            structure.add_options(attribute, created)
            self.logger.info("created %d option(s) of attribute '%s'", len(created), attribute)

    def _assign_uuids(self, items: Sequence[Pending]) -> None:
        """Find existing products' uuids (one search per 100) and mint uuid4 for new ones."""
        runtime = self.runtime
        attribute = runtime.structure.identifier_attribute
        found: dict[str, str] = {}
        for chunk in _chunks(items, 100):
            search = {
                UUID_LOOKUP_FIELD: [{"operator": "IN", "value": [i.identifier for i in chunk]}]
            }
            params = {"search": json.dumps(search), "limit": "100"}
            for product in runtime.client.iter_items(
                f"{API_PREFIX}/products-uuid", params, product=True
            ):
                identifier = product.get("identifier")
                if identifier is None and attribute:
                    entries = product.get("values", {}).get(attribute) or [{}]
                    identifier = entries[0].get("data")
                if identifier is not None:
                    found[str(identifier)] = str(product["uuid"])
        for item in items:
            payload = {key: value for key, value in item.payload.items() if key != "identifier"}
            payload["uuid"] = found.get(item.identifier) or str(uuid.uuid4())
            if attribute:
                values = dict(payload.get("values", {}))
                values[attribute] = [{"locale": None, "scope": None, "data": item.identifier}]
                payload["values"] = values
            item.line = _encode(payload)
