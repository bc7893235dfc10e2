"""The two baselines the pipeline is compared with, each run as its own process.

- `lxml FILE`: a bare iterparse loop that only counts product elements and frees them, the
  physical limit of parsing the export in Python.
- `post FILE BASE_URL`: reads the same products, builds the exact Akeneo payload lines the
  target sends (before the clock starts), then times only posting them as 100-line collection
  PATCH requests through one requests.Session from THREADS threads, like the target's default
  concurrency. Credentials come from the environment (BENCH_CLIENT_ID, BENCH_SECRET,
  BENCH_USERNAME, BENCH_PASSWORD) so that they never appear in a process listing.

- `naive FILE BASE_URL --products N`: the kind of client many integration scripts are: one
  PATCH /products/{identifier} per product, one after the other, payloads built beforehand.

Each prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generate import NAMESPACE, PRODUCT_TAG
from lxml import etree

if TYPE_CHECKING:
    import requests

THREADS = 2
BATCH_LINES = 100
COLLECTION_TYPE = "application/vnd.akeneo.collection+json"
NS = {"e": NAMESPACE}
FAMILIES = {"SHOES": "shoes", "TSHIRT": "tshirts"}
LOCALES = {"en": "en_US", "de": "de_DE"}
UNITS = {"kg": "KILOGRAM", "g": "GRAM"}
COLOURS = {"RD": "red", "BL": "blue", "GR": "green"}


def iter_products(path: Path, tag: str = PRODUCT_TAG) -> Iterator[Any]:
    """Product elements of an export, each freed after the caller is done with it."""
    for _, elem in etree.iterparse(str(path), events=("end",), tag=tag):
        yield elem
        elem.clear()
        while elem.getprevious() is not None:
            del elem.getparent()[0]


def count_elements(path: Path, tag: str = PRODUCT_TAG) -> dict[str, Any]:
    """The bare parsing loop: count product elements."""
    started = time.perf_counter()
    count = sum(1 for _ in iter_products(path, tag))
    return {"elements": count, "seconds": time.perf_counter() - started}


def _value(data: Any, locale: str | None = None, scope: str | None = None) -> dict[str, Any]:
    return {"locale": locale, "scope": scope, "data": data}


def payload_of(elem: Any) -> dict[str, Any]:
    """The Akeneo product the acceptance mapping makes of one product element."""
    text = {child.tag.split("}")[1]: child for child in elem}
    values: dict[str, list[dict[str, Any]]] = {}
    if "EAN" in text:
        values["ean"] = [_value(text["EAN"].text)]
    names = [
        _value(n.text, LOCALES[n.get("lang")])
        for n in elem.iterfind("e:Name", NS)
        if n.get("lang") in LOCALES
    ]
    if names:
        values["name"] = names
    descriptions = [
        _value(d.text, "en_US", "ecommerce")
        for d in elem.iterfind("e:Description", NS)
        if d.get("lang") == "en"
    ]
    if descriptions:
        values["description"] = descriptions
    weight = text["Weight"]
    amount = weight.text.replace(",", ".")
    values["weight"] = [_value({"amount": amount, "unit": UNITS[weight.get("unit")]})]
    prices = [
        {"amount": p.text, "currency": p.get("currency")}
        for p in elem.iterfind("e:Prices/e:Price", NS)
    ]
    values["price"] = [_value(prices)]
    values["color"] = [_value(COLOURS.get(text["Color"].text, text["Color"].text))]
    if "Waterproof" in text:
        values["waterproof"] = [_value(text["Waterproof"].text == "Y")]
    if "ReleaseDate" in text:
        day = text["ReleaseDate"].text
        values["release_date"] = [_value(f"{day[:4]}-{day[4:6]}-{day[6:]}T00:00:00+00:00")]
    return {
        "identifier": text["SKU"].text,
        "family": FAMILIES.get(text["Group"].text, "accessories"),
        "categories": [c.text for c in elem.iterfind("e:Categories/e:Category", NS)],
        "enabled": elem.get("status") == "active",
        "values": values,
    }


def build_bodies(path: Path) -> list[bytes]:
    """Collection PATCH bodies of at most BATCH_LINES products each, in file order."""
    lines = [json.dumps(payload_of(elem), ensure_ascii=False) for elem in iter_products(path)]
    return [
        "\n".join(lines[i : i + BATCH_LINES]).encode("utf-8")
        for i in range(0, len(lines), BATCH_LINES)
    ]


def credentials_from_env() -> dict[str, str]:
    """The sandbox credentials handed over in the environment."""
    names = ("client_id", "secret", "username", "password")
    return {name: os.environ[f"BENCH_{name.upper()}"] for name in names}


def token(session: requests.Session, base_url: str, credentials: Mapping[str, str]) -> str:
    """A bearer token from the password grant."""
    response = session.post(
        f"{base_url}/api/oauth/v1/token",
        auth=(credentials["client_id"], credentials["secret"]),
        json={
            "grant_type": "password",
            "username": credentials["username"],
            "password": credentials["password"],
        },
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def post_all(
    path: Path, base_url: str, credentials: Mapping[str, str], threads: int = THREADS
) -> dict[str, Any]:
    """Pre-build every batch, then time only the posting."""
    import requests  # imported here so that the bare lxml loop starts as fast as it can

    bodies = build_bodies(path)
    session = requests.Session()
    bearer = token(session, base_url, credentials)
    session.headers.update({"Authorization": f"Bearer {bearer}", "Content-Type": COLLECTION_TYPE})
    url = f"{base_url}/api/rest/v1/products"
    statuses: dict[str, int] = {}

    busy: list[float] = []  # per request, request sent to answer read: its slot's busy time

    def send(body: bytes) -> list[int]:
        sent = time.perf_counter()
        response = session.patch(url, data=body, timeout=120)
        busy.append(time.perf_counter() - sent)
        response.raise_for_status()
        return [int(json.loads(line)["status_code"]) for line in response.text.splitlines()]

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(send, bodies))
    seconds = time.perf_counter() - started
    for codes in results:
        for code in codes:
            statuses[str(code)] = statuses.get(str(code), 0) + 1
    return {
        "products": sum(statuses.values()),
        "requests": len(bodies),
        "seconds": seconds,
        "slot_seconds": sum(busy),
        "line_statuses": statuses,
        "threads": threads,
    }


def post_one_by_one(
    path: Path, base_url: str, credentials: Mapping[str, str], products: int
) -> dict[str, Any]:
    """The naive client: the first `products` payloads, one PATCH each, sequentially."""
    import requests

    payloads = []
    for elem in iter_products(path):
        payloads.append(payload_of(elem))
        if len(payloads) >= products:
            break
    session = requests.Session()
    bearer = token(session, base_url, credentials)
    session.headers.update({"Authorization": f"Bearer {bearer}"})
    statuses: dict[str, int] = {}
    started = time.perf_counter()
    for payload in payloads:
        url = f"{base_url}/api/rest/v1/products/{payload['identifier']}"
        code = str(session.patch(url, json=payload, timeout=120).status_code)
        statuses[code] = statuses.get(code, 0) + 1
    seconds = time.perf_counter() - started
    return {
        "products": len(payloads),
        "requests": len(payloads),
        "seconds": seconds,
        "statuses": statuses,
        "threads": 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Baselines of the benchmark")
    sub = parser.add_subparsers(dest="command", required=True)
    lxml_cmd = sub.add_parser("lxml", help="bare iterparse loop")
    lxml_cmd.add_argument("path", type=Path)
    lxml_cmd.add_argument("--tag", default=PRODUCT_TAG, help="record element (Clark notation)")
    post_cmd = sub.add_parser("post", help="bare poster of pre-built batches")
    post_cmd.add_argument("path", type=Path)
    post_cmd.add_argument("base_url")
    post_cmd.add_argument("--threads", type=int, default=THREADS)
    post_cmd.add_argument("--payloads", type=Path, help="also write the payload lines here")
    naive_cmd = sub.add_parser("naive", help="one PATCH per product, sequential")
    naive_cmd.add_argument("path", type=Path)
    naive_cmd.add_argument("base_url")
    naive_cmd.add_argument("--products", type=int, required=True)
    args = parser.parse_args()
    if args.command == "lxml":
        result = count_elements(args.path, args.tag)
    elif args.command == "naive":
        result = post_one_by_one(
            args.path, args.base_url.rstrip("/"), credentials_from_env(), args.products
        )
    else:
        if args.payloads:
            args.payloads.write_bytes(b"\n".join(build_bodies(args.path)) + b"\n")
        result = post_all(
            args.path, args.base_url.rstrip("/"), credentials_from_env(), args.threads
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
