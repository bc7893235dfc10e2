"""Product models from flat rows: a stream's `model` block turns variant rows (one per SKU,
with a style code and the axis values) into root models, sub-models and variant products.

Each mapped value goes to the level where the family variant puts its attribute. Rows are
held until the next settle (a STATE or the end), because a model's values are known only
once all its rows are read; what was built is kept for the run, so rows of one model that
arrive after a STATE are still checked against it. Both live in a private SQLite database on
disk (`ModelSpill`), not in memory: settle plans and sends the rows a bounded chunk of whole
models at a time, so memory does not grow with the catalog. Models whose every row was found
unchanged as it was held (`unchanged_rows`) are set aside at settle without being read back
or planned: a nightly re-run of an unchanged catalog costs little more than reading it.
"""

from __future__ import annotations

import json
import pickle
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import msgspec

from target_akeneo.associations import AssociationPass
from target_akeneo.cache import ConfirmedPayloads
from target_akeneo.client import MAX_LINES, AkeneoClient
from target_akeneo.deltas import delta
from target_akeneo.dispatch import Dispatcher, Outcome, Pending
from target_akeneo.errors import MappingError
from target_akeneo.mapping import ModelSpec, Source, StreamMapping
from target_akeneo.media import MediaUploader, MediaValue, Owner, split_media
from target_akeneo.preview import MODEL as MODEL_KIND
from target_akeneo.preview import DryRun
from target_akeneo.report import JsonLinesWriter, RunReport, dead_letter
from target_akeneo.structure import PimStructure
from target_akeneo.unchanged_rows import Candidate, UnchangedCheck

_encode = msgspec.json.Encoder(order="sorted").encode
MODELS = "models"  # the dispatcher lane of product model lines
PRODUCTS = "products"  # the lane of product lines (upsert.py's)
# The sandbox's and Akeneo's message for a stored value of another level on a product put
# under a model: such values are erased first (see `Conversions`).
OUTSIDE_SET = "to this entity as it is not in the attribute set"


@dataclass(frozen=True)
class FamilyVariant:
    """A family variant as the PIM gives it: its axes and the level of each attribute."""

    code: str
    family: str
    axes: tuple[tuple[str, ...], ...]  # per level, 1-based: axes[0] is level 1
    level_of: Mapping[str, int]  # attribute -> 0 (root), 1 or 2; family attributes only

    @property
    def levels(self) -> int:
        return len(self.axes)

    @classmethod
    def from_api(
        cls, family: str, family_attributes: Iterable[str], item: Mapping[str, Any]
    ) -> FamilyVariant:
        level_of = dict.fromkeys(family_attributes, 0)
        sets = sorted(item.get("variant_attribute_sets") or (), key=lambda s: int(s["level"]))
        axes = []
        for entry in sets:
            level = int(entry["level"])
            axes.append(tuple(str(code) for code in entry.get("axes") or ()))
            for code in (*(entry.get("attributes") or ()), *(entry.get("axes") or ())):
                level_of[str(code)] = level
        return cls(str(item["code"]), family, tuple(axes), level_of)


def _codes(source: Source) -> list[str]:
    return [str(code) for code in source.outputs()]


def load_family_variants(
    client: AkeneoClient, streams: Mapping[str, StreamMapping]
) -> dict[str, dict[str, FamilyVariant]]:
    """Read the family variants the `model` blocks name and check the mappings against them.

    Returns stream -> family variant code -> FamilyVariant; raises `MappingError` with one
    line per problem, before anything is sent.
    """
    problems: list[str] = []
    found: dict[str, dict[str, FamilyVariant]] = {}
    family_attributes: dict[str, list[str]] = {}
    for name, mapping in streams.items():
        spec = mapping.model
        if spec is None:
            continue
        families = _codes(mapping.family) if mapping.family is not None else []
        variants = _codes(spec.family_variant)
        if len(families) != 1 or mapping.family is None or mapping.family.field is not None:
            problems.append(
                f"{mapping.place}.family: a stream with a model block needs one constant family"
                " (family: {value: ...}), the family of its family variant"
            )
            continue
        if not variants or (
            spec.family_variant.field is not None and spec.family_variant.table is None
        ):
            problems.append(
                f"{spec.place}.family_variant: give the family variant as a value or a map,"
                " so that it can be checked before sending"
            )
            continue
        family = families[0]
        if family not in family_attributes:
            family_attributes[family] = [
                str(code)
                for item in client.families([family])
                for code in item.get("attributes") or ()
            ]
        mapped = {spec.attribute for spec in mapping.values}
        for code in variants:
            item = client.family_variant(family, code)
            if item is None:
                problems.append(
                    f"{spec.place}.family_variant: family variant '{code}' does not exist"
                    f" in family '{family}'"
                )
                continue
            variant = FamilyVariant.from_api(family, family_attributes[family], item)
            found.setdefault(name, {})[code] = variant
            for level, axes in enumerate(variant.axes, start=1):
                problems.extend(
                    f"{mapping.place}.values: axis '{axis}' of level {level} of family variant"
                    f" '{code}' is not mapped"
                    for axis in axes
                    if axis not in mapped
                )
            problems.extend(
                f"{mapping.place}.values.{attribute}: attribute '{attribute}' is not in family"
                f" '{family}', so family variant '{code}' gives it no level"
                for attribute in sorted(mapped)
                if attribute not in variant.level_of
            )
    if problems:
        raise MappingError(*problems)
    return found


# -- building ----------------------------------------------------------------------------


@dataclass
class Row:
    """One mapped record of a model stream."""

    stream: str
    identifier: str
    payload: dict[str, Any]
    record: Mapping[str, Any]
    # The values as mapped, before they were split between the levels.
    all_values: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelLine:
    """A root or sub-model to send, and the products waiting for it."""

    code: str
    payload: dict[str, Any]
    stream: str
    parent: str | None = None
    children: list[Row] = field(default_factory=list)
    # The source record of a model read from its own stream, for its dead letter.
    record: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Refusal:
    """A row dead-lettered before sending."""

    row: Row
    reason: str
    message: str


@dataclass
class Plan:
    """What one settle sends: roots, then sub-models, then products (by stream)."""

    roots: list[ModelLine] = field(default_factory=list)
    subs: list[ModelLine] = field(default_factory=list)
    simple: list[Row] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def _text(entries: Any) -> bytes:
    """The canonical form two values compare by (keys sorted)."""
    return _encode(entries)


def _shown(entries: Any) -> str:
    """A value as the user reads it in a conflict message: the data, not the envelope."""
    data = [entry.get("data") for entry in entries] if isinstance(entries, list) else entries
    return _text(data[0] if isinstance(data, list) and len(data) == 1 else data).decode()


class _Level:
    """The values one model holds, merged from its rows; disagreements are kept per attribute."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.texts: dict[str, bytes] = {}
        self.first: dict[str, str] = {}  # attribute -> identifier of the row that set it

    def conflicts(self, row: Row, values: Mapping[str, Any]) -> list[str]:
        found = []
        for attribute, entries in values.items():
            known = self.values.get(attribute)
            if known is not None and self.texts[attribute] != _text(entries):
                found.append(
                    f"attribute '{attribute}': {_shown(known)} ({self.first[attribute]})"
                    f" vs {_shown(entries)} ({row.identifier})"
                )
        return found

    def merge(self, row: Row, values: Mapping[str, Any]) -> None:
        for attribute, entries in values.items():
            if attribute not in self.values:
                self.values[attribute] = entries
                self.texts[attribute] = _text(entries)
                self.first[attribute] = row.identifier


class Held(NamedTuple):
    """A row to hold, with its model code (None: a simple product); for a row found
    unchanged as it was held, also its sub-model code and its axis values (the checks that
    settle makes of the whole model before setting it aside)."""

    row: Row
    code: str | None
    sub: str | None = None
    axes: bytes | None = None
    unchanged: bool = False


class Known(NamedTuple):
    """What the run gave some models so far: their values, family variants and the axis
    values of their variants (model code and axis texts -> the product that has them)."""

    levels: dict[str, _Level]
    variant_of: dict[str, str]
    axes: dict[tuple[str, tuple[bytes, ...]], str]


# A shaped row: the row, its root model code, family variant, sub-model code, and its values
# split by level (index 0 the root's, then level 1, level 2).
_Shaped = tuple[Row, str, FamilyVariant, str | None, list[dict[str, Any]]]

CHUNK_ROWS = 2000  # rows planned and sent at a time (whole models, so a few more)
_BATCH = 500  # identifiers per `IN (...)` query


def _pack(value: Any) -> bytes:
    # Pickle keeps the record exactly as singer-sdk gave it (Decimal, etc.) for dead letters.
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _unpack(data: bytes) -> Any:
    # Only this process's own `_pack` output, from its private database: nothing untrusted.
    return pickle.loads(data)  # noqa: S301


def _pack_row(row: Row) -> bytes:
    # A plain tuple pickles in about half the time of the dataclass; `all_values` is only
    # filled by planning, after the row is read back.
    return _pack((row.stream, row.identifier, row.payload, row.record))


def _unpack_row(data: bytes) -> Row:
    return Row(*_unpack(data))


def _batches(select: str, items: Iterable[str]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """`select ... IN` completed for each batch of `items`, with the batch as its arguments."""
    chosen = list(items)
    for start in range(0, len(chosen), _BATCH):
        batch = tuple(chosen[start : start + _BATCH])
        yield f"{select} ({','.join('?' * len(batch))})", batch


class ModelSpill:
    """The model path's per-row data, in a private SQLite database on disk (deleted at
    close; SQLite's page cache bounds its memory): rows held until settle, what the run gave
    each model, and the values a variant may need erased (`ModelStage.convert`)."""

    def __init__(self) -> None:
        # "" is SQLite's private temporary database: a file, not memory.
        self._db = sqlite3.connect("", check_same_thread=False)
        self._db.executescript(
            """
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            CREATE TABLE rows (identifier TEXT PRIMARY KEY, seq INTEGER NOT NULL,
                stream TEXT NOT NULL, code TEXT, sub TEXT, axes BLOB,
                unchanged INTEGER NOT NULL, row BLOB NOT NULL);
            CREATE INDEX rows_by_model ON rows (code, seq);
            CREATE INDEX rows_by_sub ON rows (sub);
            CREATE TABLE settled (identifier TEXT NOT NULL, seq INTEGER NOT NULL,
                stream TEXT NOT NULL, code TEXT NOT NULL, sub TEXT, round INTEGER NOT NULL,
                row BLOB NOT NULL);
            CREATE INDEX settled_by_model ON settled (code, seq);
            CREATE INDEX settled_by_sub ON settled (sub);
            CREATE INDEX settled_by_round ON settled (round, stream, seq);
            CREATE TABLE unchanged (code TEXT PRIMARY KEY);
            CREATE TABLE levels (code TEXT, attribute TEXT, value BLOB NOT NULL,
                text BLOB NOT NULL, first TEXT NOT NULL, PRIMARY KEY (code, attribute));
            CREATE TABLE variants (code TEXT PRIMARY KEY, variant TEXT NOT NULL);
            CREATE TABLE axes (code TEXT, axes BLOB, identifier TEXT NOT NULL,
                PRIMARY KEY (code, axes));
            CREATE TABLE all_values (identifier TEXT PRIMARY KEY, all_values BLOB NOT NULL);
            """
        )
        self._seq = 0
        self._round = 0  # settles that set models aside
        self._settled = False  # whether any are set aside

    # -- rows held until settle -------------------------------------------------------------

    def hold(self, rows: Sequence[Held]) -> int:
        """Hold rows; a row replacing a held one keeps its place. Returns how many replaced
        one."""
        replaced = 0
        held = "SELECT COUNT(*) FROM rows WHERE identifier IN"
        for query, batch in _batches(held, (item.row.identifier for item in rows)):
            replaced += int(self._db.execute(query, batch).fetchone()[0])
        values = []
        for row, code, sub, axes, unchanged in rows:
            self._seq += 1
            values.append(
                (row.identifier, self._seq, row.stream, code, sub, axes, unchanged, _pack_row(row))
            )
        self._db.executemany(
            "INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (identifier) DO UPDATE"
            " SET stream = excluded.stream, code = excluded.code, sub = excluded.sub,"
            " axes = excluded.axes, unchanged = excluded.unchanged, row = excluded.row",
            values,
        )
        self._db.commit()
        return replaced

    def holding(self) -> bool:
        return self._db.execute("SELECT 1 FROM rows LIMIT 1").fetchone() is not None

    def chunks(self) -> Iterator[list[Row]]:
        """The held rows: simple ones, then whole models in code order, about `CHUNK_ROWS`
        at a time; none are held after the last chunk."""
        seq = 0
        while True:
            found = self._db.execute(
                "SELECT seq, row FROM rows WHERE code IS NULL AND seq > ? ORDER BY seq LIMIT ?",
                (seq, CHUNK_ROWS),
            ).fetchall()
            if not found:
                break
            seq = found[-1][0]
            yield [_unpack_row(row) for _, row in found]
        after = ""  # model codes are never empty
        while True:
            counts = self._db.execute(
                "SELECT code, COUNT(*) FROM rows WHERE code > ? GROUP BY code ORDER BY code"
                " LIMIT ?",
                (after, CHUNK_ROWS),
            ).fetchall()
            if not counts:
                break
            total, last = 0, after
            for code, count in counts:
                total, last = total + int(count), str(code)
                if total >= CHUNK_ROWS:
                    break
            found = self._db.execute(
                "SELECT row FROM rows WHERE code > ? AND code <= ? ORDER BY code, seq",
                (after, last),
            ).fetchall()
            after = last
            yield [_unpack_row(row) for (row,) in found]
        self._forget_rows()

    def held_rows(self) -> Iterator[Row]:
        """Every held row in arrival order, then none are held."""
        seq = 0
        while True:
            found = self._db.execute(
                "SELECT seq, row FROM rows WHERE seq > ? ORDER BY seq LIMIT ?", (seq, CHUNK_ROWS)
            ).fetchall()
            if not found:
                break
            seq = found[-1][0]
            yield from (_unpack_row(row) for _, row in found)
        self._forget_rows()

    def _forget_rows(self) -> None:
        self._db.execute("DELETE FROM rows")
        self._db.commit()

    # -- models found unchanged as their rows were held ---------------------------------------

    def set_aside(self) -> list[tuple[str, int]]:
        """Move the held rows of models found unchanged to `settled`, unplanned; returns per
        stream how many models (roots and sub-models) were set aside.

        A root model qualifies when each of its rows was found unchanged as it was held (so
        all give the confirmed model values), no two share axis values (a duplicate is
        refused by planning), and neither it nor its sub-models are known to this run from
        before (planned or set aside: the rows must then be checked against that), nor
        named by the rows of another model.
        """
        db = self._db
        db.execute("DELETE FROM unchanged")
        db.execute(
            "INSERT INTO unchanged SELECT code FROM rows WHERE code IS NOT NULL GROUP BY code"
            " HAVING MIN(unchanged) = 1 AND COUNT(DISTINCT axes) = COUNT(*)"
            " AND COUNT(DISTINCT stream) = 1"
        )
        # Only the candidates' rows are looked at (none on a first load).
        db.execute(
            "WITH earlier (code) AS (SELECT code FROM levels UNION SELECT code FROM variants"
            " UNION SELECT code FROM settled UNION SELECT sub FROM settled)"
            " DELETE FROM unchanged WHERE code IN (SELECT code FROM earlier)"
            " OR code IN (SELECT sub FROM rows) OR code IN (SELECT r.code FROM rows r"
            " WHERE r.code IN (SELECT code FROM unchanged) AND (r.sub IN (SELECT code FROM"
            " earlier) OR r.sub IN (SELECT code FROM rows) OR EXISTS (SELECT 1 FROM rows o"
            " WHERE o.sub = r.sub AND o.code IS NOT r.code)))"
        )
        self._round += 1
        moved = db.execute(
            "INSERT INTO settled SELECT identifier, seq, stream, code, sub, ?, row FROM rows"
            " WHERE code IN (SELECT code FROM unchanged)",
            (self._round,),
        ).rowcount
        db.execute("DELETE FROM rows WHERE code IN (SELECT code FROM unchanged)")
        db.commit()
        if not moved:
            return []
        self._settled = True
        counts = db.execute(
            "SELECT stream, COUNT(DISTINCT code) + COUNT(DISTINCT sub) FROM settled"
            " WHERE round = ? GROUP BY stream ORDER BY stream",
            (self._round,),
        )
        return [(str(stream), int(models)) for stream, models in counts]

    def set_aside_identifiers(self, stream: str) -> Iterator[list[str]]:
        """The identifiers of the stream's rows the last `set_aside` moved, in arrival order,
        `CHUNK_ROWS` at a time."""
        seq = 0
        while True:
            found = self._db.execute(
                "SELECT seq, identifier FROM settled WHERE round = ? AND stream = ? AND seq > ?"
                " ORDER BY seq LIMIT ?",
                (self._round, stream, seq, CHUNK_ROWS),
            ).fetchall()
            if not found:
                return
            seq = found[-1][0]
            yield [str(identifier) for _, identifier in found]

    def settled_rows(self, codes: Iterable[str]) -> list[Row]:
        """The rows set aside for the models among `codes` (root or sub-model codes), all
        rows of each, in arrival order; no longer set aside, as a plan of them is about to
        remember what they gave those models (`remember`)."""
        if not self._settled:
            return []
        chosen = sorted(codes)
        roots: set[str] = set()
        for select in (
            "SELECT DISTINCT code FROM settled WHERE code IN",
            "SELECT DISTINCT code FROM settled WHERE sub IN",
        ):
            for query, batch in _batches(select, chosen):
                roots.update(code for (code,) in self._db.execute(query, batch))
        found: list[tuple[int, bytes]] = []
        for query, batch in _batches("SELECT seq, row FROM settled WHERE code IN", roots):
            found.extend(self._db.execute(query, batch))
        for query, batch in _batches("DELETE FROM settled WHERE code IN", roots):
            self._db.execute(query, batch)
        self._db.commit()
        return [_unpack_row(row) for _, row in sorted(found)]

    # -- what the run gave each model ---------------------------------------------------------

    def known(self, codes: Iterable[str]) -> Known:
        """What earlier plans gave these models (empty for a model not seen yet)."""
        chosen = sorted(codes)
        known = Known({}, {}, {})
        select = "SELECT code, attribute, value, text, first FROM levels WHERE code IN"
        for query, batch in _batches(select, chosen):
            for code, attribute, value, text, first in self._db.execute(query, batch):
                level = known.levels.setdefault(code, _Level())
                level.values[attribute] = _unpack(value)
                level.texts[attribute] = text
                level.first[attribute] = first
        select = "SELECT code, variant FROM variants WHERE code IN"
        for query, batch in _batches(select, chosen):
            known.variant_of.update(self._db.execute(query, batch))
        select = "SELECT code, axes, identifier FROM axes WHERE code IN"
        for query, batch in _batches(select, chosen):
            for code, axes, identifier in self._db.execute(query, batch):
                known.axes[code, tuple(axes.split(b"\n"))] = identifier
        return known

    def remember(self, known: Known) -> None:
        """Keep for the run what a plan gave its models (a model's first values stay)."""
        self._db.executemany(
            "INSERT OR IGNORE INTO levels VALUES (?, ?, ?, ?, ?)",
            (
                (code, attribute, _pack(value), level.texts[attribute], level.first[attribute])
                for code, level in known.levels.items()
                for attribute, value in level.values.items()
            ),
        )
        self._db.executemany(
            "INSERT OR IGNORE INTO variants VALUES (?, ?)", known.variant_of.items()
        )
        # Canonical JSON texts hold no raw newline, so one joins a model's axis values.
        self._db.executemany(
            "INSERT OR IGNORE INTO axes VALUES (?, ?, ?)",
            ((code, b"\n".join(axes), owner) for (code, axes), owner in known.axes.items()),
        )
        self._db.commit()

    # -- values of sent variants, until their answers are in ----------------------------------

    def keep_values(self, rows: Iterable[Row]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO all_values VALUES (?, ?)",
            ((row.identifier, _pack(row.all_values)) for row in rows),
        )
        self._db.commit()

    def has_values(self, identifier: str) -> bool:
        query = "SELECT 1 FROM all_values WHERE identifier = ?"
        return self._db.execute(query, (identifier,)).fetchone() is not None

    def values_of(self, identifiers: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        select = "SELECT identifier, all_values FROM all_values WHERE identifier IN"
        for query, batch in _batches(select, identifiers):
            for identifier, values in self._db.execute(query, batch):
                found[identifier] = _unpack(values)
        return found

    def forget_values(self) -> None:
        self._db.execute("DELETE FROM all_values")
        self._db.commit()

    def close(self) -> None:
        self._db.close()


class ModelBuilder:
    """Holds the rows of model streams until settle, then plans what goes out, a chunk of
    whole models at a time."""

    def __init__(
        self,
        specs: Mapping[str, ModelSpec],
        variants: Mapping[str, Mapping[str, FamilyVariant]],
        spill: ModelSpill | None = None,
    ) -> None:
        self._specs = specs
        self._variants = variants
        self.spill = spill or ModelSpill()

    def handles(self, stream: str) -> bool:
        return stream in self._specs

    def collect(
        self,
        stream: str,
        products: Mapping[str, tuple[dict[str, Any], Mapping[str, Any]]],
        check: UnchangedCheck | None = None,
    ) -> int:
        """Hold a batch's rows, with `check` marking those found unchanged; returns how many
        replaced a row held from an earlier batch."""
        spec = self._specs[stream]
        held = [
            Held(Row(stream, identifier, payload, record), _model_code(spec, record))
            for identifier, (payload, record) in products.items()
        ]
        if check is not None:
            variants = [item.row.identifier for item in held if item.code is not None]
            confirmed = check.confirmed(stream, variants)
            shaped: list[_Shaped] = []
            for row, code, *_ in held:
                if code is not None and row.identifier in confirmed:
                    self._shape(row, spec, code, shaped)
            found = check.unchanged(stream, _candidates(shaped), confirmed)
            held = _marked(held, shaped, found)
        return self.spill.hold(held)

    def pending(self) -> bool:
        return self.spill.holding()

    def take(self) -> Iterator[Row]:
        """The held rows, no longer held (the run stops without sending them)."""
        yield from self.spill.held_rows()

    def plans(self) -> Iterator[Plan]:
        """The held rows as plans of at most about `CHUNK_ROWS` rows each (all the rows of a
        model in one plan); they are no longer held once the last plan is taken."""
        for rows in self.spill.chunks():
            yield self._plan(rows)

    def _plan(self, rows: list[Row]) -> Plan:
        plan = Plan()
        roots: dict[str, ModelLine] = {}
        subs: dict[str, ModelLine] = {}
        placed: list[tuple[Row, str]] = []  # a row and its parent model
        # First pass: where each row goes, and the values of each model it gives.
        shaped: list[_Shaped] = []
        for row in rows:
            spec = self._specs[row.stream]
            code = _model_code(spec, row.record)
            if code is None:
                row.payload["parent"] = None  # stops being a variant, if it was one
                plan.simple.append(row)
                continue
            row.all_values = dict(row.payload.get("values") or {})
            refusal = self._shape(row, spec, code, shaped)
            if refusal is not None:
                plan.refused.append(refusal)
        # What earlier chunks and settles gave these models, from the spill.
        touched = {code for _, code, _, _, _ in shaped}
        touched |= {sub for _, _, _, sub, _ in shaped if sub is not None}
        known_state = self.spill.known(touched)
        self._replay(self.spill.settled_rows(touched), known_state)
        levels, variant_of, axes_owner = known_state
        # Second pass: model values must agree (conflicts refuse every row of the model).
        bad_roots: dict[str, list[str]] = {}
        bad_subs: dict[str, list[str]] = {}
        for row, code, variant, sub_code, split in shaped:
            level = levels.setdefault(code, _Level())
            known = variant_of.setdefault(code, variant.code)
            problems = (
                []
                if known == variant.code
                else [f"family_variant: '{known}' vs '{variant.code}' ({row.identifier})"]
            )
            problems += level.conflicts(row, split[0])
            if problems:
                bad_roots.setdefault(code, []).extend(problems)
            else:
                level.merge(row, split[0])
            if sub_code is not None:
                sub_level = levels.setdefault(sub_code, _Level())
                sub_problems = sub_level.conflicts(row, split[1])
                if sub_problems:
                    bad_subs.setdefault(sub_code, []).extend(sub_problems)
                else:
                    sub_level.merge(row, split[1])
        for row, code, variant, sub_code, split in shaped:
            problems = bad_roots.get(code) or (bad_subs.get(sub_code, []) if sub_code else [])
            if problems:
                model = code if code in bad_roots else sub_code
                plan.refused.append(
                    Refusal(
                        row,
                        "model_conflict",
                        f"rows of model '{model}' disagree on " + "; ".join(problems),
                    )
                )
                continue
            owner = axes_owner.setdefault((code, _axes(variant, split)), row.identifier)
            if owner != row.identifier:
                plan.refused.append(
                    Refusal(
                        row,
                        "duplicate_axes",
                        f"product '{owner}' of model '{code}' already has these axis values"
                        f" ({', '.join(a for lv in variant.axes for a in lv)})",
                    )
                )
                continue
            root = roots.get(code)
            if root is None:
                root = roots[code] = ModelLine(code, {}, row.stream)
            parent = code
            if sub_code is not None:
                sub = subs.get(sub_code)
                if sub is None:
                    sub = subs[sub_code] = ModelLine(sub_code, {}, row.stream, parent=code)
                parent = sub_code
            placed.append((row, parent))
            _place(row.payload, parent, split[variant.levels])
        self.spill.remember(known_state)
        for line in roots.values():
            line.payload = _model_payload(
                line.code, variant_of[line.code], None, levels[line.code].values
            )
        for line in subs.values():
            assert line.parent is not None
            line.payload = _model_payload(
                line.code, variant_of[line.parent], line.parent, levels[line.code].values
            )
        for row, parent in placed:
            (subs.get(parent) or roots[parent]).children.append(row)
        plan.roots = list(roots.values())
        plan.subs = list(subs.values())
        return plan

    def _replay(self, rows: Sequence[Row], known: Known) -> None:
        """Add to `known` what rows of models set aside unplanned gave them, as their plan
        would have remembered it (those rows agree with each other: no conflict is left)."""
        shaped: list[_Shaped] = []
        for row in rows:
            spec = self._specs[row.stream]
            code = _model_code(spec, row.record)
            if code is not None:
                self._shape(row, spec, code, shaped)
        for row, code, variant, sub_code, split in shaped:
            known.variant_of.setdefault(code, variant.code)
            known.levels.setdefault(code, _Level()).merge(row, split[0])
            if sub_code is not None:
                known.levels.setdefault(sub_code, _Level()).merge(row, split[1])
            known.axes.setdefault((code, _axes(variant, split)), row.identifier)

    def _shape(self, row: Row, spec: ModelSpec, code: str, shaped: list[_Shaped]) -> Refusal | None:
        variant_code = spec.family_variant.read(row.record)
        variant = self._variants.get(row.stream, {}).get(str(variant_code))
        if variant is None:
            return Refusal(
                row,
                "mapping_error",
                f"model.family_variant: unknown family variant {variant_code!r}",
            )
        last, level_of = variant.levels, variant.level_of
        split: list[dict[str, Any]] = [{} for _ in range(last + 1)]
        for attribute, entries in (row.payload.get("values") or {}).items():
            split[level_of.get(attribute, last)][attribute] = entries
        missing = [
            axis
            for level, axes in enumerate(variant.axes, start=1)
            for axis in axes
            if axis not in split[level]
        ]
        if missing:
            return Refusal(
                row,
                "missing_axis",
                f"no value for axis {', '.join(missing)} of family variant '{variant.code}'",
            )
        sub_code: str | None = None
        if variant.levels == 2:
            if spec.sub_model_code is not None:
                raw = spec.sub_model_code.read(row.record)
                sub_code = None if raw is None or str(raw) == "" else str(raw)
            else:
                sub_code = "_".join(
                    [code, *(str(split[1][axis][0]["data"]) for axis in variant.axes[0])]
                )
            if sub_code is None and spec.sub_model_code is not None:
                return Refusal(
                    row,
                    "mapping_error",
                    f"model.sub_model_code ({spec.sub_model_code.describe()}) is empty",
                )
        shaped.append((row, code, variant, sub_code, split))
        return None


def _model_code(spec: ModelSpec, record: Mapping[str, Any]) -> str | None:
    """The row's root model code; None (a blank one included): a simple product."""
    code = spec.code.read(record)
    return None if code is None or str(code).strip() == "" else str(code)


def _axes(variant: FamilyVariant, split: Sequence[Mapping[str, Any]]) -> tuple[bytes, ...]:
    """The canonical texts of a row's axis values, the key no two variants of a model share."""
    return tuple(
        _text(split[level].get(axis))
        for level, level_axes in enumerate(variant.axes, start=1)
        for axis in level_axes
    )


def _place(payload: dict[str, Any], parent: str, values: dict[str, Any]) -> dict[str, Any]:
    """Make a row's payload its variant's: under `parent`, with its own level's values."""
    payload["parent"] = parent
    if values:
        payload["values"] = values
    else:
        payload.pop("values", None)
    return payload


def _candidates(shaped: Sequence[_Shaped]) -> list[Candidate]:
    """The payloads each shaped row would give its variant and its models, were it their only
    row (`unchanged_rows`)."""
    found = []
    for row, code, variant, sub_code, split in shaped:
        models = [(code, _model_payload(code, variant.code, None, split[0]))]
        if sub_code is not None:
            models.append((sub_code, _model_payload(sub_code, variant.code, code, split[1])))
        product = _place(dict(row.payload), sub_code or code, split[variant.levels])
        found.append(Candidate(row.identifier, product, tuple(models)))
    return found


def _marked(held: list[Held], shaped: Sequence[_Shaped], unchanged: set[str]) -> list[Held]:
    """`held` with the rows found unchanged marked, with what settle checks of them."""
    marks = {
        row.identifier: (sub_code, b"\n".join(_axes(variant, split)))
        for row, _code, variant, sub_code, split in shaped
        if row.identifier in unchanged
    }
    return [
        Held(item.row, item.code, *marks[item.row.identifier], True)
        if item.row.identifier in marks
        else item
        for item in held
    ]


def _model_payload(
    code: str, variant: str, parent: str | None, values: Mapping[str, Any]
) -> dict[str, Any]:
    payload: dict[str, Any] = {"code": code, "family_variant": variant}
    if parent is not None:
        payload["parent"] = parent
    if values:
        payload["values"] = dict(values)
    return payload


def erase_line(
    key: Mapping[str, Any], given: Mapping[str, Any], attributes: Sequence[str]
) -> bytes:
    """A product line (`key`: identifier or uuid) that erases `attributes`, with the
    locale/scope entries this mapping gives them (else one plain entry), so that the
    product can be moved under a model."""
    values = {
        attribute: [
            {"locale": entry.get("locale"), "scope": entry.get("scope"), "data": None}
            for entry in given.get(attribute) or [{}]
        ]
        for attribute in attributes
    }
    return _encode({**key, "values": values})


def outside_attributes(body: Mapping[str, Any]) -> list[str]:
    """Attributes a rejected variant line holds from before, named in the PIM's errors."""
    found = []
    for error in body.get("errors") or ():
        message = str(error.get("message", "")) if isinstance(error, Mapping) else ""
        if OUTSIDE_SET in message and '"' in message:
            found.append(message.split('"')[1])
    return found


# -- sending -----------------------------------------------------------------------------


class ModelStage:
    """Sends the plans, one chunk of models at a time: roots, then sub-models, then the
    products whose parent the PIM confirmed (each phase waits for the answers to the one
    before); a rejected model dead-letters its children with its message. Model hashes make
    unchanged models cost no request; models found unchanged as their rows were held are
    only counted."""

    def __init__(
        self,
        builder: ModelBuilder,
        *,
        dispatcher: Dispatcher,
        client: AkeneoClient,
        confirmed: ConfirmedPayloads,
        report: RunReport,
        dead_letters: JsonLinesWriter,
        dry_run: DryRun | None,
        send_products: Callable[[str, list[Row]], None],
        reject: Callable[[Row, str, Mapping[str, Any]], None],
        count_unchanged: Callable[[str, list[str]], None],
        whole: bool = False,
        media: MediaUploader | None = None,
        structure: PimStructure | None = None,
        associations: AssociationPass | None = None,
    ) -> None:
        self.builder = builder
        # `send: whole_product`: a changed model goes out whole, else only what differs.
        self._whole = whole
        # Image and file values of models go through the media step once the model is
        # confirmed, as products' do; held only while the model line is in flight.
        self._media = media
        self._structure = structure
        self._media_of: dict[str, list[MediaValue]] = {}
        # The association lines of models read from their own stream follow the same way.
        self._associations = associations
        self._dispatcher = dispatcher
        self._client = client
        self._confirmed = confirmed
        self._report = report
        self._dead_letters = dead_letters
        self._dry_run = dry_run
        self._send_products = send_products
        self._reject = reject
        self._count_unchanged = count_unchanged
        self._failed: dict[str, Mapping[str, Any]] = {}
        self._conversions: list[Outcome] = []
        self._converted: set[str] = set()

    def collect(
        self,
        stream: str,
        products: Mapping[str, tuple[dict[str, Any], Mapping[str, Any]]],
        confirmed_products: ConfirmedPayloads | None,
    ) -> int:
        """Hold a batch's rows (see `ModelBuilder.collect`). `confirmed_products`, the
        products' confirmed states, is given when a product found unchanged needs nothing
        but counting (the upserter knows): then rows are checked as they are held."""
        check = None
        if confirmed_products is not None:
            check = UnchangedCheck(confirmed_products, self._confirmed)
        return self.builder.collect(stream, products, check)

    def flush(self) -> None:
        spill = self.builder.spill
        for stream, models in spill.set_aside():
            self._report.add_model("unchanged", models)
            for identifiers in spill.set_aside_identifiers(stream):
                self._count_unchanged(stream, identifiers)
        for plan in self.builder.plans():
            self._send_plan(plan)

    def _send_plan(self, plan: Plan) -> None:
        for refusal in plan.refused:
            self._reject(refusal.row, refusal.reason, {"message": refusal.message})
        self._by_stream(plan.simple)
        for phase in (plan.roots, plan.subs):
            todo = []
            for line in phase:
                failed = self._failed.get(line.parent) if line.parent else None
                if failed is not None:
                    self._failed[line.code] = failed
                    self._report.add_model("rejected")
                else:
                    todo.append(line)
            self._send(todo)
        ready: list[Row] = []
        for line in (*plan.roots, *plan.subs):
            failed = self._failed.get(line.code)
            for row in line.children:
                if failed is None:
                    ready.append(row)
                else:
                    message = _parent_message(line.code, failed)
                    self._reject(row, "model_rejected", {**failed, "message": message})
        self.builder.spill.keep_values(ready)
        self._by_stream(ready)

    def abandon(self, why: str) -> None:
        """Dead-letter the held rows: the PIM is gone, so the run stops without them."""
        for row in self.builder.take():
            self._reject(row, "retries_exhausted", {"message": f"not sent: {why}"})

    def _by_stream(self, rows: Iterable[Row]) -> None:
        streams: dict[str, list[Row]] = {}
        for row in rows:
            streams.setdefault(row.stream, []).append(row)
        for stream, group in streams.items():
            self._send_products(stream, group)

    def _send(self, lines: Sequence[ModelLine]) -> None:
        if self._queue(lines):
            # Children are sent only once the PIM answered for their parents; products
            # queued before may wait in their outbox, to go out in full requests.
            self._dispatcher.wait_for([line.code for line in lines])

    def _queue(self, lines: Sequence[ModelLine]) -> bool:
        if not lines:
            return False
        items = [
            Pending(
                line.stream,
                line.code,
                self._split_media(line.code, line.payload),
                line.record,
                b"",
                b"",
            )
            for line in lines
        ]
        todo: list[Pending] = []
        for stream in dict.fromkeys(item.stream for item in items):
            group = [item for item in items if item.stream == stream]
            known = self._confirmed.known(stream, [item.identifier for item in group])
            for item in group:
                found = delta(item.payload, known.get(item.identifier), whole=self._whole)
                item.digest = found.state
                if found.payload is not None:
                    item.payload, item.line = found.payload, _encode(found.payload)
                    todo.append(item)
        if len(todo) < len(items):
            self._report.add_model("unchanged", len(items) - len(todo))
            sent = {item.identifier for item in todo}
            for item in items:
                if item.identifier not in sent:
                    self._follow(item)  # the PIM has this model: its media may still change
        if self._dry_run is not None:
            sent = {item.identifier for item in todo}
            for stream, kept in _by_stream([i for i in items if i.identifier not in sent]).items():
                self._dry_run.unchanged(MODEL_KIND, stream, kept)
            for stream, kept in _by_stream(todo).items():
                self._dry_run.planned(MODEL_KIND, stream, kept)
            self._report.add_model("planned", len(todo))
            return False
        self._dispatcher.send(MODELS, todo)
        return bool(todo)

    def send_chunk(self, chunk: Sequence[Pending]) -> list[Outcome]:
        results = self._client.upsert_product_models([item.line for item in chunk])
        outcomes = []
        for item, result in zip(chunk, results, strict=True):
            reason = (
                None
                if result.ok
                else ("retries_exhausted" if result.exhausted else "rejected_by_pim")
            )
            outcomes.append(Outcome(item, result.status_code, result.body, reason))
        return outcomes

    def account(self, outcomes: Sequence[Outcome]) -> list[Outcome]:
        """Tally model outcomes; returns those whose retries ran out (the PIM is gone)."""
        gone = []
        for outcome in outcomes:
            item = outcome.item
            if outcome.reason is None:
                self._confirmed.confirm(item.stream, item.identifier, item.digest)
                self._report.add_model("created" if outcome.status_code == 201 else "updated")
                self._follow(item)
            else:
                self._media_of.pop(item.identifier, None)
                self._failed[item.identifier] = {**outcome.body, "status_code": outcome.status_code}
                self._report.add_model("rejected")
                if item.record:  # a line of a `product_models:` stream
                    self._dead_letter(
                        item.stream,
                        item.identifier,
                        outcome.reason or "rejected_by_pim",
                        self._failed[item.identifier],
                        item.payload,
                        item.record,
                    )
                if outcome.reason == "retries_exhausted":
                    gone.append(outcome)
        return gone

    def _split_media(self, code: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The model line without media sources; these follow once the PIM has the model."""
        if self._media is None or self._structure is None:
            return payload
        payload, media = split_media(payload, self._structure)
        self._media.forget_erased(Owner(code, model=True), payload)
        if media:
            self._media_of[code] = media
        else:
            self._media_of.pop(code, None)
        return payload

    def _follow(self, item: Pending) -> None:
        """The PIM has this model: its media values and associations can follow."""
        record = item.record  # empty unless the model came from a `product_models:` stream
        values = self._media_of.pop(item.identifier, None)
        if values and self._media is not None:
            self._media.submit(item.stream, Owner(item.identifier, model=True), record, values)
        if self._associations is not None and record:
            # Only a `product_models:` stream maps a model's associations (flat rows map
            # their variants').
            self._associations.add(item.stream, item.identifier, record, model=True)

    # -- models from their own stream (`product_models:` mappings) ------------------------

    def submit_stream(self, stream: str, batch: Mapping[str, tuple[dict[str, Any], Any]]) -> None:
        """Queue a batch of models; a sub-model waits until the PIM answered for its root."""
        lines = []
        for code, (payload, record) in batch.items():
            body = {key: value for key, value in payload.items() if key != "identifier"}
            lines.append(
                ModelLine(code, {"code": code, **body}, stream, body.get("parent"), record=record)
            )
        self._dispatcher.wait_for(
            [line.code for line in lines] + [line.parent for line in lines if line.parent]
        )
        todo = []
        for line in lines:
            failed = self._failed.get(line.parent) if line.parent else None
            if failed is None:
                todo.append(line)
                continue
            self._failed[line.code] = failed
            self._report.add_model("rejected")
            self._dead_letter(
                stream,
                line.code,
                "model_rejected",
                {**failed, "message": _parent_message(line.parent, failed)},
                line.payload,
                line.record,
            )
        self._queue(todo)

    def parents_ready(self, items: Sequence[Pending]) -> list[Pending]:
        """Products with a `parent`: wait for the PIM's answer on their models; those whose
        model was rejected are dead-lettered with the model's message."""
        parents = {item.payload["parent"] for item in items if item.payload.get("parent")}
        if not parents:
            return list(items)
        self._dispatcher.wait_for(parents)
        ready = []
        for item in items:
            parent = item.payload.get("parent")
            failed = self._failed.get(parent) if parent else None
            if failed is None:
                ready.append(item)
            else:
                row = Row(item.stream, item.identifier, item.payload, item.record)
                self._reject(
                    row, "model_rejected", {**failed, "message": _parent_message(parent, failed)}
                )
        return ready

    def _dead_letter(
        self,
        stream: str,
        code: str,
        reason: str,
        body: Mapping[str, Any],
        payload: Mapping[str, Any],
        record: Mapping[str, Any],
    ) -> None:
        errors = body.get("errors")
        status = body.get("status_code")
        self._dead_letters.write(
            dead_letter(
                stream,
                code,
                reason,
                status_code=status if isinstance(status, int) else None,
                message=str(body.get("message") or ""),
                errors=errors if isinstance(errors, list) else None,
                record=record,
                payload=payload,
            )
        )

    # A simple product becoming a variant: Akeneo refuses the move while the product holds
    # values of the parent's levels, so those are erased first, then the move is resent.

    def held_for_conversion(self, outcome: Outcome) -> bool:
        item = outcome.item
        if not item.payload.get("parent") or item.identifier in self._converted:
            return False
        if not outside_attributes(outcome.body) or not self.builder.spill.has_values(
            item.identifier
        ):
            return False
        self._conversions.append(outcome)
        self._converted.add(item.identifier)
        return True

    def convert(self) -> bool:
        """Erase the held products' other-level values, then resend them; False if none."""
        held, self._conversions = self._conversions, []
        spill = self.builder.spill
        all_values = spill.values_of([outcome.item.identifier for outcome in held])
        # Every product line sent so far is answered: what a conversion needs is in `held`.
        spill.forget_values()
        if not held:
            return False
        for start in range(0, len(held), MAX_LINES):
            chunk = held[start : start + MAX_LINES]
            lines = []
            for outcome in chunk:
                sent = json.loads(outcome.item.line)
                key = {name: sent[name] for name in ("identifier", "uuid") if name in sent}
                attributes = outside_attributes(outcome.body)
                lines.append(erase_line(key, all_values[outcome.item.identifier], attributes))
            self._client.upsert_products(
                lines, by_uuid=not any("identifier" in json.loads(x) for x in lines)
            )
        self._dispatcher.send(PRODUCTS, [outcome.item for outcome in held])
        return True

    def close(self) -> None:
        self._confirmed.close()
        self.builder.spill.close()


def _parent_message(parent: str | None, failed: Mapping[str, Any]) -> str:
    return f"model '{parent}' rejected: {failed.get('message') or ''}"


def _by_stream(items: Sequence[Pending]) -> dict[str, list[tuple[str, Mapping[str, Any]]]]:
    found: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    for item in items:
        found.setdefault(item.stream, []).append((item.identifier, item.payload))
    return found
