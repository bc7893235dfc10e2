"""The code location: `dagster dev` in this folder, or `-m erp_to_akeneo_dagster.definitions`.

The exports file is `$ERP_TO_AKENEO_EXPORTS`, else `exports.yml` in the working directory.
"""

from __future__ import annotations

from erp_to_akeneo_dagster.build import build_definitions
from erp_to_akeneo_dagster.config import load_config

defs = build_definitions(load_config())
