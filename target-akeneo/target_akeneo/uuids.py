"""The uuid endpoint's identifier→uuid knowledge, kept in the state store across runs.

On /products-uuid the PIM knows a product by its uuid, so each product sent needs the uuid
the PIM has for its identifier. Searching for it costs one request per 100 products on every
run; the store remembers each uuid the PIM confirmed, so an unchanged or updated product
costs no search on later runs. Only products not in the store are searched for; those the
PIM lacks get a new uuid4.

A stored uuid can be stale (the product was deleted and made again elsewhere under another
uuid): the PIM then rejects the line, and the entry is dropped so that the next run searches.
Memory holds only the uuids of products in flight and of confirmations not yet written.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from target_akeneo.cache import in_chunks

WRITE_EVERY = 1000

Search = Callable[[Sequence[str]], dict[str, str]]


class UuidStore:
    """Table `uuids` of the state store's SQLite file, keyed by (base_url, identifier)."""

    def __init__(self, path: Path, base_url: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS uuids ("
            " base_url TEXT NOT NULL, identifier TEXT NOT NULL, uuid TEXT NOT NULL,"
            " PRIMARY KEY (base_url, identifier))"
        )
        self._db.commit()
        self._base_url = base_url

    def get_many(self, identifiers: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk, marks in in_chunks(identifiers):
            rows = self._db.execute(
                "SELECT identifier, uuid FROM uuids WHERE base_url = ?"  # noqa: S608
                f" AND identifier IN ({marks})",
                (self._base_url, *chunk),
            )
            found.update(rows.fetchall())
        return found

    def put_many(self, items: Sequence[tuple[str, str]]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO uuids (base_url, identifier, uuid) VALUES (?, ?, ?)",
            [(self._base_url, identifier, value) for identifier, value in items],
        )
        self._db.commit()

    def forget(self, identifiers: Sequence[str]) -> None:
        self._db.executemany(
            "DELETE FROM uuids WHERE base_url = ? AND identifier = ?",
            [(self._base_url, identifier) for identifier in identifiers],
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()


class Uuids:
    """Assigns uuids before sending and learns them from the PIM's answers (main thread)."""

    def __init__(self, store: UuidStore | None, search: Search) -> None:
        self._store = store
        self._search = search
        # Products sent and not yet answered: identifier -> (uuid, whether it came stored).
        self._in_flight: dict[str, tuple[str, bool]] = {}
        self._unwritten: dict[str, str] = {}
        # Uuids a `create: false` search just found, used (and dropped) by the next assign.
        self._searched: dict[str, str] = {}

    def searched(self, found: dict[str, str]) -> None:
        """Uuids the PIM just returned for these identifiers: `assign` needs no search."""
        self._searched.update(found)

    def assign(self, identifiers: Sequence[str]) -> dict[str, str]:
        """The uuid to send for each identifier: stored, else the PIM's, else a new one."""
        stored = self._store.get_many(identifiers) if self._store else {}
        for identifier in identifiers:
            if identifier in self._unwritten:
                stored[identifier] = self._unwritten[identifier]
        # Just searched: fresher than the store.
        searched = {i: self._searched.pop(i) for i in identifiers if i in self._searched}
        missing = [i for i in identifiers if i not in stored and i not in searched]
        found = self._search(missing) if missing else {}
        assigned = {}
        for identifier in identifiers:
            known = None if identifier in searched else stored.get(identifier)
            value = known or searched.get(identifier) or found.get(identifier) or str(uuid.uuid4())
            self._in_flight[identifier] = (value, known is not None)
            assigned[identifier] = value
        return assigned

    def answered(self, identifier: str, status_code: int | None) -> None:
        """Remember a confirmed uuid; drop a stored one the PIM refused (it may be stale).

        `status_code` is the line's (None: no answer, which says nothing about the uuid).
        """
        value, was_stored = self._in_flight.pop(identifier, ("", False))
        if status_code is None or not value:
            return
        if 200 <= status_code < 300:
            if not was_stored:
                self._unwritten[identifier] = value
                if len(self._unwritten) >= WRITE_EVERY:
                    self.flush()
        elif was_stored and self._store is not None:
            self._store.forget([identifier])

    def flush(self) -> None:
        if self._store is not None and self._unwritten:
            self._store.put_many(list(self._unwritten.items()))
        self._unwritten = {}

    def close(self) -> None:
        self.flush()
        if self._store is not None:
            self._store.close()
