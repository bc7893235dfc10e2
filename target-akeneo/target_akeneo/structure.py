"""The slice of the PIM structure a mapping touches, read once at start."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from target_akeneo.client import API_PREFIX, AkeneoClient
from target_akeneo.errors import ApiError

PAGE_LIMIT = "100"
SELECT_TYPES = frozenset(
    {
        "pim_catalog_simpleselect",
        "pim_catalog_multiselect",
    }
)
IDENTIFIER_TYPE = "pim_catalog_identifier"


@dataclass(frozen=True)
class Attribute:
    """What value shaping and validation need to know about an attribute."""

    code: str
    type: str
    localizable: bool = False
    scopable: bool = False
    decimals_allowed: bool = False
    metric_family: str | None = None
    available_locales: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> Attribute:
        return cls(
            code=str(item["code"]),
            type=str(item.get("type", "")),
            localizable=bool(item.get("localizable")),
            scopable=bool(item.get("scopable")),
            decimals_allowed=bool(item.get("decimals_allowed")),
            metric_family=item.get("metric_family") or None,
            available_locales=tuple(item.get("available_locales") or ()),
        )


@dataclass
class PimStructure:
    """Attributes, channels, locales, currencies, families, options and units."""

    attributes: dict[str, Attribute] = field(default_factory=dict)
    identifier_attribute: str | None = None
    channels: dict[str, frozenset[str]] = field(default_factory=dict)
    locales: dict[str, bool] = field(default_factory=dict)
    currencies: dict[str, bool] = field(default_factory=dict)
    families: set[str] = field(default_factory=set)
    options: dict[str, set[str]] = field(default_factory=dict)
    metric_units: dict[str, frozenset[str]] | None = None
    known_attribute_codes: set[str] = field(default_factory=set)
    options_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def has_option(self, attribute: str, code: str) -> bool:
        known = self.options.get(attribute)
        return known is None or code in known

    def add_options(self, attribute: str, codes: Iterable[str]) -> None:
        with self.options_lock:
            self.options.setdefault(attribute, set()).update(codes)


# Codes per search request: keeps the query string well under common URL length limits.
PAGE_SIZE_FOR_SEARCH = 100


def _search(field_name: str, values: Iterable[str]) -> dict[str, str]:
    query = {field_name: [{"operator": "IN", "value": sorted(values)}]}
    return {"search": json.dumps(query), "limit": PAGE_LIMIT}


def _codes(client: AkeneoClient, path: str, params: dict[str, str] | None = None) -> Any:
    return client.iter_items(path, params or {"limit": PAGE_LIMIT})


def _load_units(client: AkeneoClient) -> dict[str, frozenset[str]] | None:
    """Measurement families are a plain (unpaginated) list; None when the PIM lacks them."""
    try:
        data = client.get_json(f"{API_PREFIX}/measurement-families")
    except ApiError as exc:
        if exc.status_code in (404, 405):
            return None
        raise
    items = data if isinstance(data, list) else data.get("_embedded", {}).get("items", [])
    units: dict[str, frozenset[str]] = {}
    for family in items:
        raw = family.get("units") or {}
        codes = raw.keys() if isinstance(raw, dict) else (unit.get("code") for unit in raw)
        units[str(family["code"])] = frozenset(str(code) for code in codes)
    return units


def load_structure(
    client: AkeneoClient, attribute_codes: Iterable[str], family_codes: Iterable[str]
) -> PimStructure:
    """Read only what the mapping uses, with as few paginated calls as possible."""
    structure = PimStructure()
    wanted = set(attribute_codes)
    if wanted:
        for item in client.iter_items(f"{API_PREFIX}/attributes", _search("code", wanted)):
            attribute = Attribute.from_api(item)
            structure.attributes[attribute.code] = attribute
    identifiers = [a.code for a in structure.attributes.values() if a.type == IDENTIFIER_TYPE]
    if identifiers:
        structure.identifier_attribute = identifiers[0]
    else:
        params = _search("type", [IDENTIFIER_TYPE])
        for item in client.iter_items(f"{API_PREFIX}/attributes", params):
            structure.identifier_attribute = str(item["code"])
            break
    for item in _codes(client, f"{API_PREFIX}/channels"):
        structure.channels[str(item["code"])] = frozenset(item.get("locales") or ())
    for item in _codes(client, f"{API_PREFIX}/locales"):
        structure.locales[str(item["code"])] = bool(item.get("enabled"))
    for item in _codes(client, f"{API_PREFIX}/currencies"):
        structure.currencies[str(item["code"])] = bool(item.get("enabled"))
    families = set(family_codes)
    if families:
        for item in client.iter_items(f"{API_PREFIX}/families", _search("code", families)):
            structure.families.add(str(item["code"]))
    for attribute in structure.attributes.values():
        if attribute.type in SELECT_TYPES:
            path = f"{API_PREFIX}/attributes/{attribute.code}/options"
            structure.options[attribute.code] = {str(item["code"]) for item in _codes(client, path)}
    if any(a.type == "pim_catalog_metric" for a in structure.attributes.values()):
        structure.metric_units = _load_units(client)
    return structure


def existing_categories(client: AkeneoClient, codes: Iterable[str]) -> set[str]:
    """Which of these category codes the PIM has (Akeneo searches categories by `code` IN)."""
    wanted = sorted(set(codes))
    found: set[str] = set()
    for start in range(0, len(wanted), PAGE_SIZE_FOR_SEARCH):
        chunk = wanted[start : start + PAGE_SIZE_FOR_SEARCH]
        params = _search("code", chunk)
        found.update(
            str(item["code"]) for item in client.iter_items(f"{API_PREFIX}/categories", params)
        )
    return found


def load_attribute_codes(client: AkeneoClient, structure: PimStructure) -> None:
    """Read every attribute code; only done when the mapping names unknown ones (for hints)."""
    structure.known_attribute_codes = {
        str(item["code"])
        for item in client.iter_items(f"{API_PREFIX}/attributes", {"limit": PAGE_LIMIT})
    }
