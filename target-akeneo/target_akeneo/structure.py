"""The slice of the PIM structure a mapping touches, read once at start."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from target_akeneo.client import AkeneoClient

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
    allowed_extensions: tuple[str, ...] = ()
    max_file_size_mb: float | None = None

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
            allowed_extensions=tuple(item.get("allowed_extensions") or ()),
            max_file_size_mb=float(item["max_file_size"]) if item.get("max_file_size") else None,
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
    # attribute -> option code -> its label texts (tells option codes of two values apart)
    option_labels: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    metric_units: dict[str, frozenset[str]] | None = None
    known_attribute_codes: set[str] = field(default_factory=set)
    options_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def has_option(self, attribute: str, code: str) -> bool:
        known = self.options.get(attribute)
        return known is None or code in known

    def add_options(self, attribute: str, codes: Iterable[str]) -> None:
        with self.options_lock:
            self.options.setdefault(attribute, set()).update(codes)


def _load_units(client: AkeneoClient) -> dict[str, frozenset[str]] | None:
    families = client.measurement_families()
    if families is None:
        return None
    units: dict[str, frozenset[str]] = {}
    for family in families:
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
        for item in client.attributes(wanted):
            attribute = Attribute.from_api(item)
            structure.attributes[attribute.code] = attribute
    identifiers = [a.code for a in structure.attributes.values() if a.type == IDENTIFIER_TYPE]
    if identifiers:
        structure.identifier_attribute = identifiers[0]
    else:
        for item in client.attributes_of_type(IDENTIFIER_TYPE):
            structure.identifier_attribute = str(item["code"])
            break
    for item in client.channels():
        structure.channels[str(item["code"])] = frozenset(item.get("locales") or ())
    for item in client.locales():
        structure.locales[str(item["code"])] = bool(item.get("enabled"))
    for item in client.currencies():
        structure.currencies[str(item["code"])] = bool(item.get("enabled"))
    families = set(family_codes)
    if families:
        structure.families.update(str(item["code"]) for item in client.families(families))
    for attribute in structure.attributes.values():
        if attribute.type in SELECT_TYPES:
            options = list(client.attribute_options(attribute.code))
            structure.options[attribute.code] = {str(item["code"]) for item in options}
            structure.option_labels[attribute.code] = {
                str(item["code"]): frozenset(str(v) for v in (item.get("labels") or {}).values())
                for item in options
            }
    if any(a.type == "pim_catalog_metric" for a in structure.attributes.values()):
        structure.metric_units = _load_units(client)
    if wanted - set(structure.attributes):
        # Only when the mapping names unknown attributes: every code, for "did you mean".
        structure.known_attribute_codes = {str(item["code"]) for item in client.attributes()}
    return structure
