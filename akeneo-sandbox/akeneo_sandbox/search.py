"""The `search` query parameter: parsing, and its translation to SQL (products) or a predicate."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from akeneo_sandbox.catalog import Doc
from akeneo_sandbox.errors import ApiError, php_type
from akeneo_sandbox.store import Query

Filters = list[tuple[str, str, Any]]
JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")


def parse_search(raw: str | None) -> Filters:
    """Flatten `{"field":[{"operator":..,"value":..}]}` into (field, operator, value) triples."""
    if raw is None or raw == "":
        return []
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise ApiError(400, "Search query parameter should be valid JSON.") from None
    if not isinstance(parsed, dict):
        raise ApiError(422, "Search query parameter has to be an array.")
    filters: Filters = []
    for field, conditions in parsed.items():
        shape_ok = isinstance(conditions, list) and all(
            isinstance(c, dict) and isinstance(c.get("operator"), str) for c in conditions
        )
        if not shape_ok:
            raise ApiError(
                422,
                f'Structure of filter "{field}" should respect this structure: '
                f'{{"{field}":[{{"operator": "my_operator", "value": "my_value"}}]}}',
            )
        filters.extend((field, c["operator"], c.get("value")) for c in conditions)
    return filters


def unsupported(field: str, operator: str) -> ApiError:
    return ApiError(
        422,
        f'Filter on property "{field}" is not supported or does not support operator "{operator}"',
    )


def _strings(field: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(
            422, f'Property "{field}" expects an array as data, "{php_type(value)}" given.'
        )
    return value


def _string(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ApiError(
            422, f'Property "{field}" expects a string as data, "{php_type(value)}" given.'
        )
    return value


def _placeholders(values: list[str]) -> str:
    return ",".join("?" * len(values)) or "NULL"


def stored_datetime(moment: datetime) -> str:
    """The format of `created`/`updated` in stored documents (sorts chronologically)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _datetime(field: str, value: Any) -> str:
    if not isinstance(value, str) or not DATETIME.match(value):
        raise ApiError(
            422,
            f'Property "{field}" expects a string with the format "yyyy-mm-dd H:i:s" as data, '
            f'"{value}" given.',
        )
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return stored_datetime(moment)


def product_query(filters: Filters, now: datetime, by_uuid: bool) -> Query:
    """SQL over the products table; products without identifier only exist for uuid routes."""
    return _query(filters, now, _product_clause, [] if by_uuid else ["identifier IS NOT NULL"])


def product_model_query(filters: Filters, now: datetime) -> Query:
    """SQL over the product_models table (models.py): the filters of Akeneo's product-model
    list; `family_variant` is not in the documentation, but Akeneo's query builder has it."""
    return _query(filters, now, _model_clause, [])


def text_query(key_column: str, text: str) -> Query:
    """The sandbox browser's text filter: the key (`identifier` of products, `code` of models)
    or the data of one of its own values contains `text` (SQLite's LIKE: ASCII letters match
    in any case)."""
    if key_column not in ("identifier", "code"):
        raise ValueError(f"no text filter on {key_column!r}")
    pattern = "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"
    in_values = (
        "EXISTS (SELECT 1 FROM json_each(doc, '$.values') AS v, json_each(v.value) AS e "
        "WHERE json_extract(e.value, '$.data') LIKE ? ESCAPE '\\')"
    )
    params: tuple[str, ...] = (pattern, pattern)
    # Documents are stored as JSON with ensure_ascii=False: text that JSON does not escape
    # appears as is, so a plain LIKE on the document skips most rows before json_each runs.
    if not JSON_ESCAPED.search(text):
        in_values = f"(doc LIKE ? ESCAPE '\\' AND {in_values})"
        params = (pattern, pattern, pattern)
    clause = f"({key_column} LIKE ? ESCAPE '\\' OR {in_values})"  # one of two column names
    return Query(clause, params)


def all_of(*queries: Query) -> Query:
    """Queries over the same table joined with AND."""
    return Query(
        " AND ".join(f"({q.where})" for q in queries) or "1",
        tuple(p for q in queries for p in q.params),
    )


Clause = Callable[[str, str, Any, datetime], tuple[str, list[Any]]]


def _query(filters: Filters, now: datetime, clause_of: Clause, clauses: list[str]) -> Query:
    params: list[Any] = []
    for field, operator, value in filters:
        clause, values = clause_of(field, operator, value, now)
        clauses.append(clause)
        params.extend(values)
    return Query(" AND ".join(clauses) or "1", tuple(params))


def _model_clause(field: str, op: str, value: Any, now: datetime) -> tuple[str, list[Any]]:
    if field in ("identifier", "family_variant") and op in ("IN", "NOT IN"):
        values = _strings(field, value)
        column = "code" if field == "identifier" else field
        return f"{column} {op} ({_placeholders(values)})", values
    if field == "parent" and op != "=":
        return _parent_clause("parent", op, value)
    if field in ("updated", "created"):
        return _date_clause(field, op, value, now)
    if field in ("family", "categories"):
        return _product_clause(field, op, value, now)
    raise unsupported(field, op)


def _parent_clause(column: str, op: str, value: Any) -> tuple[str, list[Any]]:
    """`=`: descendants of a model (products only); `IN`: direct children; `EMPTY`: none."""
    if op == "=":
        code = _string("parent", value)
        clause = f"{column} IN (SELECT code FROM product_models WHERE code = ? OR parent = ?)"  # noqa: S608
        return clause, [code, code]
    if op == "IN":
        values = _strings("parent", value)
        return f"{column} IN ({_placeholders(values)})", values
    if op in ("EMPTY", "NOT EMPTY"):
        return f"{column} IS {'NULL' if op == 'EMPTY' else 'NOT NULL'}", []
    raise unsupported("parent", op)


def _product_clause(field: str, op: str, value: Any, now: datetime) -> tuple[str, list[Any]]:
    if field in ("identifier", "uuid") and op in ("IN", "NOT IN"):
        values = _strings(field, value)
        if field == "uuid":
            values = [v.lower() for v in values]
        return f"{field} {op} ({_placeholders(values)})", values
    if field in ("identifier", "uuid") and op in ("=", "!="):
        return f"{field} {'=' if op == '=' else '!='} ?", [_string(field, value)]
    if field == "family" and op in ("IN", "NOT IN"):
        values = _strings(field, value)
        clause = f"family {op} ({_placeholders(values)})"
        return (clause if op == "IN" else f"(family IS NULL OR {clause})"), values
    if field == "family" and op in ("EMPTY", "NOT EMPTY"):
        return ("family IS NULL" if op == "EMPTY" else "family IS NOT NULL"), []
    if field == "enabled" and op in ("=", "!="):
        if not isinstance(value, bool):
            raise ApiError(
                422, f'Property "enabled" expects a boolean as data, "{php_type(value)}" given.'
            )
        return f"enabled {op} ?", [int(value)]
    if field == "categories":
        return _category_clause(op, value)
    if field == "updated":
        return _updated_with_ancestors(op, value, now)
    if field == "created":
        return _date_clause(field, op, value, now)
    if field == "parent":
        return _parent_clause("json_extract(doc, '$.parent')", op, value)
    raise unsupported(field, op)


def _updated_with_ancestors(op: str, value: Any, now: datetime) -> tuple[str, list[Any]]:
    """A variant product also matches when its parent or grandparent model does (DOCS
    `rest-api/filter.md`, "On their creation or update date")."""
    own, params = _date_clause("updated", op, value, now)
    parent, root = own.replace("updated", "m.updated", 1), own.replace("updated", "r.updated", 1)
    clause = (
        f"({own} OR EXISTS (SELECT 1 FROM product_models m "  # noqa: S608
        f"WHERE m.code = json_extract(products.doc, '$.parent') AND ({parent} OR EXISTS "
        f"(SELECT 1 FROM product_models r WHERE r.code = m.parent AND {root}))))"
    )
    return clause, [*params, *params, *params]


def _category_clause(op: str, value: Any) -> tuple[str, list[Any]]:
    has = "EXISTS (SELECT 1 FROM json_each(doc, '$.categories') WHERE value IN ({}))"
    if op in ("IN", "NOT IN", "IN OR UNCLASSIFIED"):
        values = _strings("categories", value)
        clause = has.format(_placeholders(values))
        if op == "NOT IN":
            return f"NOT {clause}", values
        if op == "IN OR UNCLASSIFIED":
            return f"({clause} OR json_array_length(doc, '$.categories') = 0)", values
        return clause, values
    if op == "UNCLASSIFIED":
        return "json_array_length(doc, '$.categories') = 0", []
    raise unsupported("categories", op)


def _date_clause(field: str, op: str, value: Any, now: datetime) -> tuple[str, list[Any]]:
    if op in (">", "<", "=", "!="):
        return f"{field} {op} ?", [_datetime(field, value)]
    if op in ("BETWEEN", "NOT BETWEEN"):
        if not isinstance(value, list) or len(value) != 2:
            raise ApiError(
                422, f'Property "{field}" expects an array with 2 dates as data, "{value}" given.'
            )
        bounds = [_datetime(field, v) for v in value]
        return f"{field} {op} ? AND ?", bounds
    if op == "SINCE LAST N DAYS":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError(
                422, f'Property "{field}" expects an integer as data, "{php_type(value)}" given.'
            )
        return f"{field} > ?", [stored_datetime(now - timedelta(days=value))]
    raise unsupported(field, op)


def structure_predicate(kind: str, filters: Filters) -> Callable[[Doc], bool]:
    """A filter over structure items (`code IN` everywhere; a few per-kind fields)."""
    checks: list[Callable[[Doc], bool]] = []
    for field, op, value in filters:
        checks.append(_structure_check(kind, field, op, value))
    return lambda doc: all(check(doc) for check in checks)


def _structure_check(kind: str, field: str, op: str, value: Any) -> Callable[[Doc], bool]:
    if field == "code" and op == "IN":
        codes = set(_strings(field, value))
        return lambda doc: doc["code"] in codes
    if kind == "attributes" and field == "type" and op == "IN":
        types = set(_strings(field, value))
        return lambda doc: doc["type"] in types
    if kind == "categories" and field == "parent" and op == "=":
        parent = _string(field, value)
        return lambda doc: doc["parent"] == parent
    if kind == "categories" and field == "is_root" and op == "=" and isinstance(value, bool):
        return lambda doc: (doc["parent"] is None) == value
    enabled_filter = kind in ("locales", "currencies") and field == "enabled" and op == "="
    if enabled_filter and isinstance(value, bool):
        return lambda doc: doc["enabled"] == value
    raise unsupported(field, op)
