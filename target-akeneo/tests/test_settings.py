"""Unit tests: configuration is parsed once into typed settings, errors name the setting."""

from __future__ import annotations

from typing import Any

import pytest

from target_akeneo.errors import SettingsError
from target_akeneo.settings import parse_settings

BASE: dict[str, Any] = {
    "base_url": "http://127.0.0.1:8081",
    "client_id": "id",
    "secret": "s",
    "username": "u",
    "password": "p",
    "mapping": {"products": {"identifier": "sku", "values": {}}},
}


def test_durations_accept_numeric_strings_as_meltano_passes_them() -> None:
    settings = parse_settings(
        {**BASE, "backoff_base": "0.05", "backoff_max": "2", "request_timeout": 1.5}
    )
    assert (settings.backoff_base, settings.backoff_max, settings.request_timeout) == (0.05, 2, 1.5)


@pytest.mark.parametrize("bad", ["fast", "-1", -1, True])
def test_bad_duration_names_the_setting(bad: object) -> None:
    with pytest.raises(SettingsError, match="setting 'backoff_base' must be a number >= 0"):
        parse_settings({**BASE, "backoff_base": bad})


def test_batch_size_above_akeneo_limit_is_refused() -> None:
    with pytest.raises(SettingsError, match="batch_size"):
        parse_settings({**BASE, "batch_size": 101})
