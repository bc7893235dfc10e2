"""Akeneo's rules for the codes and labels of new structure items, with its messages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from akeneo_sandbox.catalog import Catalog, Doc, missing
from akeneo_sandbox.errors import format_error, validation_failed

# PHP's `$` (no D modifier) also matches before a final line feed, as Python's does: "ab\n"
# passes this pattern and is refused by the separate line-feed rule, as in Akeneo.
CODE = re.compile(r"^[a-zA-Z0-9_]+$")
# Attribute codes that clash with grid filters and import columns (Akeneo's attribute.yml):
# the first names compare case-sensitively, the rest after its `(?i)` without case.
RESERVED_ATTRIBUTE = re.compile(
    r"^(?:id|iD|Id|ID|associationTypes|categories|categoryId|completeness|enabled)$"
    r"|^(?i:family|groups|associations|products|scope|treeId|values|category|parent|label"
    r"|.*_(?:products|groups)|entity_type|attributes)$"
)
LABEL_MAX = 100


@dataclass(frozen=True)
class CodeRule:
    message: str
    max_length: int
    line_feed: str | None = None
    reserved: re.Pattern[str] | None = None


RULES = {
    "attributes": CodeRule(
        "Attribute code may contain only letters, numbers and underscore",
        255,
        "Attribute code may not contain line-feed characters",
        RESERVED_ATTRIBUTE,
    ),
    "attribute_options": CodeRule(
        "Option code may contain only letters, numbers and underscores", 255
    ),
    "categories": CodeRule(
        "Category code may contain only letters, numbers and underscores",
        100,
        "Category code may not contain line-feed characters",
    ),
    "association_types": CodeRule(
        "Association type code may contain only letters, numbers and underscores", 100
    ),
}
# Kinds whose labels are checked: each locale must exist, each label at most 100 characters.
CHECKED_LABELS = frozenset({"categories", "association_types"})


def too_long(limit: int) -> str:
    """Symfony's Length message."""
    return f"This value is too long. It should have {limit} characters or less."


def code_violations(kind: str, code: str) -> list[dict[str, Any]]:
    """What Akeneo's validator says about the code of a new item of `kind` (none if valid)."""
    rule = RULES.get(kind)
    if rule is None:
        return []
    messages = []
    if not CODE.match(code):
        messages.append(rule.message)
    if len(code) > rule.max_length:
        messages.append(too_long(rule.max_length))
    if rule.reserved is not None and rule.reserved.match(code):
        messages.append("This code is not available")
    if rule.line_feed is not None and "\n" in code:
        messages.append(rule.line_feed)
    return [{"property": "code", "message": message} for message in messages]


def clean_labels(kind: str, doc: Doc) -> None:
    """Akeneo drops null and empty labels of categories and association types silently."""
    if kind in CHECKED_LABELS:
        doc["labels"] = {k: v for k, v in doc["labels"].items() if v not in (None, "")}


def label_violations(kind: str, doc: Doc, catalog: Catalog) -> list[dict[str, Any]]:
    if kind not in CHECKED_LABELS:
        return []
    found = []
    for locale, label in doc["labels"].items():
        if locale not in catalog.items["locales"]:
            found.append(
                {"property": "labels", "message": f'The locale "{locale}" does not exist.'}
            )
        elif isinstance(label, str) and len(label) > LABEL_MAX:
            found.append({"property": "labels", "message": too_long(LABEL_MAX)})
    return found


def check_item(kind: str, doc: Doc, catalog: Catalog, *, created: bool, anchor: str) -> None:
    """Akeneo's updater then validator on a structure write: unknown parent category first (a
    422 with a documentation link), then code and label violations ("Validation failed.")."""
    clean_labels(kind, doc)
    parent = doc.get("parent") if kind == "categories" else None
    if parent is not None and parent not in catalog.categories:
        raise format_error(missing("parent", "category", parent), anchor)
    violations = code_violations(kind, str(doc["code"])) if created else []
    violations += label_violations(kind, doc, catalog)
    if violations:
        raise validation_failed(violations)
