"""Deterministic ERP products of the acceptance shape, their XML, and what the PIM must hold.

The expected PIM content is derived here from the generated source values and the rules of
tests/data/acceptance/mapping.yml, written out by hand, so the suite checks target-akeneo's
mapping against an independent reading of it instead of against its own code.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

NAMESPACE = "urn:acme:erp:products:1"
# mapping.yml: family, colour, unit and locale tables, and the families' attribute sets.
FAMILIES = {"SHOES": "shoes", "TSHIRT": "tshirts"}
DEFAULT_FAMILY = "accessories"
COLOURS = {"RD": "red", "BL": "blue", "GR": "green"}
UNITS = {"kg": "KILOGRAM", "g": "GRAM"}
LOCALES = {"en": "en_US", "de": "de_DE"}
GROUPS = ("SHOES", "TSHIRT", "CAPS")
CATEGORY_SETS = ((), ("shoes_running",), ("summer_2026",), ("shoes_running", "summer_2026"))
WORDS = ("Trail", "Merino", "Sun", "Storm", "Alpine", "Urban")
GERMAN = {"Trail": "Geländeläufer", "Merino": "Merinohemd", "Sun": "Sonnenkappe"}
UNKNOWN_COLOUR = "PURPLE"


@dataclass(frozen=True)
class SourceProduct:
    """One product as the ERP writes it (texts exactly as they appear in the file)."""

    index: int
    sku: str
    status: str
    group: str
    ean: str | None
    names: tuple[tuple[str, str], ...]
    description: str | None
    weight: str
    weight_unit: str
    prices: tuple[tuple[str, str], ...]
    colour: str
    categories: tuple[str, ...]
    waterproof: bool | None
    release_date: datetime.date | None
    updated_at: datetime.datetime

    @property
    def accepted(self) -> bool:
        """Whether the PIM can take it: an unknown colour has no option, so it is refused."""
        return self.colour in COLOURS

    def xml(self) -> str:
        """The `<Product>` element as the ERP export holds it."""
        parts = [f'<Product id="{self.index}" status="{self.status}">', f"<SKU>{self.sku}</SKU>"]
        if self.ean is not None:
            parts.append(f"<EAN>{self.ean}</EAN>")
        parts.append(f"<Group>{self.group}</Group>")
        parts += [f'<Name lang="{lang}">{escape(text)}</Name>' for lang, text in self.names]
        if self.description is not None:
            parts.append(f'<Description lang="en">{escape(self.description)}</Description>')
        parts.append(f'<Weight unit="{self.weight_unit}">{self.weight}</Weight>')
        prices = "".join(f'<Price currency="{c}">{a}</Price>' for a, c in self.prices)
        parts.append(f"<Prices>{prices}</Prices>")
        parts.append(f"<Color>{self.colour}</Color>")
        categories = "".join(f"<Category>{c}</Category>" for c in self.categories)
        parts.append(f"<Categories>{categories}</Categories>")
        if self.waterproof is not None:
            parts.append(f"<Waterproof>{'Y' if self.waterproof else 'N'}</Waterproof>")
        if self.release_date is not None:
            parts.append(f"<ReleaseDate>{self.release_date:%Y%m%d}</ReleaseDate>")
        parts.append(f"<UpdatedAt>{self.updated_at:%Y-%m-%dT%H:%M:%SZ}</UpdatedAt>")
        return "\n      ".join(parts) + "\n    </Product>"

    def expected(self) -> dict[str, Any]:
        """The product the PIM must hold, in the form `comparable` gives PIM products."""
        values: dict[str, list[dict[str, Any]]] = {
            "name": [_value(text, locale=LOCALES[lang]) for lang, text in self.names],
            "weight": [_value({"amount": _number(self.weight), "unit": UNITS[self.weight_unit]})],
            "price": [_value(_prices(self.prices))],
            "color": [_value(COLOURS[self.colour])],
        }
        if self.ean is not None:
            values["ean"] = [_value(self.ean)]
        if self.description is not None:
            values["description"] = [_value(self.description, "en_US", "ecommerce")]
        if self.waterproof is not None:
            values["waterproof"] = [_value(self.waterproof)]
        if self.release_date is not None:
            values["release_date"] = [_value(f"{self.release_date.isoformat()}T00:00:00+00:00")]
        return {
            "family": FAMILIES.get(self.group, DEFAULT_FAMILY),
            "enabled": self.status == "active",
            "categories": sorted(self.categories),
            "values": {key: _sorted_entries(entries) for key, entries in values.items()},
        }


def _value(data: Any, locale: str | None = None, scope: str | None = None) -> dict[str, Any]:
    return {"locale": locale, "scope": scope, "data": data}


def _number(text: str) -> str:
    """Canonical decimal text, so "0,820", "0.82" and "0.8200" compare equal."""
    value = Decimal(text.replace(",", ".")).normalize()
    return format(value, "f")


def _prices(entries: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    prices = [{"amount": _number(amount), "currency": currency} for amount, currency in entries]
    return sorted(prices, key=lambda price: price["currency"])


def _sorted_entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entries, key=lambda e: (str(e["locale"]), str(e["scope"])))


def comparable(product: dict[str, Any]) -> dict[str, Any]:
    """A PIM product reduced to what the mapping fixes, numbers in canonical form."""
    values: dict[str, list[dict[str, Any]]] = {}
    for attribute, entries in product["values"].items():
        if attribute == "sku":  # Akeneo may or may not list the identifier attribute
            continue
        shaped = []
        for entry in entries:
            data = entry["data"]
            if attribute == "weight":
                data = {"amount": _number(str(data["amount"])), "unit": data["unit"]}
            elif attribute == "price":
                data = _prices((str(p["amount"]), p["currency"]) for p in data)
            shaped.append(_value(data, entry["locale"], entry["scope"]))
        values[attribute] = _sorted_entries(shaped)
    return {
        "family": product["family"],
        "enabled": product["enabled"],
        "categories": sorted(product["categories"]),
        "values": values,
    }


def ean_of(index: int) -> str:
    """A unique 13-digit EAN with a valid check digit (the catalog enforces 13 digits)."""
    body = f"41{index:010d}"
    total = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _product(index: int, rng: random.Random, refused: bool, day: int) -> SourceProduct:
    group = GROUPS[rng.randrange(len(GROUPS))]
    full = group in FAMILIES  # the accessories family has no ean/description/...
    word = WORDS[rng.randrange(len(WORDS))]
    names = [("en", f"{word} product {index}")]
    if word in GERMAN:
        names.append(("de", f"{GERMAN[word]} {index}"))
    if rng.random() < 0.5:
        weight, unit = f"{rng.randrange(3)},{rng.randrange(10)}{rng.randrange(1, 10)}", "kg"
    else:
        weight, unit = str(rng.randrange(20, 3000)), "g"
    cents = rng.randrange(100, 90000)
    prices = [(f"{cents // 100}.{cents % 100:02d}", "EUR")]
    if rng.random() < 0.5:
        dollars = cents + rng.randrange(0, 5000)
        prices.append((f"{dollars // 100}.{dollars % 100:02d}", "USD"))
    updated = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC) + datetime.timedelta(
        days=day, seconds=rng.randrange(86400)
    )
    described = full and rng.random() < 0.7
    return SourceProduct(
        index=index,
        sku=f"REL-{index:06d}",
        status="active" if rng.random() < 0.85 else "inactive",
        group=group,
        ean=ean_of(index) if full else None,
        names=tuple(names),
        description=f"{word} & co. <model {index}>" if described else None,
        weight=weight,
        weight_unit=unit,
        prices=tuple(prices),
        colour=UNKNOWN_COLOUR if refused else rng.choice(tuple(COLOURS)),
        categories=CATEGORY_SETS[rng.randrange(len(CATEGORY_SETS))],
        waterproof=rng.random() < 0.5 if full else None,
        release_date=datetime.date(2026, rng.randrange(1, 13), rng.randrange(1, 29))
        if full
        else None,
        updated_at=updated,
    )


def generate(
    count: int, *, seed: int, first: int = 1, refused_every: int = 0, day: int = 0
) -> list[SourceProduct]:
    """`count` products numbered from `first`; every `refused_every`-th has an unknown colour.

    Update times fall on `day` (days after 2026-11-01) in shuffled order, as in a real nightly
    export: not sorted within the file, but later than the previous night's file.
    """
    rng = random.Random(seed)
    return [
        _product(i, rng, refused=refused_every > 0 and i % refused_every == 0, day=day)
        for i in range(first, first + count)
    ]


def write_export(path: Path, products: Sequence[SourceProduct]) -> Path:
    """Write the products as one ERP export file (streamed, product by product)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write(f'<ERPExport xmlns="{NAMESPACE}" generated="2026-11-21T23:00:00Z">\n')
        out.write("  <Products>\n")
        for product in products:
            out.write("    " + product.xml() + "\n")
        out.write("  </Products>\n</ERPExport>\n")
    return path
