"""singer-sdk's standard tap test suite on the acceptance configuration."""

from __future__ import annotations

import json
from typing import Any

from singer_sdk.testing import get_tap_test_class

from tap_erp_xml.tap import TapErpXml
from tests.support import ACCEPTANCE

CONFIG: dict[str, Any] = json.loads((ACCEPTANCE / "tap-config.json").read_text())
CONFIG["base_dir"] = str(ACCEPTANCE)

TestTapErpXml = get_tap_test_class(tap_class=TapErpXml, config=CONFIG)
