"""A small catalog content for the sandbox browser, loaded through the API into a sandbox that
has the built-in demo catalog: a two-level product model (colour, then size) with an image
uploaded on a sub model, simple products (one with an uploaded image and associations), and
categories nested three deep. Used by the browser tests and by scripts/screenshots.py.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from .http_api import Api


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG (a browser decodes it): a square of `rgb` with a white diagonal band."""
    rows = []
    for y in range(height):
        line = bytearray(b"\x00")  # filter type of the row: none
        for x in range(width):
            line += b"\xff\xff\xff" if abs(x - y) < width // 8 else bytes(rgb)
        rows.append(bytes(line))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


RED_PNG = png(96, 96, (200, 40, 50))
BLUE_PNG = png(64, 48, (40, 80, 200))
# Nested below the demo catalog's master > new_arrivals.
CATEGORIES = [
    {"code": "summer", "parent": "new_arrivals", "labels": {"en_US": "Summer"}},
    {"code": "linen", "parent": "summer", "labels": {"en_US": "Linen", "de_DE": "Leinen"}},
]


def _names(en: str, de: str, fr: str) -> list[dict[str, str | None]]:
    return [
        {"locale": "en_US", "scope": None, "data": en},
        {"locale": "de_DE", "scope": None, "data": de},
        {"locale": "fr_FR", "scope": None, "data": fr},
    ]


def _one(data: object) -> list[dict[str, object]]:
    return [{"locale": None, "scope": None, "data": data}]


MODELS = [
    {
        "code": "tshirt",
        "family_variant": "clothing_color_size",
        "categories": ["linen"],
        "values": {
            "name": _names("Linen T-shirt", "Leinen-T-Shirt", "T-shirt en lin"),
            "description": [
                {"locale": "en_US", "scope": "ecommerce", "data": "Light linen, cut loose."},
                {"locale": "de_DE", "scope": "ecommerce", "data": "Leichtes Leinen."},
            ],
            "price": _one([{"amount": "29.90", "currency": "EUR"}]),
        },
    },
    {"code": "tshirt_red", "parent": "tshirt", "values": {"color": _one("red")}},
    {"code": "tshirt_white", "parent": "tshirt", "values": {"color": _one("white")}},
]


def _variant(identifier: str, parent: str, size: str, stock: bool) -> dict[str, object]:
    return {
        "identifier": identifier,
        "parent": parent,
        "values": {
            "size": _one(size),
            "weight": _one({"amount": "0.18", "unit": "KILOGRAM"}),
            "in_stock": _one(stock),
            "quantity": _one(12 if stock else 0),
        },
    }


def _simple(identifier: str, en: str, de: str, fr: str, **values: object) -> dict[str, object]:
    return {
        "identifier": identifier,
        "family": "default",
        "categories": ["master"],
        "values": {"name": _names(en, de, fr), **{k: _one(v) for k, v in values.items()}},
    }


PRODUCTS = [
    _variant("tshirt-red-s", "tshirt_red", "s", True),
    _variant("tshirt-red-m", "tshirt_red", "m", False),
    _variant("tshirt-white-l", "tshirt_white", "l", True),
    _simple("poster", "Botanical poster", "Botanisches Poster", "Affiche botanique"),
    _simple("notebook", "Dotted notebook", "Punktiertes Notizbuch", "Carnet à points"),
    _simple("tote-bag", "Canvas tote bag", "Canvas-Tasche", "Sac en toile", color="black"),
    {
        **_simple(
            "mug",
            "Stoneware mug",
            "Steingutbecher",
            "Tasse en grès",
            color="white",
            in_stock=True,
            quantity=40,
            release_date="2026-03-01",
            weight={"amount": "0.35", "unit": "KILOGRAM"},
            price=[{"amount": "14.50", "currency": "EUR"}, {"amount": "16", "currency": "USD"}],
        ),
        "categories": ["summer"],
        "associations": {"X_SELL": {"products": ["poster"], "product_models": ["tshirt"]}},
        "quantified_associations": {
            "BUNDLE": {"products": [{"identifier": "notebook", "quantity": 2}]}
        },
    },
]


@dataclass(frozen=True)
class Sample:
    """Codes of what `load_sample` wrote, for the checks against what the PIM holds."""

    models: tuple[str, ...]
    products: tuple[str, ...]
    model_image: tuple[str, str]  # (model code, uploaded filename)
    product_image: tuple[str, str]  # (identifier, uploaded filename)


def load_sample(api: Api) -> Sample:
    for category in CATEGORIES:
        response = api.post("categories", category)
        assert response.status_code == 201, response.text
    for line in api.collection("product-models", MODELS):
        assert line["status_code"] in (201, 204), line
    for line in api.collection("products", PRODUCTS):
        assert line["status_code"] in (201, 204), line
    image_target = {"attribute": "image", "locale": None, "scope": None}
    response = api.upload(
        {"product_model": {"code": "tshirt_red", **image_target}}, ("red-shirt.png", RED_PNG)
    )
    assert response.status_code == 201, response.text
    response = api.upload({"product": {"identifier": "mug", **image_target}}, ("mug.png", BLUE_PNG))
    assert response.status_code == 201, response.text
    return Sample(
        models=tuple(str(m["code"]) for m in MODELS),
        products=tuple(str(p["identifier"]) for p in PRODUCTS),
        model_image=("tshirt_red", "red-shirt.png"),
        product_image=("mug", "mug.png"),
    )
