"""SQLite storage: products as JSON documents with indexed columns, structure items, tokens."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from akeneo_sandbox.catalog import LOAD_ORDER, Catalog, Doc
from akeneo_sandbox.errors import SandboxError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    uuid TEXT PRIMARY KEY,
    identifier TEXT,
    family TEXT,
    enabled INTEGER NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS products_identifier ON products(identifier);
CREATE INDEX IF NOT EXISTS products_updated ON products(updated);
CREATE INDEX IF NOT EXISTS products_family ON products(family);
CREATE TABLE IF NOT EXISTS unique_values (
    attribute TEXT NOT NULL,
    value TEXT NOT NULL,
    uuid TEXT NOT NULL,
    PRIMARY KEY (attribute, value)
);
CREATE INDEX IF NOT EXISTS unique_values_uuid ON unique_values(uuid);
CREATE TABLE IF NOT EXISTS structure (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    position INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS tokens (
    digest TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    expires REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Query:
    """A products query built by the search parser: SQL condition and its parameters."""

    where: str
    params: tuple[Any, ...]


class Store:
    """One SQLite connection guarded by a lock; every method is one short transaction."""

    def __init__(self, path: str) -> None:
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.executescript(_SCHEMA)
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise SandboxError(f"--db {path}: cannot open the database ({exc})") from exc
        self.lock = threading.RLock()

    @property
    def connection(self) -> sqlite3.Connection:
        """The shared connection, for modules that keep their own tables (product models, media
        files); use it under `lock`."""
        return self._db

    def close(self) -> None:
        with self.lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes (a whole collection PATCH) into one commit; rolled back on error."""
        with self.lock:
            self._db.execute("BEGIN")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- structure -------------------------------------------------------------------------

    def has_structure(self) -> bool:
        with self.lock:
            return self._db.execute("SELECT 1 FROM structure LIMIT 1").fetchone() is not None

    def load_structure(self) -> Catalog:
        catalog = Catalog()
        with self.lock:
            rows = self._db.execute("SELECT kind, key, doc FROM structure ORDER BY position")
            for kind, key, doc in rows:
                if kind in catalog.items:
                    catalog.items[kind][key] = json.loads(doc)
        return catalog

    def replace_structure(self, catalog: Catalog) -> None:
        rows = [
            (kind, key, position, json.dumps(doc))
            for kind in LOAD_ORDER
            for position, (key, doc) in enumerate(catalog.items[kind].items())
        ]
        with self.transaction():
            self._db.execute("DELETE FROM structure")
            self._db.executemany("INSERT INTO structure VALUES (?, ?, ?, ?)", rows)

    def save_item(self, kind: str, key: str, doc: Doc) -> None:
        with self.lock:
            self._db.execute(
                "INSERT INTO structure VALUES (?, ?, "
                "(SELECT COALESCE(MAX(position), 0) + 1 FROM structure WHERE kind = ?), ?) "
                "ON CONFLICT(kind, key) DO UPDATE SET doc = excluded.doc",
                (kind, key, kind, json.dumps(doc)),
            )

    def delete_item(self, kind: str, key: str) -> None:
        with self.lock:
            self._db.execute("DELETE FROM structure WHERE kind = ? AND key = ?", (kind, key))

    # --- products --------------------------------------------------------------------------

    def product_by_identifier(self, identifier: str) -> Doc | None:
        with self.lock:
            row = self._db.execute(
                "SELECT doc FROM products WHERE identifier = ?", (identifier,)
            ).fetchone()
        return None if row is None else _loads(row[0])

    def product_by_uuid(self, uuid: str) -> Doc | None:
        with self.lock:
            row = self._db.execute("SELECT doc FROM products WHERE uuid = ?", (uuid,)).fetchone()
        return None if row is None else _loads(row[0])

    def uuid_of_identifier(self, identifier: str) -> str | None:
        with self.lock:
            row = self._db.execute(
                "SELECT uuid FROM products WHERE identifier = ?", (identifier,)
            ).fetchone()
        return None if row is None else str(row[0])

    def unique_owner(self, attribute: str, value: str) -> str | None:
        """UUID of the product holding `value` for the unique attribute, if any."""
        with self.lock:
            row = self._db.execute(
                "SELECT uuid FROM unique_values WHERE attribute = ? AND value = ?",
                (attribute, value),
            ).fetchone()
        return None if row is None else str(row[0])

    def save_product(self, product: Doc, unique_values: Sequence[tuple[str, str]]) -> None:
        uuid = product["uuid"]
        with self.lock:
            self._db.execute(
                "INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(uuid) DO UPDATE SET "
                "identifier = excluded.identifier, family = excluded.family, "
                "enabled = excluded.enabled, updated = excluded.updated, doc = excluded.doc",
                (
                    uuid,
                    product["identifier"],
                    product["family"],
                    int(bool(product["enabled"])),
                    product["created"],
                    product["updated"],
                    json.dumps(product, ensure_ascii=False),
                ),
            )
            self._db.execute("DELETE FROM unique_values WHERE uuid = ?", (uuid,))
            self._db.executemany(
                "INSERT OR REPLACE INTO unique_values VALUES (?, ?, ?)",
                [(attribute, value, uuid) for attribute, value in unique_values],
            )

    def delete_product(self, uuid: str) -> bool:
        with self.lock:
            deleted = self._db.execute("DELETE FROM products WHERE uuid = ?", (uuid,)).rowcount
            self._db.execute("DELETE FROM unique_values WHERE uuid = ?", (uuid,))
        return deleted > 0

    def count_products(self, query: Query | None = None) -> int:
        where, params = (query.where, query.params) if query else ("1", ())
        with self.lock:
            row = self._db.execute(f"SELECT COUNT(*) FROM products WHERE {where}", params)  # noqa: S608
            return int(row.fetchone()[0])

    def list_products(
        self, query: Query, order_by: str, limit: int, offset: int = 0, after: str | None = None
    ) -> list[Doc]:
        """Products matching `query`, ordered by the `order_by` column, after a key or offset."""
        # SQL fragments come only from search.py's fixed clauses; client values are bound.
        if order_by not in ("identifier", "uuid"):
            raise ValueError(f"cannot order products by {order_by!r}")
        where, params = query.where, query.params
        if after is not None:
            where = f"({where}) AND {order_by} > ?"
            params = (*params, after)
        sql = f"SELECT doc FROM products WHERE {where} ORDER BY {order_by} LIMIT ? OFFSET ?"  # noqa: S608
        with self.lock:
            rows = self._db.execute(sql, (*params, limit, offset)).fetchall()
        return [_loads(row[0]) for row in rows]

    def clear_products(self) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM products")
            self._db.execute("DELETE FROM unique_values")

    # --- tokens ----------------------------------------------------------------------------

    def save_token(self, digest: str, kind: str, expires: float) -> None:
        with self.lock:
            self._db.execute(
                "INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", (digest, kind, expires)
            )

    def token_expiry(self, digest: str, kind: str) -> float | None:
        with self.lock:
            row = self._db.execute(
                "SELECT expires FROM tokens WHERE digest = ? AND kind = ?", (digest, kind)
            ).fetchone()
        return None if row is None else float(row[0])

    def delete_token(self, digest: str) -> bool:
        with self.lock:
            return self._db.execute("DELETE FROM tokens WHERE digest = ?", (digest,)).rowcount > 0

    def purge_tokens(self, now: float) -> None:
        with self.lock:
            self._db.execute("DELETE FROM tokens WHERE expires < ?", (now,))


def _loads(text: str) -> Doc:
    doc: Doc = json.loads(text)
    return doc
