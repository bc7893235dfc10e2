"""Deterministic generator of ERP product exports of the acceptance shape, any size.

The output mirrors tests/data/acceptance/erp-products.xml (namespace, per-language texts,
decimal-comma weights, prices in two currencies, Y/N booleans, YYYYMMDD dates) and is valid
against the acceptance catalog and mapping, so every product is accepted by the PIM unless
`invalid_every` asks for a share of products with an unknown colour. It is written in
chunks, so memory stays flat whatever the size.

Usage: python bench/generate.py OUT.xml[.gz] --products 100000 [--seed 7]
"""

from __future__ import annotations

import argparse
import gzip
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

NAMESPACE = "urn:acme:erp:products:1"
PRODUCT_TAG = f"{{{NAMESPACE}}}Product"
CHUNK_PRODUCTS = 2000

# Groups and the fields their PIM family holds (CAPS maps to `accessories`, which has no
# ean, description, waterproof or release_date: sending them would be rejected).
GROUPS = ("SHOES", "TSHIRT", "CAPS")
FULL_GROUPS = frozenset({"SHOES", "TSHIRT"})
COLOURS = ("RD", "BL", "GR")
CATEGORY_SETS = (
    ("shoes_running",),
    ("summer_2026",),
    ("shoes_running", "summer_2026"),
    (),
)
NOUNS = ("runner", "tee", "cap", "hiker", "sandal", "jacket", "sock", "trainer")
ADJECTIVES = ("Trail", "Merino", "Sun", "Light", "Storm", "Urban", "Alpine", "Swift")
GERMAN = {"Trail": "Gelände", "Merino": "Merino", "Sun": "Sonnen", "Light": "Leicht"}


@dataclass(frozen=True)
class Options:
    """What to generate."""

    path: Path
    products: int
    seed: int = 7
    invalid_every: int = 0
    gzip_level: int = 1
    # Every Nth product gets another English name: the same export after a day's changes.
    changed_every: int = 0


def sku_of(index: int) -> str:
    """SKU of the product at 1-based `index`, unique and sortable."""
    return f"BENCH-{index:07d}"


def ean_of(index: int) -> str:
    """A unique EAN-13 with a correct check digit, derived from the product index."""
    body = f"40{index:010d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _product(index: int, rng: random.Random, invalid: bool, changed: bool = False) -> str:
    group = GROUPS[rng.randrange(3)]
    full = group in FULL_GROUPS
    adjective = ADJECTIVES[rng.randrange(len(ADJECTIVES))]
    noun = NOUNS[rng.randrange(len(NOUNS))]
    status = "active" if rng.random() < 0.9 else "inactive"
    lines = [
        f'<Product id="{index}" status="{status}">',
        f"<SKU>{sku_of(index)}</SKU>",
    ]
    if full:
        lines.append(f"<EAN>{ean_of(index)}</EAN>")
    lines.append(f"<Group>{group}</Group>")
    revision = " (rev 2)" if changed else ""
    lines.append(f'<Name lang="en">{adjective} {noun} {index}{revision}</Name>')
    if adjective in GERMAN:
        lines.append(f'<Name lang="de">{escape(GERMAN[adjective])} {noun} {index}</Name>')
    if full and rng.random() < 0.8:
        text = escape(f"{adjective} {noun} for everyday use & more, model {index}.")
        lines.append(f'<Description lang="en">{text}</Description>')
    # Weights never end in a zero decimal, so the text has one canonical decimal form.
    if rng.random() < 0.5:
        kilos = f"{rng.randrange(0, 3)},{rng.randrange(1, 10)}{rng.randrange(1, 10)}"
        lines.append(f'<Weight unit="kg">{kilos}</Weight>')
    else:
        lines.append(f'<Weight unit="g">{rng.randrange(50, 2000)}</Weight>')
    euros = rng.randrange(500, 50000)
    prices = f'<Price currency="EUR">{euros // 100}.{euros % 100:02d}</Price>'
    if rng.random() < 0.6:
        dollars = euros + rng.randrange(0, 2000)
        prices += f'<Price currency="USD">{dollars // 100}.{dollars % 100:02d}</Price>'
    lines.append(f"<Prices>{prices}</Prices>")
    lines.append(f"<Color>{'PURPLE' if invalid else COLOURS[rng.randrange(3)]}</Color>")
    categories = CATEGORY_SETS[rng.randrange(len(CATEGORY_SETS))]
    if categories:
        inner = "".join(f"<Category>{c}</Category>" for c in categories)
        lines.append(f"<Categories>{inner}</Categories>")
    else:
        lines.append("<Categories/>")
    if full:
        lines.append(f"<Waterproof>{'Y' if rng.random() < 0.5 else 'N'}</Waterproof>")
        month, day = rng.randrange(1, 13), rng.randrange(1, 29)
        lines.append(f"<ReleaseDate>2026{month:02d}{day:02d}</ReleaseDate>")
    hour, minute = rng.randrange(24), rng.randrange(60)
    lines.append(f"<UpdatedAt>2026-11-21T{hour:02d}:{minute:02d}:00Z</UpdatedAt>")
    return "\n      ".join(lines) + "\n    </Product>"


def chunks(options: Options) -> Iterator[str]:
    """The document as text chunks of at most CHUNK_PRODUCTS products each."""
    rng = random.Random(options.seed)
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ERPExport xmlns="{NAMESPACE}" generated="2026-11-21T23:00:00Z">\n  <Products>\n'
    )
    every, changes = options.invalid_every, options.changed_every
    for start in range(1, options.products + 1, CHUNK_PRODUCTS):
        stop = min(start + CHUNK_PRODUCTS, options.products + 1)
        parts = [
            "    "
            + _product(
                i,
                rng,
                invalid=every > 0 and i % every == 0,
                changed=changes > 0 and i % changes == 0,
            )
            + "\n"
            for i in range(start, stop)
        ]
        yield "".join(parts)
    yield "  </Products>\n</ERPExport>\n"


def _open(options: Options) -> IO[bytes] | gzip.GzipFile:
    if options.path.suffix == ".gz":
        return gzip.open(options.path, "wb", compresslevel=options.gzip_level)
    return options.path.open("wb")


def generate(options: Options) -> Path:
    """Write the export to `options.path` (gzip when it ends in .gz) and return the path."""
    options.path.parent.mkdir(parents=True, exist_ok=True)
    with _open(options) as out:
        for chunk in chunks(options):
            out.write(chunk.encode("utf-8"))
    return options.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="output file; .gz compresses")
    parser.add_argument("--products", type=int, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--invalid-every", type=int, default=0, help="every Nth has a bad colour")
    parser.add_argument("--changed-every", type=int, default=0, help="every Nth has a new name")
    args = parser.parse_args()
    generate(
        Options(
            args.path,
            args.products,
            args.seed,
            args.invalid_every,
            changed_every=args.changed_every,
        )
    )


if __name__ == "__main__":
    main()
