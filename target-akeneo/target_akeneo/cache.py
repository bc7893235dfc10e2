"""Skip-unchanged store: what the PIM last confirmed, per stream and product.

The key is (base_url, endpoint, stream, identifier): two streams filling different
values of the same products (master data and prices) each remember only what they
sent, so neither resends the other's data. A row is written only after the PIM
confirmed the line, so a failed or unknown outcome is always sent again on the next run.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

logger = logging.getLogger("target-akeneo")

_CHUNK = 500
# Rows of every stream of this PIM and endpoint (two parameters: base_url, endpoint).
_ANY_STREAM = "scope IN (SELECT id FROM confirmed_scopes WHERE base_url = ? AND endpoint = ?) AND"


def payload_digest(line: bytes) -> bytes:
    """The hash a confirmed line is remembered by."""
    return hashlib.blake2b(line, digest_size=16).digest()


class SentHashCache:
    """SQLite file of confirmed states per (base_url, endpoint, stream, identifier).

    The (base_url, endpoint, stream) triple is stored once, as a small scope number, so a
    row costs its identifier and its state only. This run's confirmations also go to a TEMP
    table of the same connection (on disk, dropped at close), so "sent once per run" needs
    no per-product memory. Used from one thread.
    """

    def __init__(self, path: Path, base_url: str, endpoint: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._drop_old_shape()
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS confirmed_scopes (id INTEGER PRIMARY KEY,"
            " base_url TEXT NOT NULL, endpoint TEXT NOT NULL, stream TEXT NOT NULL,"
            " UNIQUE (base_url, endpoint, stream))"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS confirmed (scope INTEGER NOT NULL,"
            " identifier TEXT NOT NULL, state BLOB NOT NULL,"
            " PRIMARY KEY (scope, identifier)) WITHOUT ROWID"
        )
        self._db.execute("PRAGMA temp_store = FILE")
        self._db.execute(
            "CREATE TEMP TABLE this_run (stream TEXT NOT NULL, identifier TEXT NOT NULL,"
            " state BLOB NOT NULL, PRIMARY KEY (stream, identifier)) WITHOUT ROWID"
        )
        self._db.commit()
        self._place = (base_url, endpoint)
        self._scopes: dict[str, int] = {}

    def _drop_old_shape(self) -> None:
        """A store written before streams were part of the key holds one hash per product
        for all streams together: it cannot tell which stream sent what, so it is dropped
        and the next run sends whole products once."""
        old = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sent'")
        if old.fetchone() is not None:
            logger.warning(
                "skip-unchanged store from an earlier version dropped: "
                "products are sent whole once and remembered per stream from now on"
            )
            self._db.execute("DROP TABLE sent")

    def _scope(self, stream: str, *, create: bool = False) -> int | None:
        """The scope number of a stream; created (by a writer, committed with its rows)
        only when confirmations are put, so reading never locks the file."""
        scope = self._scopes.get(stream)
        if scope is None:
            key = (*self._place, stream)
            if create:
                self._db.execute(
                    "INSERT OR IGNORE INTO confirmed_scopes (base_url, endpoint, stream)"
                    " VALUES (?, ?, ?)",
                    key,
                )
            row = self._db.execute(
                "SELECT id FROM confirmed_scopes WHERE base_url = ? AND endpoint = ?"
                " AND stream = ?",
                key,
            ).fetchone()
            if row is None:
                return None
            scope = self._scopes[stream] = int(row[0])
        return scope

    def get_many(
        self, stream: str, identifiers: Sequence[str], *, this_run: bool = False
    ) -> dict[str, bytes]:
        """States last confirmed for a stream (by any run, or with `this_run` by this one)."""
        scope: str | int | None = stream
        query = "SELECT identifier, state FROM this_run WHERE stream = ?"
        if not this_run:
            query = "SELECT identifier, state FROM confirmed WHERE scope = ?"
            scope = self._scope(stream)
        found: dict[str, bytes] = {}
        if scope is None:
            return found
        for chunk, marks in in_chunks(identifiers):
            rows = self._db.execute(f"{query} AND identifier IN ({marks})", (scope, *chunk))
            found.update(rows.fetchall())
        return found

    def confirmed_any(self, identifiers: Sequence[str], *, this_run: bool = False) -> set[str]:
        """The identifiers confirmed by any stream: the products the PIM has."""
        query = "SELECT identifier FROM this_run WHERE"
        scope: tuple[str, ...] = ()
        if not this_run:
            query = (
                "SELECT identifier FROM confirmed WHERE scope IN (SELECT id FROM"
                " confirmed_scopes WHERE base_url = ? AND endpoint = ?) AND"
            )
            scope = self._place
        found: set[str] = set()
        for chunk, marks in in_chunks(identifiers):
            rows = self._db.execute(f"{query} identifier IN ({marks})", (*scope, *chunk))
            found.update(row[0] for row in rows)
        return found

    def put_many(self, items: Sequence[tuple[str, str, bytes]]) -> None:
        """Record (stream, identifier, state) confirmations."""
        self._db.executemany(
            "INSERT OR REPLACE INTO confirmed (scope, identifier, state) VALUES (?, ?, ?)",
            [
                (self._scope(stream, create=True), identifier, state)
                for stream, identifier, state in items
            ],
        )
        self._db.executemany("INSERT OR REPLACE INTO this_run VALUES (?, ?, ?)", items)
        self._db.commit()

    def delete_many(self, identifiers: Iterable[str]) -> None:
        """Forget these products' confirmations in every stream, this run's included."""
        chosen = list(identifiers)
        self._db.executemany(
            "DELETE FROM confirmed WHERE scope IN (SELECT id FROM confirmed_scopes"
            " WHERE base_url = ? AND endpoint = ?) AND identifier = ?",
            [(*self._place, identifier) for identifier in chosen],
        )
        self._db.executemany(
            "DELETE FROM this_run WHERE identifier = ?", [(identifier,) for identifier in chosen]
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()


def in_chunks(keys: Sequence[str]) -> Iterator[tuple[Sequence[str], str]]:
    """The keys in groups of `_CHUNK` (well under SQLite's bound-parameter limit), each
    with its `?,?,…` placeholders for an `IN (…)` lookup."""
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        yield chunk, ",".join("?" * len(chunk))


# Confirmed states are written to the file in groups: one SQLite commit per this many.
WRITE_EVERY = 1000


class ConfirmedPayloads:
    """What the PIM confirmed per stream: states of the last runs and of this one, in the file.

    Answers "is this payload the one the PIM has from this stream?" for skip-unchanged;
    `skip_unchanged` off still records confirmations (the next run with it on can rely on
    them) and still never sends a payload twice in one run. Memory holds at most
    `WRITE_EVERY` states, the ones not yet written, whatever the number of products.
    """

    def __init__(self, file: SentHashCache | None, *, skip_unchanged: bool) -> None:
        self._file = file
        # With skip_unchanged off, only this run's confirmations count.
        self._this_run_only = not skip_unchanged
        self._unwritten: dict[tuple[str, str], bytes] = {}

    def known(self, stream: str, identifiers: Sequence[str]) -> dict[str, bytes]:
        """The state the stream last had confirmed for each identifier that has one."""
        found = {}
        if self._file is not None:
            found = self._file.get_many(stream, identifiers, this_run=self._this_run_only)
        unwritten = self._unwritten
        for identifier in identifiers:
            state = unwritten.get((stream, identifier))
            if state is not None:
                found[identifier] = state
        return found

    def in_pim(self, identifiers: Sequence[str]) -> set[str]:
        """The identifiers some stream had confirmed: products the PIM has."""
        found = {identifier for _stream, identifier in self._unwritten}.intersection(identifiers)
        if self._file is not None:
            found |= self._file.confirmed_any(identifiers, this_run=self._this_run_only)
        return found

    def confirm(self, stream: str, identifier: str, state: bytes) -> None:
        self._unwritten[stream, identifier] = state
        if len(self._unwritten) >= WRITE_EVERY:
            self.flush()

    def forget(self, identifiers: Sequence[str]) -> None:
        """These products changed in the PIM (disabled, deleted): every stream sends again."""
        self.flush()
        if self._file is not None:
            self._file.delete_many(identifiers)

    def flush(self) -> None:
        if self._file is not None and self._unwritten:
            self._file.put_many([(*key, state) for key, state in self._unwritten.items()])
        self._unwritten = {}

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
