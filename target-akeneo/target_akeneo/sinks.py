"""The Akeneo sink: singer-sdk wiring only. Map each record, deduplicate, hand batches on.

Everything after mapping (skip-unchanged, sending, outcomes, dead letters, the report)
is the `Upserter`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from singer_sdk.sinks import BatchSink

from target_akeneo.errors import MappingError, ValueShapeError
from target_akeneo.mapping import check_against_schema
from target_akeneo.sdk_compat import FewerTimestampLookups
from target_akeneo.upsert import Batch, Unmappable

if TYPE_CHECKING:
    from singer_sdk import Target
    from singer_sdk.sinks.core import BaseJSONSchemaValidator

    from target_akeneo.target import TargetAkeneo


class AkeneoSink(FewerTimestampLookups, BatchSink):
    """One per stream; a drained batch goes to the upserter, which answers before STATE."""

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
        akeneo = cast("TargetAkeneo", target)
        self._target = akeneo
        self._upserter = akeneo.upserter
        self._mapping = akeneo.mapping_for(stream_name)
        self._validate_records = akeneo.settings.validate_records
        super().__init__(target, stream_name, schema, key_properties)
        # Before any record of the stream: a source field the records cannot have stops the
        # run here, with nothing sent.
        problems = check_against_schema(self._mapping.mapping, schema)
        if problems:
            raise MappingError(*problems)
        self._retry_pending()

    def _retry_pending(self) -> None:
        """Queue the stream's products rejected by earlier runs to be mapped and sent again
        (in chunks, at its first batch: none is held in memory meanwhile)."""
        count = self._upserter.retry(self._mapping, self._map_records)
        if count:
            self.logger.info(
                "retrying %d product(s) rejected by earlier runs of stream '%s'",
                count,
                self.stream_name,
            )

    def _map_records(self, records: Sequence[dict[str, Any]]) -> Batch:
        """One chunk of pending records, mapped with the current mapping."""
        context: dict[str, Any] = {}
        for record in records:
            self.process_record(record, context)
        batch: Batch = context.get("batch") or Batch()
        return batch

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        # JSON-schema validation costs more than mapping; the mapping checks what it uses.
        return super().get_validator() if self._validate_records else None

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        batch: Batch | None = context.get("batch")
        if batch is None:
            batch = context["batch"] = Batch()
        batch.received += 1
        try:
            identifier, payload = self._mapping.build(record)
        except ValueShapeError as exc:
            batch.unmappable.append(Unmappable(self._identifier_hint(record), record, str(exc)))
            return
        batch.add(identifier, payload, record)

    def _identifier_hint(self, record: Mapping[str, Any]) -> str | None:
        for key in self.key_properties:
            if record.get(key) is not None:
                return str(record[key])
        return None

    def activate_version(self, new_version: int) -> None:
        """The tap read a complete export: products it did not send may be disabled.

        The records buffered so far are handed over first, so they count as received.
        """
        self._target.drain_one(self)
        self._upserter.activate_version(self.stream_name, new_version)

    def process_batch(self, context: dict[str, Any]) -> None:
        """Hand the batch over without waiting for the PIM (`Upserter.settle` does)."""
        batch: Batch | None = context.get("batch")
        if batch is not None:
            if not self._mapping.mapping.create:
                self._target.drain_others(self)
            self._upserter.submit(self._mapping, batch)
