"""S3 through a local moto server on loopback: listing, globbing, gz, bookmarks, secrets."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tap_erp_xml.testing import product_stream, sync

KEY_ID = "AKIATESTKEYID0000000"
SECRET = "s3-secret-value-that-must-never-appear"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint: str, request: pytest.FixtureRequest) -> str:
    name = f"erp-{request.node.name.replace('_', '-')[:40]}".lower()
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        region_name="eu-central-1",
    )
    client.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    products = "".join(f"<Product><SKU>{s}</SKU></Product>" for s in ("S3-1", "S3-2"))
    client.put_object(Bucket=name, Key="exports/a.xml", Body=f"<Export>{products}</Export>")
    client.put_object(
        Bucket=name,
        Key="exports/b.xml.gz",
        Body=gzip.compress(b"<Export><Product><SKU>S3-3</SKU></Product></Export>"),
    )
    client.put_object(Bucket=name, Key="other/c.xml", Body=b"<Export/>")
    return name


def _config(endpoint: str, bucket: str) -> dict[str, Any]:
    return {
        "files": [f"s3://{bucket}/exports/*.xml*"],
        "s3": {
            "aws_access_key_id": KEY_ID,
            "aws_secret_access_key": SECRET,
            "endpoint_url": endpoint,
            "region": "eu-central-1",
        },
        "streams": [product_stream()],
    }


def test_s3_glob_with_gzip_and_bookmarks(
    s3_endpoint: str, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = _config(s3_endpoint, bucket)
    first = sync(config)
    assert [r["sku"] for r in first.records] == ["S3-1", "S3-2", "S3-3"]
    assert first.records[0]["_sdc_source_file"] == f"s3://{bucket}/exports/a.xml"
    assert first.records[2]["_sdc_source_file"] == f"s3://{bucket}/exports/b.xml.gz"
    assert first.records[0]["_sdc_modified_at"].endswith("+00:00")

    second = sync(config, state=first.final_state)
    assert second.records == []
    counts = second.counts["products"]
    assert (counts.files_read, counts.files_unchanged) == (0, 2)
    everything = repr(first) + repr(second) + caplog.text
    assert SECRET not in everything


def test_s3_missing_key_is_a_clear_error(s3_endpoint: str, bucket: str) -> None:
    from tap_erp_xml.errors import SourceError

    config = _config(s3_endpoint, bucket)
    config["files"] = [f"s3://{bucket}/exports/missing.xml"]
    with pytest.raises(SourceError) as caught:
        sync(config)
    assert str(caught.value) == f'files: "s3://{bucket}/exports/missing.xml": no such file'
    assert SECRET not in str(caught.value)
