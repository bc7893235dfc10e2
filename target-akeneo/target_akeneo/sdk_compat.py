"""Every use of a singer-sdk private name in target-akeneo, each with the reason for it.

singer-sdk is pinned below the next minor version; `tests/test_sdk_compat.py` fails when
a signature or behaviour relied on here changes, so an upgrade shows what to revisit.
Nothing else in the package touches a name starting with `_` from singer_sdk.
"""

from __future__ import annotations

import inspect
from typing import Any

from singer_sdk import Target
from singer_sdk.helpers._typing import get_datelike_property_type
from singer_sdk.helpers.conform import DatetimeErrorTreatmentEnum
from singer_sdk.plugin_base import PluginBase
from singer_sdk.sinks import Sink


class SettleBeforeState(Target):
    """Calls `settle_before_state` before every STATE message goes out.

    Why private: a STATE may only be written once the PIM answered for every product
    before it (sending is pipelined), and singer-sdk has no public hook between draining
    the sinks and writing STATE: `drain_all` is final and calls `_write_state_message`.
    """

    def settle_before_state(self) -> None:
        """Return once every product handed over so far is answered, or raise."""
        raise NotImplementedError

    def _write_state_message(self, state: dict[str, Any]) -> None:
        self.settle_before_state()
        super()._write_state_message(state)


class ConfigValidatedOnParse(Target):
    """Leaves config validation to the target's own parsing, against the same schema.

    Why private: singer-sdk validates in `__init__` through `_validate_config` and, on a
    problem, logs it and then a second, generic "Config validation failed" line (a warning
    even when told not to raise), and shows the value of a secret of the wrong type.
    `settings.parse_settings` validates against the very same schema instead, one line per
    problem naming the setting; this override only stops the check being made twice.
    """

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        return []


class FewerTimestampLookups(Sink):
    """Hands the SDK's timestamp parsing only the date-like and unknown fields of a record.

    Why private: `_parse_timestamps_in_record` looks up every field's schema on every
    record, which cost more than the mapping itself; which fields are date-like is known
    once per schema, and there is no public switch for it. `get_datelike_property_type`
    lives in the private `helpers._typing` module.
    """

    _timestamp_plan: tuple[dict[str, Any], frozenset[str], tuple[str, ...]] | None = None

    def _parse_timestamps_in_record(
        self,
        record: dict[str, Any],
        schema: dict[str, Any],
        treatment: DatetimeErrorTreatmentEnum,
    ) -> None:
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


_FULL_DRAIN_MINUTES = "_MAX_RECORD_AGE_IN_MINUTES"


def set_full_drain_minutes(target_class: type[Target], minutes: float) -> None:
    """Drain all sinks (and so write STATE) at least every `minutes` (tests shorten it).

    Why private: the interval is the class attribute `_MAX_RECORD_AGE_IN_MINUTES`
    (5 minutes), with no setting of its own.
    """
    setattr(target_class, _FULL_DRAIN_MINUTES, minutes)


def full_drain_minutes(target_class: type[Target]) -> float:
    return getattr(target_class, _FULL_DRAIN_MINUTES)  # type: ignore[no-any-return]


# Each private name used above: (owner, name) for the signature check.
_RELIED_ON: dict[str, tuple[Any, str]] = {
    "Target._write_state_message": (Target, "_write_state_message"),
    "Sink._parse_timestamps_in_record": (Sink, "_parse_timestamps_in_record"),
    "PluginBase._validate_config": (PluginBase, "_validate_config"),
}


def relied_on() -> dict[str, str]:
    """The signature (or type) of each private name used above, as the test expects it."""
    found = {label: str(inspect.signature(getattr(*where))) for label, where in _RELIED_ON.items()}
    found["helpers._typing.get_datelike_property_type"] = str(
        inspect.signature(get_datelike_property_type)
    )
    found["Target._MAX_RECORD_AGE_IN_MINUTES"] = type(full_drain_minutes(Target)).__name__
    return found
