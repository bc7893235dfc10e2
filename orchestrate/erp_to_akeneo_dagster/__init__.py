"""Dagster definitions for the erp-to-akeneo Meltano project: one partition per export."""

from erp_to_akeneo_dagster.build import build_definitions
from erp_to_akeneo_dagster.config import ConfigError, Export, ExportsConfig, load_config

__all__ = ["ConfigError", "Export", "ExportsConfig", "build_definitions", "load_config"]
