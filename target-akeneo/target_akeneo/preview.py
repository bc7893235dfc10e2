"""The change preview of a dry run: what the run would do to each product, against the PIM.

`DryRun` is the one place a dry run writes what it would send: the payload file
(`dry_run_path`) and, from the very same payloads, the preview's rows. Each planned line's
current state is read from the PIM (one search per 100 identifiers, from the main thread:
a dry run sends nothing else) and compared value by value: new, changed (each value's
current and sent data, with locale and channel), unchanged, or refused (the mapping's
message, or an option the PIM's structure does not have). Rows go to a temporary SQLite
file as batches are processed, so no per-product data stays in memory; `write` turns them
into one self-contained HTML page (see `preview_page.js` for the paged, filtered table).
"""

from __future__ import annotations

import datetime
import json
import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from target_akeneo.client import AkeneoClient, product_identifier
from target_akeneo.html_page import counts_list, escape, pretty, write_page
from target_akeneo.media import MEDIA_TYPES
from target_akeneo.report import JsonLinesWriter, dumps
from target_akeneo.structure import SELECT_TYPES, PimStructure

PRODUCT, MODEL = "product", "product_model"
STATUSES = ("new", "changed", "unchanged", "refused")
# Top-level fields compared besides the values; lists of these are unordered in Akeneo.
_FIELDS = ("family", "family_variant", "parent", "enabled", "categories", "groups")
_UNORDERED = frozenset({"categories", "groups"})
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_NUMERIC_TYPES = frozenset(
    {"pim_catalog_number", "pim_catalog_metric", "pim_catalog_price_collection"}
)

_SCHEMA = (
    "CREATE TABLE rows (seq INTEGER PRIMARY KEY, status TEXT NOT NULL, family TEXT,"
    " row TEXT NOT NULL)"
)


class Preview:
    """The preview's rows, in a private temporary SQLite file (deleted when closed)."""

    def __init__(
        self,
        client: AkeneoClient,
        structure: PimStructure,
        *,
        by_uuid: bool,
        create_missing_options: bool,
    ) -> None:
        self._client = client
        self._structure = structure
        self._by_uuid = by_uuid
        self._create_options = create_missing_options
        # An empty name: SQLite's own temporary file on disk, gone at close.
        self._db = sqlite3.connect("")
        self._db.execute(_SCHEMA)
        self.reads = 0  # search requests for current values
        self.read_lines = 0  # lines whose current state was read

    # -- rows -----------------------------------------------------------------------

    def planned(
        self, kind: str, stream: str, items: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> None:
        """Lines the run would send: compared with what the PIM holds now."""
        if not items:
            return
        current = self._current(kind, [key for key, _ in items])
        rows = []
        for key, payload in items:
            refusals = self._refusals(payload)
            found = current.get(key)
            changes = _changes(payload, found, self._structure)
            if refusals:
                status = "refused"
            elif found is None:
                status = "new"
            else:
                status = "changed" if changes else "unchanged"
            row: dict[str, Any] = {"k": kind, "st": stream, "id": key, "d": changes}
            if refusals:
                row["r"] = "; ".join(refusals)
            elif status == "unchanged":
                row["n"] = "the PIM already holds these values"
            rows.append((status, _family(payload), row))
        self._insert(rows)

    def unchanged(
        self, kind: str, stream: str, items: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> None:
        """Lines skipped because the PIM confirmed the same payload before (no read)."""
        note = "same payload as last confirmed by the PIM (skip_unchanged)"
        self._insert(
            [
                (
                    "unchanged",
                    _family(payload),
                    {"k": kind, "st": stream, "id": key, "d": [], "n": note},
                )
                for key, payload in items
            ]
        )

    def refused(self, kind: str, stream: str, key: str | None, reason: str) -> None:
        """A line the mapping could not build, or the model stage would not send."""
        row = {"k": kind, "st": stream, "id": key or "(no identifier)", "d": [], "r": reason}
        self._insert([("refused", None, row)])

    def _insert(self, rows: Sequence[tuple[str, str | None, dict[str, Any]]]) -> None:
        self._db.executemany(
            "INSERT INTO rows (status, family, row) VALUES (?, ?, ?)",
            [
                (status, family, dumps({"s": status, "f": family, **row}))
                for status, family, row in rows
            ],
        )

    def _refusals(self, payload: Mapping[str, Any]) -> list[str]:
        """What the PIM's structure would refuse: option codes it does not have (unless the
        run creates them). Worded as Akeneo's message, with the attribute."""
        if self._create_options:
            return []
        found: list[str] = []
        for code, entries in (payload.get("values") or {}).items():
            attribute = self._structure.attributes.get(code)
            if attribute is None or attribute.type not in SELECT_TYPES:
                continue
            for entry in entries:
                data = entry.get("data")
                found.extend(
                    f"option {option} not in {code}"
                    for option in (data if isinstance(data, list) else [data])
                    if isinstance(option, str) and not self._structure.has_option(code, option)
                )
        return found

    def _current(self, kind: str, keys: list[str]) -> dict[str, Mapping[str, Any]]:
        """The PIM's current products (or models) among `keys`, 100 per search request."""
        chunks = [keys[start : start + 100] for start in range(0, len(keys), 100)]
        before = self._client.counters.requests
        parts = [self._read(kind, chunk) for chunk in chunks]
        self.reads += self._client.counters.requests - before
        self.read_lines += len(keys)
        return {key: item for part in parts for key, item in part.items()}

    def _read(self, kind: str, keys: list[str]) -> dict[str, Mapping[str, Any]]:
        if kind == MODEL:
            return {str(m["code"]): m for m in self._client.find_product_models(keys)}
        attribute = self._structure.identifier_attribute
        found: dict[str, Mapping[str, Any]] = {}
        for product in self._client.find_products(keys, by_uuid=self._by_uuid):
            identifier = product_identifier(product, attribute)
            if identifier is not None:
                found[identifier] = product
        return found

    # -- the page -------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        counts.update(self._db.execute("SELECT status, COUNT(*) FROM rows GROUP BY status"))
        return counts

    def _rows(self) -> Iterator[Any]:
        for (row,) in self._db.execute("SELECT row FROM rows ORDER BY seq"):
            yield json.loads(row)

    def write(self, path: Path, base_url: str) -> Path:
        counts = self.counts()
        families = [
            family
            for (family,) in self._db.execute(
                "SELECT DISTINCT family FROM rows WHERE family IS NOT NULL ORDER BY family"
            )
        ]
        total = sum(counts.values())
        tiles = counts_list([("lines", total), *counts.items(), ("PIM reads", self.reads)])
        options = "".join(f"<option>{escape(family)}</option>" for family in families)
        statuses = "".join(f"<option>{status}</option>" for status in STATUSES)
        body = (
            f"{tiles}<p class=muted id=reads>Current values read with {self.reads} search"
            f" request(s) for {self.read_lines} line(s): one request per 100 identifiers"
            " of a batch; lines known unchanged from the state store are not read.</p>"
            "<form id=filters><label>Status <select id=status><option value=''>all</option>"
            f"{statuses}</select></label> <label>Family <select id=family>"
            f"<option value=''>all</option>{options}</select></label> <label>Search"
            " <input id=q type=search placeholder='identifier, attribute, reason'></label>"
            " <span id=shown class=muted></span> <span id=pager>"
            "<button id=prev type=button>‹</button> <span id=pageno></span>"
            " <button id=next type=button>›</button></span></form>"
            "<table id=rows><thead><tr><th>Status</th><th>Kind</th><th>Identifier</th>"
            "<th>Family</th><th>What the run would do</th></tr></thead><tbody></tbody></table>"
        )
        stamp = datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        script = resources.files("target_akeneo").joinpath("preview_page.js").read_text("utf-8")
        return write_page(
            path,
            title="Change preview (dry run)",
            subtitle=f"{base_url} — {stamp} — nothing was sent",
            body=body,
            style=_STYLE,
            script=script,
            data=("data", self._rows()),
        )

    def close(self) -> None:
        self._db.close()


_STYLE = """
#filters { margin: 0 0 8px; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
#rows td.id { font-family: ui-monospace, monospace; white-space: nowrap; }
table.diff { width: auto; background: none; }
table.diff td, table.diff th { border: 0; padding: 1px 8px 1px 0; font-size: 12px; }
"""


class DryRun:
    """What a dry run writes: every planned payload to the payload file, the same payloads
    and the other lines' fates to the preview."""

    def __init__(self, payloads: JsonLinesWriter, preview: Preview | None = None) -> None:
        self.payloads = payloads
        self.preview = preview

    def planned(
        self, kind: str, stream: str, items: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> None:
        field = "payload" if kind == PRODUCT else "product_model"
        for _key, payload in items:
            self.payloads.write({"stream": stream, field: payload})
        if self.preview is not None:
            self.preview.planned(kind, stream, items)

    def unchanged(
        self, kind: str, stream: str, items: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> None:
        if self.preview is not None:
            self.preview.unchanged(kind, stream, items)

    def refused(self, kind: str, stream: str, key: str | None, reason: str) -> None:
        if self.preview is not None:
            self.preview.refused(kind, stream, key, reason)

    def close(self) -> None:
        self.payloads.close()


# -- comparing a payload with the PIM's item -----------------------------------------------


def _family(payload: Mapping[str, Any]) -> str | None:
    family = payload.get("family") or payload.get("family_variant")
    return None if family is None else str(family)


def _changes(
    payload: Mapping[str, Any], current: Mapping[str, Any] | None, structure: PimStructure
) -> list[list[str]]:
    """[field or attribute, locale, channel, current, sent] of each difference (of every
    sent value when the PIM has no such item)."""
    now = current or {}
    changes = []
    for name in _FIELDS:
        if name in payload:
            sent, held = payload[name], now.get(name)
            if current is None or _norm(sent, unordered=name in _UNORDERED) != _norm(
                held, unordered=name in _UNORDERED
            ):
                changes.append([name, "", "", pretty(held), pretty(sent)])
    held_values = now.get("values") or {}
    for code, entries in (payload.get("values") or {}).items():
        attribute = structure.attributes.get(code)
        kind = attribute.type if attribute is not None else ""
        by_place = {
            (e.get("locale"), e.get("scope")): e.get("data") for e in held_values.get(code) or ()
        }
        for entry in entries:
            place = (entry.get("locale"), entry.get("scope"))
            sent, held = entry.get("data"), by_place.get(place)
            if kind in MEDIA_TYPES and held is not None:
                continue  # a file the PIM has: compared by content when uploaded, not here
            if current is None or not _same(sent, held, kind):
                changes.append([code, place[0] or "", place[1] or "", pretty(held), pretty(sent)])
    return changes


def _same(sent: Any, held: Any, kind: str) -> bool:
    if kind == "pim_catalog_date" and isinstance(sent, str) and isinstance(held, str):
        return sent[:10] == held[:10]  # the PIM answers a date with its time of day
    numeric = kind in _NUMERIC_TYPES
    return bool(
        _norm(sent, numeric=numeric, unordered=True) == _norm(held, numeric=numeric, unordered=True)
    )


def _norm(value: Any, *, numeric: bool = False, unordered: bool = False) -> Any:
    """A value as Akeneo compares it: amounts as numbers ("129.90" is 129.9), collections
    (prices, multi-select options, categories) in any order, empty as absent."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal) or (
        numeric and isinstance(value, str) and _NUMBER.match(value)
    ):
        try:
            return Decimal(str(value)).normalize()
        except InvalidOperation:
            return value
    if isinstance(value, Mapping):
        return {
            key: _norm(item, numeric=numeric or key == "amount", unordered=unordered)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        items = [_norm(item, numeric=numeric, unordered=unordered) for item in value]
        if not items:
            return None
        return sorted(items, key=lambda item: json.dumps(item, default=str)) if unordered else items
    return value
