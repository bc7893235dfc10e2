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
    """SQLite file keyed by (base_url, endpoint, identifier); used from one thread."""

    def __init__(self, path: Path, base_url: str, endpoint: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS sent ("
            " base_url TEXT NOT NULL, endpoint TEXT NOT NULL, identifier TEXT NOT NULL,"
            " hash TEXT NOT NULL, PRIMARY KEY (base_url, endpoint, identifier))"
        )
        self._db.commit()
        self._scope = (base_url, endpoint)

    def get_many(self, identifiers: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(identifiers), _CHUNK):
            chunk = identifiers[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                "SELECT identifier, hash FROM sent WHERE base_url = ? AND endpoint = ?"  # noqa: S608
                f" AND identifier IN ({marks})",
                (*self._scope, *chunk),
            )
            found.update(rows.fetchall())
        return found

    def put_many(self, items: Iterable[tuple[str, str]]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO sent (base_url, endpoint, identifier, hash)"
            " VALUES (?, ?, ?, ?)",
            [(*self._scope, identifier, digest) for identifier, digest in items],
        )
        self._db.commit()

    def delete_many(self, identifiers: Iterable[str]) -> None:
        self._db.executemany(
            "DELETE FROM sent WHERE base_url = ? AND endpoint = ? AND identifier = ?",
            [(*self._scope, identifier) for identifier in identifiers],
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()


# Confirmed hashes are written to the file in groups: one SQLite commit per this many.
WRITE_EVERY = 1000


class ConfirmedPayloads:
    """What the PIM confirmed: this run's payload hashes, and the last run's from the file.

    Answers "is this payload the one the PIM has?" for skip-unchanged; `skip_unchanged`
    off still records confirmations (the next run with it on can rely on them).
    """

    def __init__(self, file: SentHashCache | None, *, skip_unchanged: bool) -> None:
        self._file = file
        self._read_file = skip_unchanged and file is not None
        # Hashes confirmed during this run: a product is never sent twice unchanged.
        self._this_run: dict[str, str] = {}
        self._unwritten: list[tuple[str, str]] = []

    def known(self, identifiers: Sequence[str]) -> dict[str, str]:
        """The confirmed hash of each identifier that has one (this run's first)."""
        found = self._file.get_many(identifiers) if self._read_file and self._file else {}
        this_run = self._this_run
        for identifier in identifiers:
            digest = this_run.get(identifier)
            if digest is not None:
                found[identifier] = digest
        return found

    def confirm(self, identifier: str, digest: str) -> None:
        self._this_run[identifier] = digest
        if self._file is not None:
            self._unwritten.append((identifier, digest))
            if len(self._unwritten) >= WRITE_EVERY:
                self.flush()

    def forget(self, identifiers: Sequence[str]) -> None:
        """These products changed in the PIM (disabled, deleted): send them again."""
        self.flush()
        for identifier in identifiers:
            self._this_run.pop(identifier, None)
        if self._file is not None:
            self._file.delete_many(identifiers)

    def flush(self) -> None:
        if self._file is not None and self._unwritten:
            self._file.put_many(self._unwritten)
        self._unwritten = []

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
