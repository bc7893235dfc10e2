"""What `target_akeneo.sdk_compat` relies on in singer-sdk: fails when an upgrade changes it."""

from __future__ import annotations

import contextlib
import datetime
import io
import json
from typing import Any

from singer_sdk.sinks import BatchSink

from target_akeneo.sdk_compat import (
    ConfigValidatedOnParse,
    FewerTimestampLookups,
    SettleBeforeState,
    full_drain_minutes,
    relied_on,
    set_full_drain_minutes,
)


def test_the_private_names_relied_on_are_unchanged() -> None:
    assert relied_on() == {
        "Target._write_state_message": "(self, state: 'dict') -> 'None'",
        "Sink._parse_timestamps_in_record": (
            "(self, record: 'dict', schema: 'dict', treatment: 'DatetimeErrorTreatmentEnum')"
            " -> 'None'"
        ),
        "PluginBase._validate_config": "(self, *, raise_errors: 'bool' = True) -> 'list[str]'",
        "helpers._typing.get_datelike_property_type": ("(property_schema: 'dict') -> 'str | None'"),
        "Target._MAX_RECORD_AGE_IN_MINUTES": "float",
    }


EVENTS: list[str] = []


class RecordingSink(FewerTimestampLookups, BatchSink):
    received: list[dict[str, Any]] = []  # noqa: RUF012 (one list shared by the test)

    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        self.received.append(dict(record))

    def process_batch(self, context: dict[str, Any]) -> None:
        EVENTS.append("batch")


class RecordingTarget(ConfigValidatedOnParse, SettleBeforeState):
    name = "target-recording"
    config_jsonschema = {"type": "object", "properties": {"n": {"type": "integer"}}}  # noqa: RUF012
    default_sink_class = RecordingSink
    stdout: io.StringIO

    def settle_before_state(self) -> None:
        EVENTS.append(f"settle, stdout so far: {self.stdout.getvalue()!r}")


SCHEMA = {
    "type": "object",
    "properties": {
        "sku": {"type": "string"},
        "day": {"type": ["string", "null"], "format": "date-time"},
        "note": {"type": ["string", "null"]},
    },
}


def messages(*records: dict[str, Any], state: dict[str, Any]) -> io.StringIO:
    lines = [{"type": "SCHEMA", "stream": "s", "schema": SCHEMA, "key_properties": ["sku"]}]
    lines += [{"type": "RECORD", "stream": "s", "record": record} for record in records]
    lines.append({"type": "STATE", "value": state})
    return io.StringIO("".join(json.dumps(line) + "\n" for line in lines))


def test_settle_runs_after_the_drain_and_before_the_state_is_written() -> None:
    EVENTS.clear()
    target = RecordingTarget(config={"n": 1})
    target.stdout = io.StringIO()
    with contextlib.redirect_stdout(target.stdout):
        target.listen(messages({"sku": "a"}, state={"upto": 1}))
    assert EVENTS == ["batch", "settle, stdout so far: ''"]
    assert json.loads(target.stdout.getvalue()) == {"upto": 1}


def test_the_sdk_no_longer_validates_the_config_itself() -> None:
    target = RecordingTarget(config={"n": "not a number"}, validate_config=True)
    assert target.config["n"] == "not a number"


def test_only_date_like_fields_are_parsed_and_unknown_fields_still_pass() -> None:
    RecordingSink.received = []
    target = RecordingTarget(config={})
    target.stdout = io.StringIO()
    record = {"sku": "a", "day": "2026-03-01T10:00:00+00:00", "note": "2026-03-01", "extra": 1}
    with contextlib.redirect_stdout(target.stdout):
        target.listen(messages(record, state={"upto": 1}))
    [parsed] = RecordingSink.received
    assert parsed["day"] == datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.UTC)
    assert (parsed["note"], parsed["extra"], parsed["sku"]) == ("2026-03-01", 1, "a")


def test_the_full_drain_interval_can_be_shortened() -> None:
    class Shortened(RecordingTarget):
        pass

    set_full_drain_minutes(Shortened, 0.5)
    assert full_drain_minutes(Shortened) == 0.5
    assert full_drain_minutes(RecordingTarget) == 5.0
