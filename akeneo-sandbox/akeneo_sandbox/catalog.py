"""The PIM structure: loading a catalog file, defaults of each kind, and reference checks."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from akeneo_sandbox.errors import CatalogError
from akeneo_sandbox.measurements import standard_measurement_families
from akeneo_sandbox.variants import normalize_variant, variant_violations

Doc = dict[str, Any]

ATTRIBUTE_TYPES = frozenset(
    {
        "pim_catalog_identifier",
        "pim_catalog_text",
        "pim_catalog_textarea",
        "pim_catalog_number",
        "pim_catalog_metric",
        "pim_catalog_price_collection",
        "pim_catalog_boolean",
        "pim_catalog_date",
        "pim_catalog_simpleselect",
        "pim_catalog_multiselect",
        "pim_catalog_file",
        "pim_catalog_image",
    }
)
SELECT_TYPES = frozenset({"pim_catalog_simpleselect", "pim_catalog_multiselect"})


def _attribute_defaults() -> Doc:
    return {
        "type": None,
        "group": "other",
        "unique": False,
        "useable_as_grid_filter": False,
        "allowed_extensions": [],
        "metric_family": None,
        "default_metric_unit": None,
        "reference_data_name": None,
        "available_locales": [],
        "max_characters": None,
        "validation_rule": None,
        "validation_regexp": None,
        "wysiwyg_enabled": None,
        "number_min": None,
        "number_max": None,
        "decimals_allowed": None,
        "negative_allowed": None,
        "date_min": None,
        "date_max": None,
        "max_file_size": None,
        "minimum_input_length": None,
        "sort_order": 0,
        "localizable": False,
        "scopable": False,
        "labels": {},
        "guidelines": {},
        "auto_option_sorting": None,
        "default_value": None,
    }


# kind -> fields with their default values (besides "code"); the allowed properties of a write.
KIND_DEFAULTS: dict[str, Doc] = {
    "locales": {"enabled": True},
    "currencies": {"enabled": True, "label": None},
    "channels": {
        "currencies": [],
        "locales": [],
        "category_tree": None,
        "conversion_units": {},
        "labels": {},
    },
    "categories": {"parent": None, "updated": None, "labels": {}},
    "attributes": _attribute_defaults(),
    "attribute_options": {"attribute": None, "sort_order": 0, "labels": {}},
    "families": {
        "attributes": [],
        "attribute_as_label": None,
        "attribute_as_image": None,
        "attribute_requirements": {},
        "labels": {},
    },
    "association_types": {"labels": {}, "is_quantified": False, "is_two_way": False},
    "family_variants": {"labels": {}, "family": None, "variant_attribute_sets": []},
}
# Load order: every kind only references kinds loaded before it.
LOAD_ORDER = (
    "locales",
    "currencies",
    "categories",
    "channels",
    "attributes",
    "attribute_options",
    "families",
    "association_types",
    "family_variants",
)
READ_ONLY = frozenset({"updated", "_links"})


def with_defaults(kind: str, doc: Doc) -> Doc:
    """A structure item completed with Akeneo's default values, keys in Akeneo's order."""
    full: Doc = {"code": doc.get("code")}
    for key, default in KIND_DEFAULTS[kind].items():
        full[key] = copy.deepcopy(doc.get(key, default))
    return full


def option_key(attribute: str, code: str) -> str:
    """Storage key of an attribute option; option codes compare case-insensitively."""
    return f"{attribute}/{code.lower()}"


@dataclass
class Catalog:
    """The current PIM structure, one dict per kind keyed by code."""

    items: dict[str, dict[str, Doc]] = field(
        default_factory=lambda: {kind: {} for kind in LOAD_ORDER}
    )
    measurement_families: dict[str, Doc] = field(default_factory=standard_measurement_families)

    @property
    def attributes(self) -> dict[str, Doc]:
        return self.items["attributes"]

    @property
    def families(self) -> dict[str, Doc]:
        return self.items["families"]

    @property
    def categories(self) -> dict[str, Doc]:
        return self.items["categories"]

    @property
    def channels(self) -> dict[str, Doc]:
        return self.items["channels"]

    @property
    def options(self) -> dict[str, Doc]:
        return self.items["attribute_options"]

    @property
    def association_types(self) -> dict[str, Doc]:
        return self.items["association_types"]

    def identifier_attribute(self) -> str:
        """Code of the main identifier attribute (`sku` unless the catalog says otherwise)."""
        for code, attribute in self.attributes.items():
            if attribute["type"] == "pim_catalog_identifier":
                return code
        return "sku"

    def active_locales(self) -> set[str]:
        return {c for c, doc in self.items["locales"].items() if doc.get("enabled")}

    def active_currencies(self) -> set[str]:
        return {c for c, doc in self.items["currencies"].items() if doc.get("enabled")}

    def find_option(self, attribute: str, code: str) -> Doc | None:
        return self.options.get(option_key(attribute, code))

    def store_key(self, kind: str, doc: Doc) -> str:
        if kind == "attribute_options":
            return option_key(str(doc["attribute"]), str(doc["code"]))
        return str(doc["code"])

    def put(self, kind: str, doc: Doc) -> None:
        self.items[kind][self.store_key(kind, doc)] = doc


def missing(prop: str, what: str, value: object) -> str:
    """Akeneo's message for a reference to something that does not exist."""
    return (
        f'Property "{prop}" expects a valid {what} code. '
        f'The {what} does not exist, "{value}" given.'
    )


NO_OPTIONS = (
    'Attribute "{}" does not support options. Only attributes of type '
    '"pim_catalog_simpleselect", "pim_catalog_multiselect" support options.'
)


def reference_problems(kind: str, doc: Doc, catalog: Catalog) -> list[str]:
    """What a structure item references that does not exist."""
    if kind == "channels":
        problems = [
            missing("locales", "locale", c)
            for c in doc["locales"]
            if c not in catalog.items["locales"]
        ]
        problems += [
            missing("currencies", "currency", c)
            for c in doc["currencies"]
            if c not in catalog.items["currencies"]
        ]
        if doc["category_tree"] not in catalog.categories:
            problems.append(missing("category_tree", "category", doc["category_tree"]))
        return problems
    if kind == "categories":
        parent = doc["parent"]
        if parent is not None and parent not in catalog.categories:
            return [missing("parent", "category", parent)]
        return []
    if kind == "attributes":
        return _attribute_problems(doc, catalog)
    if kind == "attribute_options":
        attribute = catalog.attributes.get(str(doc["attribute"]))
        if attribute is None:
            return [missing("attribute", "attribute", doc["attribute"])]
        return [] if attribute["type"] in SELECT_TYPES else [NO_OPTIONS.format(doc["attribute"])]
    if kind == "families":
        return _family_problems(doc, catalog)
    if kind == "family_variants":
        return [violation["message"] for violation in variant_violations(doc, catalog)]
    return []


def _family_problems(doc: Doc, catalog: Catalog) -> list[str]:
    problems = [
        missing("attributes", "attribute", a)
        for a in [*doc["attributes"], doc["attribute_as_label"]]
        if a not in catalog.attributes
    ]
    for channel, required in doc["attribute_requirements"].items():
        if channel not in catalog.channels:
            problems.append(missing("attribute_requirements", "channel", channel))
        problems.extend(
            f'The attribute "{code}" is required but not in the family attributes.'
            for code in required
            if code not in doc["attributes"]
        )
    return problems


def _attribute_problems(doc: Doc, catalog: Catalog) -> list[str]:
    if doc["type"] not in ATTRIBUTE_TYPES:
        return [f'Property "type" expects a valid attribute type, "{doc["type"]}" given.']
    if doc["type"] != "pim_catalog_metric":
        return []
    family = catalog.measurement_families.get(str(doc["metric_family"]))
    if family is None:
        return [missing("metric_family", "measurement family", doc["metric_family"])]
    if doc["default_metric_unit"] not in family["units"]:
        return [
            f'Property "default_metric_unit" expects a unit of the "{family["code"]}" family, '
            f'"{doc["default_metric_unit"]}" given.'
        ]
    return []


def normalize_item(kind: str, doc: Doc, catalog: Catalog) -> Doc:
    """Fill defaults and derived fields; families always hold the identifier attribute."""
    full = with_defaults(kind, doc)
    if kind == "families":
        identifier = catalog.identifier_attribute()
        if identifier not in full["attributes"]:
            full["attributes"] = [identifier, *full["attributes"]]
    if kind == "attributes" and full["type"] == "pim_catalog_identifier":
        full["unique"] = True
    if kind == "family_variants":
        full = normalize_variant(full, catalog)
    return full


def parse_catalog(raw: object, source: str) -> Catalog:
    """Build a catalog from parsed JSON/YAML; errors name the source, the kind and the item."""
    if not isinstance(raw, dict):
        raise CatalogError(
            f"{source}: the catalog must be an object with keys {', '.join(LOAD_ORDER)}"
        )
    unknown = sorted(set(raw) - set(LOAD_ORDER))
    if unknown:
        raise CatalogError(
            f"{source}: unknown key {unknown[0]!r} (expected {', '.join(LOAD_ORDER)})"
        )
    catalog = Catalog()
    for kind in LOAD_ORDER:
        entries = raw.get(kind, [])
        if not isinstance(entries, list):
            raise CatalogError(f"{source}: {kind} must be a list of objects")
        for position, entry in enumerate(entries, start=1):
            where = f"{source}: {kind}[{position}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("code"), str):
                raise CatalogError(f"{where}: each item must be an object with a string 'code'")
            extra = sorted(set(entry) - {"code", *KIND_DEFAULTS[kind]})
            if extra:
                raise CatalogError(f"{where} ({entry['code']}): unknown property {extra[0]!r}")
            doc = normalize_item(kind, entry, catalog)
            problems = reference_problems(kind, doc, catalog)
            if problems:
                raise CatalogError(f"{where} ({entry['code']}): {problems[0]}")
            catalog.put(kind, doc)
    return catalog


def load_catalog(path: Path | None) -> Catalog:
    """Read a catalog file (JSON or YAML), or the built-in demo catalog when `path` is None."""
    if path is None:
        text = (
            resources.files("akeneo_sandbox").joinpath("data/demo_catalog.json").read_text("utf-8")
        )
        return parse_catalog(json.loads(text), "built-in demo catalog")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the catalog ({exc.strerror})") from exc
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise CatalogError(f"{path}{line}: invalid YAML") from exc
    return parse_catalog(raw, str(path))
