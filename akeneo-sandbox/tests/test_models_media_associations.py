"""Product models meet media files and associations (the two were built apart)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from akeneo_sandbox.testing import SandboxProcess

from .http_api import PNG, Api, extended_catalog

MODELS_CATALOG = Path(__file__).parent / "data" / "models_catalog.json"


@pytest.fixture(scope="module")
def models_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("models-media")
    path = extended_catalog(MODELS_CATALOG, folder)
    catalog = json.loads(path.read_text())
    # The image belongs to the family and sits at the root model level.
    for family in catalog["families"]:
        if family["code"] == "clothing":
            family["attributes"].append("image")
    path.write_text(json.dumps(catalog))
    with SandboxProcess(catalog=path) as process:
        yield Api(process)


def test_an_image_uploaded_for_a_product_model_becomes_its_value(models_api: Api) -> None:
    api = models_api
    created = api.patch("product-models/TEE", {"family_variant": "clothing_size"})
    assert created.status_code == 201, created.text

    upload = api.upload(
        {"product_model": {"code": "TEE", "attribute": "image", "scope": None, "locale": None}},
        ("tee.png", PNG),
    )

    assert upload.status_code == 201, upload.text
    code = upload.headers["Location"].split("/media-files/", 1)[1]
    model = api.get("product-models/TEE").json()
    assert model["values"]["image"] == [{"locale": None, "scope": None, "data": code}]
    assert api.get(f"media-files/{code}/download").content == PNG
    unknown = api.upload(
        {"product_model": {"code": "NOPE", "attribute": "image", "scope": None, "locale": None}},
        ("tee.png", PNG),
    )
    assert (unknown.status_code, unknown.json()["message"]) == (
        422,
        'Product model "NOPE" does not exist.',
    )


def test_a_model_value_must_name_an_uploaded_media_file(models_api: Api) -> None:
    refused = models_api.patch(
        "product-models/TEE-URL",
        {
            "family_variant": "clothing_size",
            "values": {"image": [{"locale": None, "scope": None, "data": "https://x/y.png"}]},
        },
    )
    assert refused.status_code == 422, refused.text
    assert "expects a valid pathname as data" in refused.text


def test_products_associate_existing_product_models_only(models_api: Api) -> None:
    api = models_api
    assert api.patch("product-models/HOODIE", {"family_variant": "clothing_size"}).status_code in (
        201,
        204,
    )
    linked = api.patch(
        "products/SCARF-1",
        {"family": "shoes", "associations": {"X_SELL": {"product_models": ["HOODIE"]}}},
    )
    assert linked.status_code == 201, linked.text
    product = api.get("products/SCARF-1").json()
    assert product["associations"]["X_SELL"]["product_models"] == ["HOODIE"]
    unknown = api.patch(
        "products/SCARF-2",
        {"family": "shoes", "associations": {"X_SELL": {"product_models": ["GHOST"]}}},
    )
    assert unknown.status_code == 422, unknown.text
    assert "GHOST" in unknown.text
    assert api.get("products/SCARF-2").status_code == 404


def test_model_associations_name_products_by_identifier(models_api: Api) -> None:
    """GET /product-models shows associations as on /products: products by identifier and
    every non-quantified type listed, empty lists where unused."""
    api = models_api
    assert api.patch("products/BOOT-1", {"family": "shoes"}).status_code in (201, 204)
    written = api.patch(
        "product-models/PARKA",
        {"family_variant": "clothing_size", "associations": {"X_SELL": {"products": ["BOOT-1"]}}},
    )
    assert written.status_code in (201, 204), written.text
    shown = api.get("product-models/PARKA").json()["associations"]
    assert shown["X_SELL"] == {"products": ["BOOT-1"], "product_models": [], "groups": []}
    items = api.get("association-types").json()["_embedded"]["items"]
    assert set(shown) == {t["code"] for t in items if not t.get("is_quantified")}
    listed = api.get("product-models", search='{"parent":[{"operator":"EMPTY"}]}').json()
    [parka] = [m for m in listed["_embedded"]["items"] if m["code"] == "PARKA"]
    assert parka["associations"]["X_SELL"]["products"] == ["BOOT-1"]
