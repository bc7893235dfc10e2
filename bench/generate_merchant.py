"""Deterministic generator of Google Merchant Center feeds (RSS 2.0, `g:` namespace), any size.

The items use what the tap's `google-merchant` preset reads: prices as "599.00 CZK", some
sale prices, zero to three additional images, GTINs on most items, variants sharing an
`item_group_id`. Written in chunks, so memory stays flat whatever the size.

Usage: python bench/generate_merchant.py OUT.xml --items 50000 [--seed 7]
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

from generate import ean_of

G = "http://base.google.com/ns/1.0"
ITEM_TAG = "item"
CHUNK_ITEMS = 2000
AVAILABILITY = ("in_stock", "out_of_stock", "preorder", "backorder")
CONDITION = ("new", "new", "new", "refurbished", "used")
CURRENCIES = ("CZK", "EUR", "USD")
BRANDS = ("Movano", "Secure", "Ridge", "Polar", "Alpina", "Nordkap")
KINDS = ("Trekkingrad", "Faltschloss", "Zelt", "Schlafsack", "Helm", "Rucksack")


def _item(index: int, rng: random.Random) -> str:
    kind, brand = KINDS[rng.randrange(len(KINDS))], BRANDS[rng.randrange(len(BRANDS))]
    group = index // 3 if rng.random() < 0.5 else None
    cents = rng.randrange(500, 500_000)
    currency = CURRENCIES[rng.randrange(len(CURRENCIES))]
    url = f"https://shop.example.com/p/{index}"
    lines = [
        "<item>",
        f"<g:id>GM-{index:07d}</g:id>",
        f"<title>{kind} {brand} {index}</title>",
        f"<description>{escape(f'{kind} von {brand} & mehr, Modell {index}.')}</description>",
        f"<link>{url}</link>",
        f"<g:image_link>{url}/main.jpg</g:image_link>",
        *(
            f"<g:additional_image_link>{url}/{n}.jpg</g:additional_image_link>"
            for n in range(rng.randrange(4))
        ),
        f"<g:availability>{AVAILABILITY[rng.randrange(len(AVAILABILITY))]}</g:availability>",
        f"<g:price>{cents // 100}.{cents % 100:02d} {currency}</g:price>",
    ]
    if rng.random() < 0.3:
        sale = cents - rng.randrange(1, cents // 2)
        lines.append(f"<g:sale_price>{sale // 100}.{sale % 100:02d} {currency}</g:sale_price>")
    lines.append(f"<g:brand>{brand}</g:brand>")
    if rng.random() < 0.85:
        lines.append(f"<g:gtin>{ean_of(index)}</g:gtin>")
    lines += [
        f"<g:mpn>{brand[:3].upper()}-{index}</g:mpn>",
        f"<g:condition>{CONDITION[rng.randrange(len(CONDITION))]}</g:condition>",
        f"<g:google_product_category>{1000 + rng.randrange(3000)}</g:google_product_category>",
        f"<g:product_type>Sport &gt; {kind}</g:product_type>",
    ]
    if group is not None:
        lines.append(f"<g:item_group_id>GRP-{group}</g:item_group_id>")
    return "\n      ".join(lines) + "\n    </item>"


def chunks(items: int, seed: int) -> Iterator[str]:
    """The feed as text chunks of at most CHUNK_ITEMS items each."""
    rng = random.Random(seed)
    yield (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:g="{G}">\n'
        "  <channel>\n    <title>Bench feed</title>\n"
        "    <link>https://shop.example.com</link>\n"
    )
    for start in range(1, items + 1, CHUNK_ITEMS):
        stop = min(start + CHUNK_ITEMS, items + 1)
        yield "".join("    " + _item(i, rng) + "\n" for i in range(start, stop))
    yield "  </channel>\n</rss>\n"


def generate(path: Path, items: int, seed: int = 7) -> Path:
    """Write the feed to `path` and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for chunk in chunks(items, seed):
            out.write(chunk.encode("utf-8"))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    generate(args.path, args.items, args.seed)


if __name__ == "__main__":
    main()
