"""Associations: products linked to other products, product models and groups.

The mapping's `associations` and `quantified_associations` keys are parsed and checked here
(types against `GET /association-types`). Association data goes out in a second pass, as a
line of its own for each product, after the products of the run are confirmed: a product
may name one that comes later in the same export, and a link the PIM refuses (a product
that exists nowhere) is reported for that product without holding back its other data.
Waiting lines are kept in the state store's file (`WaitingLines`), not in memory: a line
naming a product that is not in the export waits until the end of the run.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from target_akeneo.cache import ConfirmedPayloads, payload_digest
from target_akeneo.client import MAX_LINES, AkeneoClient, LineResult
from target_akeneo.errors import MappingError, ValueShapeError
from target_akeneo.mapping import parse_path, read_path
from target_akeneo.report import JsonLinesWriter, RunReport, dead_letter, dumps

logger = logging.getLogger("target-akeneo")

KINDS = ("products", "product_models", "groups")
QUANTIFIED_KINDS = ("products", "product_models")
_encode = msgspec.json.Encoder(order="sorted").encode
# The confirmed-payload key of a product's (a model's) association line, beside its line.
_SUFFIX = "\x00associations"
_MODEL_SUFFIX = "\x00model_associations"


@dataclass(frozen=True)
class Link:
    """One mapped list of links: association type, kind of target, where it is read."""

    type: str
    kind: str
    path: tuple[str, ...]
    quantified: bool = False
    identifier_key: str = "identifier"
    quantity_key: str = "quantity"


def _parse_links(raw: Any, place: str, quantified: bool, problems: list[str]) -> list[Link]:
    links: list[Link] = []
    if not isinstance(raw, Mapping):
        problems.append(f"{place}: expected an object of association type to links")
        return links
    kinds = QUANTIFIED_KINDS if quantified else KINDS
    for type_code, by_kind in raw.items():
        where = f"{place}.{type_code}"
        if not isinstance(by_kind, Mapping) or not by_kind:
            problems.append(f"{where}: expected an object with {' and/or '.join(kinds)}")
            continue
        for kind, spec in by_kind.items():
            at = f"{where}.{kind}"
            if kind not in kinds:
                problems.append(f"{at}: unknown kind (allowed: {', '.join(kinds)})")
                continue
            spec = {"field": spec} if isinstance(spec, str) else spec
            allowed = {"field", "identifier", "quantity"} if quantified else {"field"}
            if not isinstance(spec, Mapping) or not isinstance(spec.get("field"), str):
                problems.append(f"{at}: expected {{field: <record field>}}")
                continue
            unknown = sorted(set(spec) - allowed)
            if unknown:
                problems.append(f"{at}: unknown key(s) {', '.join(unknown)}")
                continue
            links.append(
                Link(
                    str(type_code),
                    str(kind),
                    parse_path(spec["field"]),
                    quantified,
                    str(spec.get("identifier", "identifier")),
                    str(spec.get("quantity", "quantity")),
                )
            )
    return links


def parse_associations(mapping: Mapping[str, Any], origin: str) -> dict[str, tuple[Link, ...]]:
    """The links of each stream that maps any (in a `product_models:` block: the models');
    raise `MappingError` naming each problem."""
    problems: list[str] = []
    found: dict[str, tuple[Link, ...]] = {}
    for stream, raw in mapping.items():
        if not isinstance(raw, Mapping):
            continue
        place = f"{origin}: {stream}"
        if isinstance(raw.get("product_models"), Mapping):
            raw, place = raw["product_models"], f"{place}.product_models"
        links: list[Link] = []
        for key, quantified in (("associations", False), ("quantified_associations", True)):
            if raw.get(key) is not None:
                links += _parse_links(raw[key], f"{place}.{key}", quantified, problems)
        if links:
            found[str(stream)] = tuple(links)
    if problems:
        raise MappingError(*problems)
    return found


def check_types(
    links: Mapping[str, Sequence[Link]], types: Mapping[str, bool], origin: str
) -> None:
    """Every mapped type exists, and is quantified exactly when mapped as quantified."""
    problems = []
    for stream, stream_links in links.items():
        for link in stream_links:
            key = "quantified_associations" if link.quantified else "associations"
            place = f"{origin}: {stream}.{key}.{link.type}"
            if link.type not in types:
                known = ", ".join(sorted(types)) or "none"
                problems.append(f"{place}: unknown association type (the PIM has: {known})")
            elif types[link.type] != link.quantified:
                wanted = "quantified_associations" if types[link.type] else "associations"
                problems.append(f"{place}: {link.type} belongs under {wanted}")
    if problems:
        raise MappingError(*sorted(set(problems)))


def _codes(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return [str(item) for item in value if item is not None and str(item).strip()]
    raise ValueShapeError(f"expected a list of codes, got {type(value).__name__}")


def _quantified(value: Any, link: Link) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ValueShapeError(f"expected a list of objects, got {type(value).__name__}")
    entries = []
    for item in value:
        if not isinstance(item, Mapping):
            raise ValueShapeError(f"expected objects with {link.identifier_key}, got {item!r}")
        quantity = item.get(link.quantity_key)
        try:
            if isinstance(quantity, bool) or not isinstance(quantity, int | str):
                raise ValueError(quantity)
            amount = int(quantity)
        except ValueError:
            raise ValueShapeError(f"{link.quantity_key}: expected an integer quantity") from None
        entries.append({"identifier": str(item.get(link.identifier_key)), "quantity": amount})
    return entries


def build_line(
    identifier: str, record: Mapping[str, Any], links: Sequence[Link], *, model: bool = False
) -> dict[str, Any]:
    """The association line of one product, or product model (keyed by `code`); empty lists
    too: the mapping owns these lists."""
    plain: dict[str, dict[str, Any]] = {}
    quantified: dict[str, dict[str, Any]] = {}
    for link in links:
        value = read_path(record, link.path)
        try:
            if link.quantified:
                quantified.setdefault(link.type, {})[link.kind] = _quantified(value, link)
            else:
                plain.setdefault(link.type, {})[link.kind] = _codes(value)
        except ValueShapeError as exc:
            raise ValueShapeError(f"{link.type}.{link.kind}: {exc}") from None
    line: dict[str, Any] = {"code" if model else "identifier": identifier}
    if plain:
        line["associations"] = plain
    if quantified:
        line["quantified_associations"] = quantified
    return line


def targets(line: Mapping[str, Any]) -> list[str]:
    """The products an association line names (those it waits for)."""
    names: set[str] = set()
    for by_kind in line.get("associations", {}).values():
        names.update(by_kind.get("products", ()))
    for by_kind in line.get("quantified_associations", {}).values():
        names.update(entry["identifier"] for entry in by_kind.get("products", ()))
    return sorted(names)


@dataclass
class _Waiting:
    stream: str
    identifier: str  # a model's code when `model`
    record: Mapping[str, Any]
    line: dict[str, Any]
    targets: list[str]
    model: bool = False

    @property
    def key(self) -> str:
        """The line's key among the waiting lines and the confirmed payloads."""
        return self.identifier + (_MODEL_SUFFIX if self.model else _SUFFIX)


class WaitingLines:
    """This run's association lines not sent yet: a TEMP table of the state store's
    connection, on disk (dropped at close), so waiting lines cost no memory."""

    CHUNK = 500

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: each write is its own (temp-file) transaction, never a long one.
        self._db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        self._db.execute("PRAGMA temp_store = FILE")
        self._db.execute(
            "CREATE TEMP TABLE waiting_associations (key TEXT PRIMARY KEY,"
            " identifier TEXT NOT NULL, model INTEGER NOT NULL, stream TEXT NOT NULL,"
            " record TEXT NOT NULL, line TEXT NOT NULL, targets TEXT NOT NULL)"
        )

    def put(self, waiting: _Waiting) -> None:
        """Keep a line; a newer line of the same product (model) replaces the older one."""
        self._db.execute(
            "INSERT OR REPLACE INTO waiting_associations VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                waiting.key,
                waiting.identifier,
                int(waiting.model),
                waiting.stream,
                dumps(waiting.record),
                dumps(waiting.line),
                json.dumps(waiting.targets),
            ),
        )

    def chunks(self) -> Iterator[list[_Waiting]]:
        """Every waiting line, `CHUNK` at a time in the order they came (the caller may
        remove lines of a chunk before asking for the next)."""
        last = 0
        while True:
            rows = self._db.execute(
                "SELECT rowid, identifier, model, stream, record, line, targets"
                " FROM waiting_associations WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (last, self.CHUNK),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [
                _Waiting(
                    stream,
                    identifier,
                    json.loads(record),
                    json.loads(line),
                    json.loads(names),
                    bool(model),
                )
                for _rowid, identifier, model, stream, record, line, names in rows
            ]

    def remove(self, lines: Sequence[_Waiting]) -> None:
        self._db.executemany(
            "DELETE FROM waiting_associations WHERE key = ?", [(w.key,) for w in lines]
        )

    def close(self) -> None:
        self._db.close()


class AssociationPass:
    """Collects the association lines of products the PIM has, and sends them later."""

    def __init__(
        self,
        *,
        client: AkeneoClient,
        links: Mapping[str, Sequence[Link]],
        confirmed: ConfirmedPayloads,
        waiting: WaitingLines,
        report: RunReport,
        dead_letters: JsonLinesWriter,
    ) -> None:
        self._client = client
        self._links = links
        self._confirmed = confirmed
        self._waiting = waiting
        self._report = report
        self._dead_letters = dead_letters

    def add(
        self, stream: str, identifier: str, record: Mapping[str, Any], *, model: bool = False
    ) -> None:
        """A product (`model`: a product model, by code) the PIM has, confirmed or
        unchanged: queue its association line."""
        links = self._links.get(stream)
        if not links:
            return
        try:
            line = build_line(identifier, record, links, model=model)
        except ValueShapeError as exc:
            waiting = _Waiting(stream, identifier, record, {}, [], model)
            self._fail(waiting, None, str(exc), [], "association_error")
            return
        self._waiting.put(_Waiting(stream, identifier, record, line, targets(line), model))

    def flush(self, *, final: bool) -> None:
        """Send the lines whose linked products the PIM has; at the end of the run, all.

        Before the end, a line naming a product not confirmed yet waits (it may come later
        in the export); at the end the PIM decides, and refuses a product that exists nowhere.
        """
        for chunk in self._waiting.chunks():
            ready = chunk
            if not final:
                wanted = sorted({name for waiting in chunk for name in waiting.targets})
                known = self._confirmed.in_pim(wanted)
                ready = [w for w in chunk if known.issuperset(w.targets)]
            self._waiting.remove(ready)
            self._send([w for w in ready if not w.model], self._client.upsert_products)
            self._send([w for w in ready if w.model], self._client.upsert_product_models)

    def close(self) -> None:
        self._waiting.close()

    def _send(
        self, ready: Sequence[_Waiting], upsert: Callable[[list[bytes]], list[LineResult]]
    ) -> None:
        todo = []
        for waiting in ready:
            line = _encode(waiting.line)
            known = self._confirmed.known(waiting.stream, [waiting.key]).get(waiting.key)
            if known == payload_digest(line):
                self._report.add(waiting.stream, "associations_unchanged")
                continue
            todo.append((waiting, line))
        for start in range(0, len(todo), MAX_LINES):
            chunk = todo[start : start + MAX_LINES]
            results = upsert([line for _w, line in chunk])
            for (waiting, line), result in zip(chunk, results, strict=True):
                if result.ok:
                    self._confirmed.confirm(waiting.stream, waiting.key, payload_digest(line))
                    self._report.add(waiting.stream, "associations_sent")
                else:
                    reason = "retries_exhausted" if result.exhausted else "association_error"
                    self._fail(waiting, result.status_code, result.message, result.errors, reason)

    def _fail(
        self,
        waiting: _Waiting,
        status: int | None,
        message: str,
        errors: list[Any],
        reason: str,
    ) -> None:
        self._report.add(waiting.stream, "associations_failed")
        noun = "product model" if waiting.model else "product"
        logger.warning("associations of %s '%s' refused: %s", noun, waiting.identifier, message)
        self._dead_letters.write(
            dead_letter(
                waiting.stream,
                waiting.identifier,
                reason,
                status_code=status,
                message=message,
                errors=errors,
                record=waiting.record,
                payload=waiting.line or None,
            )
        )
