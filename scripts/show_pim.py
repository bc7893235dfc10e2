"""Print what the demo PIM (akeneo-sandbox with its default credentials) holds.

Also prints the target's run report and dead-letter file from output/, so a person
sees the outcome of a demo run at a glance.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BASE_URL = "http://127.0.0.1:8081"
CLIENT = ("sandbox-client", "sandbox-secret")
USER = {"grant_type": "password", "username": "admin", "password": "admin"}


def wait_until_up(timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(f"{BASE_URL}/sandbox/stats", timeout=2).raise_for_status()
        except requests.RequestException:
            time.sleep(0.2)
        else:
            return
    log = ROOT / "output" / "sandbox.log"
    detail = log.read_text(encoding="utf-8").strip().splitlines()[-1:] if log.exists() else []
    sys.exit(f"akeneo-sandbox did not start on {BASE_URL}: {' '.join(detail) or 'no output'}")


def products(
    kind: str = "products", query: str = "pagination_type=search_after&limit=100"
) -> list[dict[str, object]]:
    """Every item of a list endpoint (categories page by number: `query="limit=100"`)."""
    token = requests.post(
        f"{BASE_URL}/api/oauth/v1/token", json=USER, auth=CLIENT, timeout=10
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    url: str | None = f"{BASE_URL}/api/rest/v1/{kind}?{query}"
    items: list[dict[str, object]] = []
    while url:
        page = requests.get(url, headers=headers, timeout=10).json()
        items.extend(page["_embedded"]["items"])
        url = page["_links"].get("next", {}).get("href")
    return items


def first_data(product: dict[str, object], attribute: str) -> str:
    values = product.get("values") or {}
    assert isinstance(values, dict)
    entries = values.get(attribute) or []
    if not entries:
        return ""
    data = entries[0]["data"]
    if isinstance(data, list):
        return ", ".join(f"{p['amount']} {p['currency']}" for p in data)
    if isinstance(data, dict):
        return f"{data['amount']} {data['unit']}"
    return str(data)


def linked(product: dict[str, object]) -> str:
    """The product's associations to products, as `TYPE: a b`."""
    associations = product.get("associations") or {}
    assert isinstance(associations, dict)
    return "; ".join(
        f"{kind}: {' '.join(links['products'])}"
        for kind, links in sorted(associations.items())
        if links.get("products")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", action="store_true", help="only wait for the sandbox")
    args = parser.parse_args()
    wait_until_up()
    if args.wait:
        return
    rows = [
        (
            str(p["identifier"]),
            str(p.get("family") or ""),
            "yes" if p.get("enabled") else "no",
            first_data(p, "name"),
            first_data(p, "price"),
            "yes" if first_data(p, "image") else "",
            ", ".join(str(code) for code in p.get("categories") or ()),
            linked(p),
            str(p.get("parent") or ""),
        )
        for p in products()
    ]
    header = ("identifier", "family", "enabled", "name", "price", "image", "categories")
    header += ("associations", "parent")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(f"{len(rows)} products in the PIM at {BASE_URL}")
    for category in products("categories", "limit=100"):
        if category.get("parent"):
            print(f"category {category['code']} (under {category['parent']})")
    for model in products("product-models"):
        level = f"sub-model of {model['parent']}" if model.get("parent") else "root model"
        print(f"product model {model['code']} ({model['family_variant']}, {level})")
    for prefix in ("", "next-", "apparel-"):
        show_outcome(prefix)


def show_outcome(prefix: str) -> None:
    """The run report and dead letters of a demo run (`next-`: the next day's export,
    `apparel-`: the product model run)."""
    report = ROOT / "output" / f"{prefix}run-report.json"
    if report.exists():
        print(f"run report ({report.relative_to(ROOT)}): {report.read_text(encoding='utf-8')}")
    # The last run's own dead-letter file (each run that rejects something writes one).
    written = (
        json.loads(report.read_text(encoding="utf-8")).get("dead_letter_path")
        if (report.exists())
        else None
    )
    dead = ROOT / written if written else None
    if dead is not None and dead.exists():
        print(f"dead-letter file of this run: {dead.relative_to(ROOT)}")
        for line in dead.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            reason = f"{entry.get('message')} {entry.get('errors') or ''}".strip()
            print(f"rejected {entry.get('identifier')}: {reason}")


if __name__ == "__main__":
    main()
