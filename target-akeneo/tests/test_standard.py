"""singer-sdk standard target tests that apply to an Akeneo target, run against the sandbox.

A stream without a mapping is a configuration error by design (products cannot be
guessed from arbitrary records), so only the standard streams that can be mapped onto
the acceptance catalog run, with the mapping below. Excluded, and why:
- array_data, camelcase, camelcase_complex_schema, special_chars_in_attributes,
  encoded_string_data, schema_updates, pk_updates, schema_no_properties,
  record_missing_required_property: their streams carry generic data with no product
  identifier or attribute to map onto; running them would only test the
  "no mapping for stream" error, which test_against_sandbox covers.
- no_primary_keys: an Akeneo product always needs an identifier.
- multiple_state_messages: commented out of the SDK's own suite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.runners import TargetTestRunner
from singer_sdk.testing.suites import SingerTestSuite
from singer_sdk.testing.target_tests import (
    TargetCliPrintsTest,
    TargetDuplicateRecords,
    TargetInvalidSchemaTest,
    TargetOptionalAttributes,
    TargetRecordBeforeSchemaTest,
    TargetRecordMissingKeyProperty,
    TargetRecordMissingOptionalFields,
)

from target_akeneo.target import TargetAkeneo
from target_akeneo.testing import sandbox_config

NAME_FROM_OPTIONAL = {"field": "optional", "locale": "en_US"}
STANDARD_MAPPING: dict[str, Any] = {
    "test_duplicate_records": {"identifier": "id", "values": {"stock": "metric"}},
    "test_record_missing_key_property": {"identifier": "id", "values": {"stock": "metric"}},
    "test_record_before_schema": {"identifier": "id", "values": {"stock": "metric"}},
    "test_optional_attributes": {"identifier": "id", "values": {"name": NAME_FROM_OPTIONAL}},
    "record_missing_fields": {"identifier": "id", "values": {"name": NAME_FROM_OPTIONAL}},
    "test_invalid_schema": {"identifier": "id"},
}

applicable = SingerTestSuite(
    kind="target",
    tests=[
        TargetCliPrintsTest,
        TargetDuplicateRecords,
        TargetInvalidSchemaTest,
        TargetOptionalAttributes,
        TargetRecordBeforeSchemaTest,
        TargetRecordMissingKeyProperty,
        TargetRecordMissingOptionalFields,
    ],
)

_StandardTests = get_target_test_class(
    TargetAkeneo, config={}, custom_suites=[applicable], include_target_tests=False
)


class TestTargetAkeneoStandard(_StandardTests):  # type: ignore[misc,valid-type]
    """The applicable standard tests, each against a freshly reset sandbox."""

    @pytest.fixture
    def runner(self, fresh_sandbox: Any, tmp_path: Path) -> TargetTestRunner:
        config = sandbox_config(fresh_sandbox, tmp_path, mapping=STANDARD_MAPPING)
        del config["mapping_file"]
        return TargetTestRunner(TargetAkeneo, config=config)
