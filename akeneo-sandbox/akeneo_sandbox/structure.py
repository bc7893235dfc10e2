"""Writes of structure items (attributes, options, families, categories, channels)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from akeneo_sandbox.catalog import KIND_DEFAULTS, READ_ONLY, Doc, normalize_item, reference_problems
from akeneo_sandbox.codes import check_item
from akeneo_sandbox.errors import ApiError, format_error, php_type, url_mismatch, validation_failed
from akeneo_sandbox.products import INVALID_JSON, MAX_LINE_CHARS, MAX_LINES
from akeneo_sandbox.state import Sandbox

IMMUTABLE = {
    "attributes": ("type", "unique", "localizable", "scopable", "metric_family"),
    "association_types": ("is_quantified", "is_two_way"),
}
LABELS = {
    "attributes": "Attribute",
    "attribute_options": "Attribute option",
    "families": "Family",
    "categories": "Category",
    "channels": "Channel",
    "locales": "Locale",
    "currencies": "Currency",
    "association_types": "Association type",
}


def not_found(kind: str, code: str) -> ApiError:
    return ApiError(404, f'{LABELS[kind]} "{code}" does not exist.')


def _merge(current: Doc, changes: Doc) -> Doc:
    """Akeneo's PATCH rules: objects are merged, everything else is replaced."""
    merged = copy.deepcopy(current)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _check_types(kind: str, body: Doc, anchor: str) -> None:
    for key, value in body.items():
        if key in READ_ONLY:
            continue
        if key != "code" and key not in KIND_DEFAULTS[kind]:
            raise format_error(f'Property "{key}" does not exist.', anchor)
        default = KIND_DEFAULTS[kind].get(key)
        if isinstance(default, dict) and not isinstance(value, dict):
            raise format_error(
                f'Property "{key}" expects an array as data, "{php_type(value)}" given.', anchor
            )
        if isinstance(default, list) and not isinstance(value, list):
            raise format_error(
                f'Property "{key}" expects an array as data, "{php_type(value)}" given.', anchor
            )
        if isinstance(default, bool) and not isinstance(value, bool):
            raise format_error(
                f'Property "{key}" expects a boolean as data, "{php_type(value)}" given.', anchor
            )


def write_item(
    state: Sandbox,
    kind: str,
    code: str,
    body: object,
    *,
    attribute: str | None = None,
    create_only: bool = False,
) -> int:
    """Create (201) or update (204) one item; raises 422 with Akeneo's shapes."""
    anchor = f"patch_{kind}__code_"
    if not isinstance(body, dict):
        raise ApiError(400, INVALID_JSON)
    given = body.get("code", code)
    if given != code:
        raise url_mismatch("code", given, code)
    if attribute is not None:
        given_attribute = body.get("attribute", attribute)
        if given_attribute != attribute:
            raise url_mismatch("attribute code", given_attribute, attribute)
    _check_types(kind, body, anchor)
    catalog = state.catalog
    key = catalog.store_key(kind, {"code": code, "attribute": attribute})
    existing = catalog.items[kind].get(key)
    if existing is not None and create_only:
        raise validation_failed([{"property": "code", "message": "This value is already used."}])
    changes = {k: v for k, v in body.items() if k not in READ_ONLY}
    changes.update(code=code if existing is None else existing["code"])
    if attribute is not None:
        changes["attribute"] = attribute
    merged = _merge(existing or {}, changes)
    for field in IMMUTABLE.get(kind, ()):
        if existing is not None and merged[field] != existing[field]:
            raise format_error(
                f'Property "{field}" cannot be modified, "{json.dumps(merged[field])}" given.',
                anchor,
            )
    doc = normalize_item(kind, merged, catalog)
    check_item(kind, doc, catalog, created=existing is None, anchor=anchor)
    problems = reference_problems(kind, doc, catalog)
    if problems:
        raise validation_failed([{"property": kind, "message": p} for p in problems])
    catalog.put(kind, doc)
    state.store.save_item(kind, key, doc)
    return 201 if existing is None else 204


def delete_item(state: Sandbox, kind: str, code: str) -> None:
    state.catalog.items[kind].pop(code, None)
    state.store.delete_item(kind, code)


def write_lines(
    state: Sandbox, kind: str, body: bytes, attribute: str | None
) -> list[dict[str, Any]]:
    """Collection PATCH of structure items; line results keyed by `code`."""
    return code_lines(
        body, lambda code, item: write_item(state, kind, code, item, attribute=attribute)
    )


def code_lines(body: bytes, write: Callable[[str, Doc], int]) -> list[dict[str, Any]]:
    """A collection PATCH whose lines are keyed by `code`; `write` returns 201 or 204."""
    lines = body.decode("utf-8", errors="replace").split("\n")
    if len(lines) > 1 and not lines[-1].strip():
        lines.pop()
    if len(lines) > MAX_LINES:
        raise ApiError(413, "Too many resources to process, 100 is the maximum allowed.")
    results: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_LINE_CHARS:
            results.append({"line": number, "status_code": 413, "message": "Line is too long."})
            continue
        try:
            item = json.loads(line)
        except ValueError:
            item = None
        if not isinstance(item, dict):
            results.append({"line": number, "status_code": 400, "message": INVALID_JSON})
            continue
        code = item.get("code")
        if not isinstance(code, str) or not code.strip():
            results.append({"line": number, "status_code": 422, "message": "Code is missing."})
            continue
        result: dict[str, Any] = {"line": number, "code": code}
        try:
            result["status_code"] = write(code, item)
        except ApiError as error:
            result["status_code"] = error.status
            result.update((k, v) for k, v in error.body().items() if k != "code")
        results.append(result)
    return results
