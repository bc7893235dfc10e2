"""`/media-files` through the real process: upload, value, download, file rules, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from akeneo_sandbox.testing import SandboxProcess

from .http_api import PNG, Api

pytestmark = pytest.mark.slow

TARGET = {"identifier": "P-1", "attribute": "image", "locale": None, "scope": None}
CODE = re.compile(r"^([0-9a-f])/([0-9a-f])/([0-9a-f])/([0-9a-f])/\1\2\3\4[0-9a-f]{36}_(.+)$")


def image_value(data: object) -> dict[str, object]:
    return {"values": {"image": [{"locale": None, "scope": None, "data": data}]}}


def test_upload_sets_the_value_and_the_download_gives_the_same_bytes(api: Api) -> None:
    assert api.patch("products/P-1", {"family": "shoes"}).status_code == 201
    response = api.upload({"product": TARGET}, ("front view #1.png", PNG))
    assert response.status_code == 201, response.text
    assert response.text == ""
    location = response.headers["Location"]
    prefix = f"{api.pim.base_url}/api/rest/v1/media-files/"
    assert location.startswith(prefix)
    code = location[len(prefix) :]
    match = CODE.match(code)
    assert match is not None, code
    assert match[5] == "front_view__1.png"
    assert api.product("P-1")["values"]["image"] == [{"locale": None, "scope": None, "data": code}]

    described = api.get(f"media-files/{code}").json()
    assert described == {
        "_links": {"download": {"href": f"{location}/download"}},
        "code": code,
        "original_filename": "front view #1.png",
        "mime_type": "image/png",
        "size": len(PNG),
        "extension": "png",
    }
    download = api.get(f"media-files/{code}/download")
    assert download.status_code == 200
    assert download.content == PNG
    assert download.headers["Content-Type"] == "image/png"
    assert download.headers["Content-Disposition"] == 'attachment; filename="front view #1.png"'

    listed = api.get("media-files", with_count="true").json()
    assert listed["items_count"] == 1
    assert [item["code"] for item in listed["_embedded"]["items"]] == [code]
    assert listed["_embedded"]["items"][0]["_links"]["self"]["href"] == location


def test_same_bytes_and_name_reuse_the_code_and_any_product_may_use_it(api: Api) -> None:
    api.patch("products/P-1", {})
    api.patch("products/P-2", {})
    first = api.upload({"product": TARGET}, ("a.png", PNG)).headers["Location"]
    second = api.upload({"product": {**TARGET, "identifier": "P-2"}}, ("a.png", PNG))
    assert second.headers["Location"] == first
    code = first.split("/media-files/")[1]
    assert api.patch("products/P-3", image_value(code)).status_code == 201
    assert api.product("P-3")["values"]["image"][0]["data"] == code
    assert api.get("media-files", with_count="true").json()["items_count"] == 1


def test_a_url_or_an_unknown_code_is_not_an_image_value(api: Api) -> None:
    for data in ("https://cdn.example.com/shoe.png", "/a/b/c/d/abcd_shoe.png"):
        response = api.patch("products/P-1", image_value(data))
        assert response.status_code == 422
        assert response.json() == {
            "code": 422,
            "message": f'Property "image" expects a valid pathname as data, "{data}" given. '
            "Check the expected format on the API documentation.",
            "_links": {
                "documentation": {
                    "href": "http://api.akeneo.com/api-reference.html#patch_products__code_"
                }
            },
        }
    assert api.get("products/P-1").status_code == 404
    [line] = api.collection("products", [{"identifier": "P-9", **image_value("x.png")}])
    assert line["status_code"] == 422
    assert line["message"].startswith('Property "image" expects a valid pathname as data')


def test_file_rules_of_the_attribute_refuse_and_keep_nothing(api: Api) -> None:
    api.patch("products/P-1", {})
    cases = [
        (
            ("notes.txt", b"plain text"),
            "The txt file extension is not allowed for the image attribute. "
            "Allowed extensions are jpg, png.",
        ),
        (
            ("fake.png", b"this is text, not an image"),
            "The MIME type is not allowed for png (allowed types: image/png, found text/plain).",
        ),
        (
            ("huge.png", PNG + bytes(11_000)),
            f"The file huge.png is too large ({round((len(PNG) + 11_000) / 1000, 2)} kB). "
            "The image attribute can not exceed 10 kB.",
        ),
    ]
    for file, message in cases:
        response = api.upload({"product": TARGET}, file)
        assert response.status_code == 422, file[0]
        assert response.json() == {
            "code": 422,
            "message": "Validation failed.",
            "errors": [
                {
                    "property": "values",
                    "message": message,
                    "attribute": "image",
                    "locale": None,
                    "scope": None,
                }
            ],
        }
    assert api.get("media-files", with_count="true").json()["items_count"] == 0
    assert "image" not in api.product("P-1")["values"]


def test_upload_errors_in_akeneo_order(api: Api) -> None:
    api.patch("products/P-1", {})
    model = {"code": "M-1", "attribute": "image", "locale": None, "scope": None}
    cases = [
        ({"product": TARGET, "product_model": model}, True, 422,
         'You should give either a "product" or a "product_model" key.'),
        ({}, True, 422,
         'You should at least give one of the following properties: "product" or '
         '"product_model".'),
        ({"product": "{not json"}, True, 400, "Invalid json message received"),
        ({"product": {"identifier": "P-1", "attribute": "image"}}, True, 422,
         'Product property must contain "identifier", "attribute", "locale" and "scope" '
         "properties."),
        ({"product": {**TARGET, "identifier": "NOPE"}}, True, 422,
         'Product "NOPE" does not exist.'),
        ({"product_model": model}, True, 422, 'Product model "M-1" does not exist.'),
        ({"product": TARGET}, False, 422, 'Property "file" is required.'),
        ({"product": {**TARGET, "attribute": "nope"}}, True, 422,
         "The nope attribute does not exist in your PIM."),
        ({"product": {**TARGET, "attribute": "manual"}}, True, 422,
         'Attribute "manual" expects a locale, none given.'),
    ]  # fmt: skip
    for fields, with_file, status, message in cases:
        response = api.upload(fields, ("a.png", PNG) if with_file else None)
        assert (response.status_code, response.json()) == (
            status,
            {"code": status, "message": message},
        ), fields
    assert api.get("media-files", with_count="true").json()["items_count"] == 0
    wrong_type = requests.post(
        api.url("media-files"), json={"product": TARGET}, headers=api.headers, timeout=10
    )
    assert wrong_type.status_code == 415
    assert wrong_type.json()["message"] == (
        '"application/json" in "Content-Type" header is not valid. '
        'Only "multipart/form-data" is allowed.'
    )


def test_localizable_file_by_identifier_for_a_product_of_the_uuid_routes(api: Api) -> None:
    created = api.post(
        "products-uuid", {"values": {"sku": [{"locale": None, "scope": None, "data": "U-1"}]}}
    )
    assert created.status_code == 201, created.text
    uuid = created.headers["Location"].rsplit("/", 1)[1]
    pdf = b"%PDF-1.4 manual"
    target = {"identifier": "U-1", "attribute": "manual", "locale": "de_DE", "scope": None}
    response = api.upload({"product": target}, ("Anleitung.pdf", pdf))
    assert response.status_code == 201, response.text
    code = response.headers["Location"].split("/media-files/")[1]
    product = api.get(f"products-uuid/{uuid}").json()
    assert product["values"]["manual"] == [{"locale": "de_DE", "scope": None, "data": code}]
    assert api.get(f"media-files/{code}/download").content == pdf
    by_uuid = api.upload({"product": {**target, "identifier": uuid}}, ("b.pdf", pdf))
    assert by_uuid.json() == {"code": 422, "message": f'Product "{uuid}" does not exist.'}


def test_unknown_media_file_is_404_and_reset_forgets_media(api: Api) -> None:
    missing = api.get("media-files/a/b/c/d/nothing.png")
    assert missing.status_code == 404
    assert missing.json() == {
        "code": 404,
        "message": 'Media file "a/b/c/d/nothing.png" does not exist.',
    }
    assert api.get("media-files/a/b/c/d/nothing.png/download").status_code == 404
    api.patch("products/P-1", {})
    code = (
        api.upload({"product": TARGET}, ("a.png", PNG))
        .headers["Location"]
        .split("/media-files/")[1]
    )
    api.pim.reset()
    assert api.get(f"media-files/{code}").status_code == 404


def test_multipart_pitfalls_get_akeneo_answers(api: Api) -> None:
    """A hand-set Content-Type without boundary, or `product` sent as a file part, leave PHP
    without the field (pim-community-dev issue 18578)."""
    api.patch("products/P-1", {})
    neither = {
        "code": 422,
        "message": 'You should at least give one of the following properties: "product" or '
        '"product_model".',
    }
    no_boundary = requests.post(
        api.url("media-files"),
        data=b'--x\r\nContent-Disposition: form-data; name="product"\r\n\r\n{}\r\n--x--\r\n',
        headers={**api.headers, "Content-Type": "multipart/form-data"},
        timeout=10,
    )
    assert (no_boundary.status_code, no_boundary.json()) == (422, neither)
    as_file = requests.post(
        api.url("media-files"),
        files={"product": ("product.json", json.dumps(TARGET)), "file": ("a.png", PNG)},
        headers=api.headers,
        timeout=10,
    )
    assert (as_file.status_code, as_file.json()) == (422, neither)
    no_filename = requests.post(
        api.url("media-files"),
        files={"product": (None, json.dumps(TARGET)), "file": (None, PNG)},
        headers=api.headers,
        timeout=10,
    )
    assert no_filename.json() == {"code": 422, "message": 'Property "file" is required.'}
    assert "image" not in api.product("P-1")["values"]


def test_media_files_survive_a_restart_of_a_file_database(
    tmp_path: Path, pim: SandboxProcess
) -> None:
    assert pim.catalog is not None
    with SandboxProcess(catalog=pim.catalog, db=str(tmp_path / "pim.db")) as process:
        api = Api(process)
        api.patch("products/P-1", {})
        location = api.upload({"product": TARGET}, ("kept.png", PNG)).headers["Location"]
        process.restart()
        api = Api(process)
        assert api.get(location.split("/api/rest/v1/")[1] + "/download").content == PNG
        value = api.product("P-1")["values"]["image"][0]["data"]
        assert location.endswith(value)
