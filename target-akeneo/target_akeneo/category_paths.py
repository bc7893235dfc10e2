"""Category trees from paths: `Apparel > Shirts > Polos` becomes a category code.

`categories: {field: product_type, path_separator: " > ", root: master}` in a stream
mapping reads each value as a path under the tree `root`. Every node of a path gets a code
derived from the labels of the path up to it (letters, digits and underscores, at most 100
characters, as Akeneo requires), so the same path always gives the same code. Before a
batch is sent, the codes it uses are looked up in the PIM; missing ones are created parent
first under the root, labelled in a configured locale (`create_missing_categories`), or the
products that use them are reported and held back.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from target_akeneo.client import AkeneoClient

logger = logging.getLogger("target-akeneo")

PATH_KEYS = frozenset({"path_separator", "root"})
MAX_CODE = 100  # Akeneo's limit for category codes
_NOT_CODE = re.compile(r"[^A-Za-z0-9]+")


@dataclass(frozen=True)
class CategoryPath:
    """How a stream's category values are read as paths."""

    separator: str
    root: str


def parse_category_path(raw: Any, place: str, problems: list[str]) -> CategoryPath | None:
    """The path settings of a `categories` mapping, None when it maps plain codes."""
    if not isinstance(raw, Mapping) or not PATH_KEYS & set(raw):
        return None
    separator, root = raw.get("path_separator"), raw.get("root")
    if not isinstance(separator, str) or not separator.strip():
        problems.append(f"{place}.path_separator: expected a non-empty text such as ' > '")
        return None
    if not isinstance(root, str) or not root:
        problems.append(f"{place}.root: required with path_separator (the tree's root code)")
        return None
    return CategoryPath(separator, root)


def node_code(labels: Sequence[str]) -> str:
    """The code of the node at the end of `labels` (its path from under the root)."""
    parts = []
    for label in labels:
        ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
        parts.append(_NOT_CODE.sub("_", ascii_text).strip("_").lower())
    code = "_".join(part for part in parts if part)
    digest = hashlib.blake2b("\x1f".join(labels).encode(), digest_size=4).hexdigest()
    if not code:
        return f"category_{digest}"
    if len(code) > MAX_CODE:
        return f"{code[: MAX_CODE - 9].rstrip('_')}_{digest}"
    return code


@dataclass(frozen=True)
class Node:
    code: str
    parent: str
    label: str
    depth: int


def nodes_of(path: str, spec: CategoryPath) -> list[Node]:
    """The nodes of one path, root-most first; empty segments are skipped."""
    labels = [part.strip() for part in path.split(spec.separator) if part.strip()]
    nodes = []
    parent = spec.root
    for depth in range(len(labels)):
        code = node_code(labels[: depth + 1])
        nodes.append(Node(code, parent, labels[depth], depth))
        parent = code
    return nodes


class CategoryPaths:
    """Turns paths into codes, and makes sure the codes exist before products use them."""

    def __init__(
        self,
        client: AkeneoClient,
        specs: Mapping[str, CategoryPath],
        *,
        create: bool,
        locale: str,
    ) -> None:
        self._client = client
        self._specs = specs
        self._create = create
        self._locale = locale
        self._known: set[str] = set()
        self._unknown: set[str] = set()
        self._pending: dict[str, Node] = {}

    def to_codes(self, stream: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload with the category paths of a path-mapped stream replaced by codes."""
        spec = self._specs.get(stream)
        paths = payload.get("categories")
        if spec is None or not paths:
            return payload
        codes = []
        for path in paths:
            nodes = nodes_of(str(path), spec)
            if not nodes:
                continue
            for node in nodes:
                if node.code not in self._known:
                    self._pending.setdefault(node.code, node)
            codes.append(nodes[-1].code)
        return {**payload, "categories": list(dict.fromkeys(codes))}

    def prepare(self) -> dict[str, str]:
        """Look up (and create) the codes met since the last call; unknown code -> reason."""
        if not self._pending:
            return {}
        pending, self._pending = self._pending, {}
        wanted = [code for code in pending if code not in self._unknown]
        found = {str(item["code"]) for item in self._client.categories(wanted)}
        self._known |= found
        missing = [pending[code] for code in wanted if code not in found]
        if missing and self._create:
            self._create_nodes(missing)
        failed = {}
        for code, node in pending.items():
            if code not in self._known:
                self._unknown.add(code)
                failed[code] = (
                    f"category '{node.label}' (code '{code}', under '{node.parent}') "
                    "does not exist in the PIM"
                    + ("" if self._create else " (create_missing_categories is off)")
                )
        return failed

    def _create_nodes(self, nodes: list[Node]) -> None:
        """Parents first: one collection PATCH per depth, throttled by the client."""
        for depth in sorted({node.depth for node in nodes}):
            level = [node for node in nodes if node.depth == depth]
            lines = [
                {"code": n.code, "parent": n.parent, "labels": {self._locale: n.label}}
                for n in level
            ]
            for node, result in zip(level, self._client.create_categories(lines), strict=True):
                if result.ok:
                    self._known.add(node.code)
                else:
                    logger.warning(
                        "could not create category '%s': %s %s",
                        node.code,
                        result.message,
                        result.errors,
                    )
            logger.info("created %d categor(y/ies) at depth %d", len(level), depth + 1)
