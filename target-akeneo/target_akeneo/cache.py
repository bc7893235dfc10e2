"""Skip-unchanged store: the content hash of the payload last confirmed per product.

A row is written only after the PIM confirmed the line, so a failed or unknown
outcome is always sent again on the next run.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

_CHUNK = 500


def payload_digest(line: bytes) -> str:
    """The hash a confirmed line is remembered by."""
    return hashlib.blake2b(line, digest_size=16).hexdigest()


class SentHashCache:
    """SQLite file keyed by (base_url, endpoint, identifier); used from one thread.

    This run's confirmations also go to a TEMP table of the same connection (on disk,
    dropped at close), so "sent once per run" needs no per-product memory.
    """

    def __init__(self, path: Path, base_url: str, endpoint: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS sent ("
            " base_url TEXT NOT NULL, endpoint TEXT NOT NULL, identifier TEXT NOT NULL,"
            " hash TEXT NOT NULL, PRIMARY KEY (base_url, endpoint, identifier))"
        )
        self._db.execute("PRAGMA temp_store = FILE")
        self._db.execute(
            "CREATE TEMP TABLE this_run (identifier TEXT PRIMARY KEY, hash TEXT NOT NULL)"
        )
        self._db.commit()
        self._scope = (base_url, endpoint)

    def get_many(self, identifiers: Sequence[str], *, this_run: bool = False) -> dict[str, str]:
        """Hashes last confirmed (by any run, or with `this_run` by this one only)."""
        found: dict[str, str] = {}
        scope: tuple[str, ...] = ()
        if this_run:
            query = "SELECT identifier, hash FROM this_run WHERE identifier IN"
        else:
            query = "SELECT identifier, hash FROM sent WHERE base_url = ? AND endpoint = ?"
            query, scope = query + " AND identifier IN", self._scope
        for start in range(0, len(identifiers), _CHUNK):
            chunk = identifiers[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"{query} ({marks})", (*scope, *chunk))
            found.update(rows.fetchall())
        return found

    def put_many(self, items: Sequence[tuple[str, str]]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO sent (base_url, endpoint, identifier, hash)"
            " VALUES (?, ?, ?, ?)",
            [(*self._scope, identifier, digest) for identifier, digest in items],
        )
        self._db.executemany("INSERT OR REPLACE INTO this_run VALUES (?, ?)", items)
        self._db.commit()

    def delete_many(self, identifiers: Iterable[str]) -> None:
        """Forget these products' confirmations, this run's included."""
        chosen = list(identifiers)
        self._db.executemany(
            "DELETE FROM sent WHERE base_url = ? AND endpoint = ? AND identifier = ?",
            [(*self._scope, identifier) for identifier in chosen],
        )
        self._db.executemany(
            "DELETE FROM this_run WHERE identifier = ?", [(identifier,) for identifier in chosen]
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()


# Confirmed hashes are written to the file in groups: one SQLite commit per this many.
WRITE_EVERY = 1000


class ConfirmedPayloads:
    """What the PIM confirmed: payload hashes of the last runs and of this one, in the file.

    Answers "is this payload the one the PIM has?" for skip-unchanged; `skip_unchanged`
    off still records confirmations (the next run with it on can rely on them) and still
    never sends a payload twice in one run. Memory holds at most `WRITE_EVERY` hashes, the
    ones not yet written, whatever the number of products.
    """

    def __init__(self, file: SentHashCache | None, *, skip_unchanged: bool) -> None:
        self._file = file
        # With skip_unchanged off, only this run's confirmations count.
        self._this_run_only = not skip_unchanged
        self._unwritten: dict[str, str] = {}

    def known(self, identifiers: Sequence[str]) -> dict[str, str]:
        """The confirmed hash of each identifier that has one (the newest confirmation)."""
        found = {}
        if self._file is not None:
            found = self._file.get_many(identifiers, this_run=self._this_run_only)
        unwritten = self._unwritten
        for identifier in identifiers:
            digest = unwritten.get(identifier)
            if digest is not None:
                found[identifier] = digest
        return found

    def confirm(self, identifier: str, digest: str) -> None:
        self._unwritten[identifier] = digest
        if len(self._unwritten) >= WRITE_EVERY:
            self.flush()

    def forget(self, identifiers: Sequence[str]) -> None:
        """These products changed in the PIM (disabled, deleted): send them again."""
        self.flush()
        if self._file is not None:
            self._file.delete_many(identifiers)

    def flush(self) -> None:
        if self._file is not None and self._unwritten:
            self._file.put_many(list(self._unwritten.items()))
        self._unwritten = {}

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
