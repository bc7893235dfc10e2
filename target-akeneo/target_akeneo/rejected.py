"""Rejected products waiting for another chance: their source records, in the state store.

A product the PIM refused (or the mapping could not build) is dead-lettered, and the tap's
bookmark moves past its file: the next run would never read it again. So its source record
is kept here, in the `rejected` table of the skip-unchanged SQLite file (`cache_path`), and
each later run maps it with the current mapping and sends it again until the PIM confirms
it, a newer record for the same product arrives, or it is older than `retry_rejected_days`.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from target_akeneo.report import dumps

_TABLE = (
    "CREATE TABLE IF NOT EXISTS rejected ("
    " base_url TEXT NOT NULL, endpoint TEXT NOT NULL, stream TEXT NOT NULL,"
    " identifier TEXT NOT NULL, record TEXT NOT NULL, first_rejected TEXT NOT NULL,"
    " last_rejected TEXT NOT NULL, reason TEXT NOT NULL,"
    " PRIMARY KEY (base_url, endpoint, stream, identifier))"
)


def _now() -> str:
    return datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class PendingProduct:
    """One row of the table: a product still waiting for the PIM to take it."""

    base_url: str
    stream: str
    identifier: str
    record: dict[str, Any]
    first_rejected: str
    last_rejected: str
    reason: str


def record_key(identifier: str | None, record: Mapping[str, Any]) -> str:
    """The row key: the identifier, or the record itself when it has none (an unmappable
    record without identifier can only be superseded by its own fix, so it ages out)."""
    return identifier if identifier is not None else "#" + dumps(dict(record))


class RejectedStore:
    """The `rejected` table of the state store, scoped to one PIM and endpoint.

    Used from the main thread only (the upserter's accounting); its own connection to the
    same file as `SentHashCache`, so each class keeps to its own table. Rows to keep are
    written together at `flush` (the upserter flushes after each chunk's outcomes) and every
    write is committed at once, so it never holds the file's write lock; only rows known to
    exist are deleted, so confirming products costs no write while nothing is pending.
    """

    def __init__(self, path: Path, base_url: str, endpoint: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=30)
        self._db.execute(_TABLE)
        self._db.commit()
        self._scope = (base_url, endpoint)
        self._unwritten: dict[tuple[str, str], tuple[str, str, str]] = {}
        self._keys = set(
            self._db.execute(
                "SELECT stream, identifier FROM rejected WHERE base_url = ? AND endpoint = ?",
                self._scope,
            ).fetchall()
        )

    def keep(
        self, stream: str, identifier: str | None, record: Mapping[str, Any], reason: str
    ) -> None:
        """Remember the newest rejected record of a product (the first rejection time stays)."""
        key = (stream, record_key(identifier, record))
        self._keys.add(key)
        self._unwritten[key] = (dumps(dict(record)), _now(), reason)

    def resolve(self, stream: str, identifiers: Iterable[str]) -> None:
        """The PIM has these products (or a newer record superseded them): forget them."""
        gone = [(stream, key) for key in identifiers if (stream, key) in self._keys]
        if not gone:
            return
        self.flush()
        self._keys.difference_update(gone)
        self._db.executemany(
            "DELETE FROM rejected WHERE base_url = ? AND endpoint = ? AND stream = ?"
            " AND identifier = ?",
            [(*self._scope, *key) for key in gone],
        )
        self._db.commit()

    def expire(self, days: int) -> int:
        """Drop products first rejected more than `days` days ago; return how many."""
        cutoff = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(days=days)
        cursor = self._db.execute(
            "DELETE FROM rejected WHERE base_url = ? AND endpoint = ? AND first_rejected < ?",
            (*self._scope, cutoff.isoformat(timespec="seconds")),
        )
        self._db.commit()
        if cursor.rowcount:
            self._keys = set(
                self._db.execute(
                    "SELECT stream, identifier FROM rejected WHERE base_url = ? AND endpoint = ?",
                    self._scope,
                ).fetchall()
            )
        return cursor.rowcount

    def pending(self, stream: str) -> list[dict[str, Any]]:
        """The source records of a stream's pending products, oldest rejection first."""
        rows = self._db.execute(
            "SELECT record FROM rejected WHERE base_url = ? AND endpoint = ? AND stream = ?"
            " ORDER BY first_rejected, identifier",
            (*self._scope, stream),
        )
        return [json.loads(record) for (record,) in rows]

    def count(self) -> int:
        (total,) = self._db.execute(
            "SELECT COUNT(*) FROM rejected WHERE base_url = ? AND endpoint = ?", self._scope
        ).fetchone()
        return int(total)

    def flush(self) -> None:
        """Write the rows kept since the last flush, in one transaction."""
        if not self._unwritten:
            return
        self._db.executemany(
            "INSERT INTO rejected (base_url, endpoint, stream, identifier, record,"
            " first_rejected, last_rejected, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (base_url, endpoint, stream, identifier) DO UPDATE SET"
            " record = excluded.record, last_rejected = excluded.last_rejected,"
            " reason = excluded.reason",
            [
                (*self._scope, stream, key, record, now, now, reason)
                for (stream, key), (record, now, reason) in self._unwritten.items()
            ],
        )
        self._db.commit()
        self._unwritten = {}

    def close(self) -> None:
        self.flush()
        self._db.close()


def list_pending(path: Path) -> Iterator[PendingProduct]:
    """Every pending product in a state store file, for every PIM it was used with."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'rejected'").fetchone():
            return
        rows = db.execute(
            "SELECT base_url, stream, identifier, record, first_rejected, last_rejected, reason"
            " FROM rejected ORDER BY base_url, stream, first_rejected, identifier"
        )
        for base_url, stream, identifier, record, first, last, reason in rows:
            yield PendingProduct(
                base_url, stream, identifier, json.loads(record), first, last, reason
            )
    finally:
        db.close()
