"""Products missing from a full export, with hand-made Singer messages (RECORDs carrying a
version, then ACTIVATE_VERSION) through the target CLI and a sandbox process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from akeneo_sandbox.testing import SandboxProcess
from target_akeneo.testing import Run, run_target, sandbox_config

SCHEMA = {
    "type": "object",
    "properties": {
        "sku": {"type": "string"},
        "name": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
MAPPING = {
    "products": {
        "identifier": "sku",
        "values": {"name": {"field": "name", "locales": {"en": "en_US"}}},
    }
}
SKUS = [f"M-{n:02d}" for n in range(1, 11)]


def full_export(skus: list[str], version: int, *, begin: bool = True, end: bool = True) -> str:
    """A full export as a tap sends it: ACTIVATE_VERSION first, the records, then again."""
    activate = {"type": "ACTIVATE_VERSION", "stream": "products", "version": version}
    messages: list[dict[str, Any]] = [
        {"type": "SCHEMA", "stream": "products", "schema": SCHEMA, "key_properties": ["sku"]},
    ]
    if begin:
        messages.append(activate)
    messages += [
        {"type": "RECORD", "stream": "products", "version": version,
         "record": {"sku": sku, "name": {"en": f"Name {sku}"}}}
        for sku in skus
    ]  # fmt: skip
    if end:
        messages.append(activate)
    messages.append({"type": "STATE", "value": {"bookmarks": {"products": {"v": version}}}})
    return "".join(json.dumps(m) + "\n" for m in messages)


def run(
    pim: SandboxProcess,
    tmp_path: Path,
    skus: list[str],
    version: int,
    *,
    begin: bool = True,
    end: bool = True,
    **config: Any,
) -> Run:
    settings = sandbox_config(pim, tmp_path, mapping=MAPPING, **config)
    settings.pop("mapping_file")
    return run_target(settings, full_export(skus, version, begin=begin, end=end), tmp_path)


def enabled(pim: SandboxProcess) -> dict[str, bool]:
    return {p["identifier"]: p["enabled"] for p in pim.all_products()}


def product_writes(pim: SandboxProcess) -> int:
    """Collection PATCH requests on /products the sandbox answered."""
    return sum(
        r["count"]
        for r in pim.stats()["requests"]
        if r["method"] == "PATCH" and r["route"] == "/api/rest/v1/products"
    )


def test_missing_product_disabled_then_enabled_when_back(
    pim: SandboxProcess, tmp_path: Path
) -> None:
    first = run(pim, tmp_path, SKUS, 1, missing_products="disable")
    assert first.returncode == 0, first.stderr
    assert first.report["missing"] == 0

    second = run(pim, tmp_path, SKUS[:-1], 2, missing_products="disable")
    assert second.returncode == 0, second.stderr
    assert second.report["unchanged"] == 9  # unchanged products count as received
    assert second.report["missing"] == 1
    assert second.report["missing_disabled"] == 1
    assert enabled(pim) == {sku: sku != "M-10" for sku in SKUS}

    again = run(pim, tmp_path, SKUS[:-1], 3, missing_products="disable")
    assert again.returncode == 0, again.stderr
    assert again.report["missing_disabled"] == 0  # already disabled: not counted again

    back = run(pim, tmp_path, SKUS, 4, missing_products="disable")
    assert back.returncode == 0, back.stderr
    assert back.report["updated"] == 1
    assert enabled(pim) == dict.fromkeys(SKUS, True)


def test_missing_product_deleted(pim: SandboxProcess, tmp_path: Path) -> None:
    assert run(pim, tmp_path, SKUS, 1, missing_products="delete").returncode == 0
    second = run(pim, tmp_path, SKUS[1:], 2, missing_products="delete")
    assert second.returncode == 0, second.stderr
    assert second.report["missing_deleted"] == 1
    assert sorted(enabled(pim)) == SKUS[1:]


def test_truncated_export_refused_nothing_changed(pim: SandboxProcess, tmp_path: Path) -> None:
    assert run(pim, tmp_path, SKUS, 1, missing_products="disable").returncode == 0
    truncated = run(pim, tmp_path, SKUS[:5], 2, missing_products="disable")
    assert truncated.returncode == 1
    assert "missing_products: 5 of 10 product(s) of stream 'products'" in truncated.stderr
    assert "missing_products_max_ratio 10%" in truncated.stderr
    assert "nothing was disabled" in truncated.stderr
    assert truncated.states() == []  # no STATE after a refused version
    assert truncated.report["missing"] == 5
    assert enabled(pim) == dict.fromkeys(SKUS, True)

    allowed = run(
        pim, tmp_path, SKUS[:5], 3, missing_products="disable", missing_products_max_ratio=0.5
    )
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.report["missing_disabled"] == 5


def test_ignore_is_the_default(pim: SandboxProcess, tmp_path: Path) -> None:
    assert run(pim, tmp_path, SKUS, 1).returncode == 0
    second = run(pim, tmp_path, SKUS[:2], 2)
    assert second.returncode == 0, second.stderr
    assert enabled(pim) == dict.fromkeys(SKUS, True)


def test_a_version_may_span_runs(pim: SandboxProcess, tmp_path: Path) -> None:
    """What was received is in the state store: a version begun in one run and ended in the
    next counts the products of both."""
    assert run(pim, tmp_path, SKUS, 1, missing_products="disable").returncode == 0
    part = run(pim, tmp_path, SKUS[:5], 2, end=False, missing_products="disable")
    assert part.returncode == 0, part.stderr
    rest = run(pim, tmp_path, SKUS[5:9], 2, begin=False, missing_products="disable")
    assert rest.returncode == 0, rest.stderr
    assert rest.report["missing_disabled"] == 1
    assert enabled(pim) == {sku: sku != "M-10" for sku in SKUS}


def test_many_missing_products_disabled_a_chunk_at_a_time(
    pim: SandboxProcess, tmp_path: Path
) -> None:
    """More missing products than one request holds: read from the state store and disabled
    in 100-line requests, each product once."""
    skus = [f"MANY-{n:03d}" for n in range(250)]
    assert run(pim, tmp_path, skus, 1, missing_products="disable").returncode == 0
    writes = product_writes(pim)

    kept = skus[::10]
    second = run(pim, tmp_path, kept, 2, missing_products="disable", missing_products_max_ratio=1)

    assert second.returncode == 0, second.stderr
    assert (second.report["missing"], second.report["missing_disabled"]) == (225, 225)
    assert enabled(pim) == {sku: sku in kept for sku in skus}
    assert product_writes(pim) - writes == 3  # 225 products: three collection requests
