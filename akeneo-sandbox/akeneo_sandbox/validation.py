"""Constraint checks after an update, with Akeneo's violation messages ("Validation failed.")."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from akeneo_sandbox.catalog import Catalog, Doc
from akeneo_sandbox.media import MEDIA_TYPES, MediaLookup, file_problems

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
IDENTIFIER_FORBIDDEN = re.compile(r"[,;]|^\s|\s$")
TEXT_LIMITS = {"pim_catalog_text": 255, "pim_catalog_textarea": 65535}

Violation = dict[str, Any]


@lru_cache(maxsize=256)
def _pattern(regexp: str) -> re.Pattern[str] | None:
    """Compile a PHP-style `/.../flags` or bare regular expression; None if unusable."""
    body, flags = regexp, 0
    if len(regexp) > 1 and regexp[0] == "/" and regexp.rfind("/") > 0:
        end = regexp.rfind("/")
        body = regexp[1:end]
        flags = re.IGNORECASE if "i" in regexp[end + 1 :] else 0
    try:
        return re.compile(body, flags)
    except re.error:
        return None


def identifier_violations(identifier: str) -> list[Violation]:
    violations: list[Violation] = []
    if IDENTIFIER_FORBIDDEN.search(identifier):
        message = "This field should not contain any comma or semicolon or surrounding space."
        violations.append({"property": "identifier", "message": message})
    if len(identifier) > 255:
        message = "This value is too long. It should have 255 characters or less."
        violations.append({"property": "identifier", "message": message})
    return violations


class ProductValidator:
    """Checks a whole updated product; `unique_owner(attribute, value)` finds other holders."""

    def __init__(
        self,
        catalog: Catalog,
        unique_owner: Callable[[str, str], str | None],
        media: MediaLookup | None = None,
    ) -> None:
        self.catalog = catalog
        self.unique_owner = unique_owner
        self.media = media

    def violations(self, product: Doc) -> list[Violation]:
        found: list[Violation] = []
        if product["identifier"] is not None:
            found.extend(identifier_violations(product["identifier"]))
        for code, entries in product["values"].items():
            attribute = self.catalog.attributes[code]
            if attribute["type"] == "pim_catalog_identifier":
                continue
            for entry in entries:
                for message, extra in self._value_problems(attribute, entry["data"]):
                    violation: Violation = {
                        "property": "values",
                        "message": message,
                        "attribute": code,
                        "locale": entry["locale"],
                        "scope": entry["scope"],
                    }
                    violation.update(extra)
                    found.append(violation)
                if attribute["unique"]:
                    found.extend(self._unique(product, attribute, entry))
        return found

    def _unique(self, product: Doc, attribute: Doc, entry: Doc) -> list[Violation]:
        value = unique_text(entry["data"])
        owner = self.unique_owner(attribute["code"], value)
        if owner is None or owner == product["uuid"]:
            return []
        message = (
            f"The value {value} is already set on another product "
            f"for the unique attribute {attribute['code']}"
        )
        return [
            {
                "property": "values",
                "message": message,
                "attribute": attribute["code"],
                "locale": entry["locale"],
                "scope": entry["scope"],
            }
        ]

    def _value_problems(self, attribute: Doc, data: Any) -> list[tuple[str, dict[str, Any]]]:
        kind = attribute["type"]
        if kind in TEXT_LIMITS:
            return [(m, {}) for m in _text_problems(attribute, data, TEXT_LIMITS[kind])]
        if kind == "pim_catalog_number":
            return [(m, {}) for m in _number_problems(attribute, data)]
        if kind == "pim_catalog_metric":
            return [(m, {}) for m in self._metric_problems(attribute, data)]
        if kind == "pim_catalog_price_collection":
            return self._price_problems(attribute, data)
        if kind in ("pim_catalog_simpleselect", "pim_catalog_multiselect"):
            return [(m, {}) for m in self._option_problems(attribute, data)]
        if kind in MEDIA_TYPES and self.media is not None:
            media = self.media(data)
            return [(m, {}) for m in file_problems(attribute, media)] if media else []
        return []

    def _metric_problems(self, attribute: Doc, data: dict[str, Any]) -> list[str]:
        family = self.catalog.measurement_families.get(str(attribute["metric_family"]))
        problems = []
        if family is None or data["unit"] not in family["units"]:
            problems.append("Please specify a valid metric unit")
        if data["amount"] is not None:
            problems.extend(_number_problems(attribute, data["amount"]))
        return problems

    def _price_problems(
        self, attribute: Doc, prices: list[dict[str, Any]]
    ) -> list[tuple[str, dict[str, Any]]]:
        problems: list[tuple[str, dict[str, Any]]] = []
        active = self.catalog.active_currencies()
        for price in prices:
            currency = price["currency"]
            if currency not in active:
                message = f'The currency "{currency}" has to be activated.'
                problems.append((message, {"currency": currency}))
            if price["amount"] is not None:
                problems.extend(
                    (m, {"currency": currency})
                    for m in _number_problems(attribute, price["amount"])
                )
        return problems

    def _option_problems(self, attribute: Doc, data: Any) -> list[str]:
        codes = [data] if isinstance(data, str) else list(data)
        missing = [c for c in codes if self.catalog.find_option(attribute["code"], c) is None]
        if not missing:
            return []
        if len(missing) == 1:
            return [
                f"The {missing[0]} value is not in the {attribute['code']} attribute option list."
            ]
        return [
            f"The {', '.join(missing)} values are not in the {attribute['code']} "
            "attribute option list."
        ]


def unique_text(data: Any) -> str:
    """The comparable text of a unique value (text, number or date)."""
    return data if isinstance(data, str) else str(data)


def _text_problems(attribute: Doc, data: str, default_limit: int) -> list[str]:
    code = attribute["code"]
    problems = []
    limit = attribute["max_characters"] or default_limit
    if len(data) > limit:
        problems.append(
            f"The {code} attribute must not contain more than {limit} characters. "
            "The submitted value is too long."
        )
    rule = attribute["validation_rule"]
    if rule == "regexp" and attribute["validation_regexp"]:
        pattern = _pattern(attribute["validation_regexp"])
        if pattern is not None and not pattern.search(data):
            problems.append(
                f"The {code} attribute must match the following regular expression: "
                f"{attribute['validation_regexp']}."
            )
    elif rule == "email" and not EMAIL.match(data):
        problems.append(f"The {code} attribute requires an e-mail address.")
    elif rule == "url" and not URL.match(data):
        problems.append(f"The {code} attribute requires a url link.")
    return problems


def _number_problems(attribute: Doc, data: Any) -> list[str]:
    text = str(data)
    if not NUMBER.match(text):
        return ["This value should be a valid number."]
    try:
        number = Decimal(text)
    except InvalidOperation:
        return ["This value should be a valid number."]
    problems = []
    if not attribute["decimals_allowed"] and number != number.to_integral_value():
        problems.append(
            f"The {attribute['code']} attribute requires a non-decimal value, "
            f"and {text} is not a valid value."
        )
    if attribute["negative_allowed"] is False and number < 0:
        problems.append("This value should be greater than or equal to 0.")
    for key, compare, word in (
        ("number_min", number.__lt__, "more"),
        ("number_max", number.__gt__, "less"),
    ):
        limit = attribute.get(key)
        if limit not in (None, "") and compare(Decimal(str(limit))):
            problems.append(f"This value should be {limit} or {word}.")
    return problems
