"""Fault specification parsing and in-process fault answers."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from akeneo_sandbox.app import create_app
from akeneo_sandbox.config import Settings
from akeneo_sandbox.errors import SettingsError
from akeneo_sandbox.faults import FaultInjector, parse_faults

from .conftest import CATALOG


def test_parse_faults_keeps_known_kinds() -> None:
    spec = parse_faults("429=0.05,500=0.02,reset=0.01,slow=0.02")
    assert dict(spec.rates) == {"429": 0.05, "500": 0.02, "reset": 0.01, "slow": 0.02}
    assert parse_faults(None).rates == ()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("418=0.1", "'418=0.1' is not KIND=PROBABILITY"),
        ("500=2", "between 0 and 1"),
        ("429=0.6,500=0.6", "more than 1"),
        ("slow", "is not KIND=PROBABILITY"),
    ],
)
def test_parse_faults_errors_name_the_flag(text: str, fragment: str) -> None:
    with pytest.raises(SettingsError, match="--faults") as error:
        parse_faults(text)
    assert fragment in str(error.value)


def test_same_seed_gives_same_sequence() -> None:
    spec = parse_faults("429=0.3,500=0.3")
    first = [FaultInjector(spec, 7).draw() for _ in range(1)]
    one, two = FaultInjector(spec, 7), FaultInjector(spec, 7)
    assert [one.draw() for _ in range(50)] == [two.draw() for _ in range(50)]
    assert first


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_status_faults_answer_before_the_handler(status: int) -> None:
    settings = Settings(catalog=CATALOG, faults=parse_faults(f"{status}=1"))
    with TestClient(create_app(settings)) as client:
        response = client.patch("/api/rest/v1/products/X", json={})
        assert response.status_code == status
        assert response.json()["code"] == status
        if status == 429:
            assert (
                response.json()["message"]
                == "You have exceeded the limit of API requests per second."
            )
        stats = client.get("/sandbox/stats").json()
        assert stats["faults_injected"] == {str(status): 1}
        assert stats["products_written"] == 0
        assert {
            "method": "PATCH",
            "route": "/api/rest/v1/products/{code}",
            "status": status,
            "count": 1,
        } in stats["requests"]


def test_retry_after_is_sent_on_about_half_of_the_429s() -> None:
    settings = Settings(catalog=CATALOG, faults=parse_faults("429=1"), seed=3)
    with TestClient(create_app(settings)) as client:
        answers = [client.get("/api/rest/v1/products") for _ in range(40)]
    with_header = [a for a in answers if a.headers.get("retry-after") == "1"]
    assert 5 < len(with_header) < 35
