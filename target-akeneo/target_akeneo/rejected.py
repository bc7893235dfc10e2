"""Rejected products waiting for another chance: their source records, in the state store.

A product the PIM refused (or the mapping could not build) is dead-lettered, and the tap's
bookmark moves past its file: the next run would never read it again. So its source record
is kept here, in the `rejected` table of the skip-unchanged SQLite file (`cache_path`), and
each later run maps it with the current mapping and sends it again until the PIM confirms
it, a newer record for the same product arrives, or it is older than `retry_rejected_days`.

However many products are pending (a bad mapping can reject a whole catalog), memory holds
none of them for the run: membership is asked of the indexed table, the records come back
in bounded chunks, and this run's retries in flight are rows of a TEMP table (on disk).
"""

from __future__ import annotations

import datetime
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from target_akeneo.cache import in_chunks
from target_akeneo.report import dumps

_TABLE = (
    "CREATE TABLE IF NOT EXISTS rejected ("
    " base_url TEXT NOT NULL, endpoint TEXT NOT NULL, stream TEXT NOT NULL,"
    " identifier TEXT NOT NULL, record TEXT NOT NULL, first_rejected TEXT NOT NULL,"
    " last_rejected TEXT NOT NULL, reason TEXT NOT NULL,"
    " PRIMARY KEY (base_url, endpoint, stream, identifier))"
)


# This run's retries, in the order they are sent; a row leaves once its product is answered.
_QUEUE = (
    "CREATE TEMP TABLE retry_queue (seq INTEGER PRIMARY KEY, stream TEXT NOT NULL,"
    " identifier TEXT NOT NULL, UNIQUE (stream, identifier))"
)
# Rejections kept in memory before they are written (the upserter flushes per chunk anyway).
_WRITE_EVERY = 1000


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
        self._db.execute("PRAGMA temp_store = FILE")
        self._db.execute(_QUEUE)
        self._scope = (base_url, endpoint)
        self._unwritten: dict[tuple[str, str], tuple[str, str, str]] = {}
        self._any = self._has_rows()
        self._queued = 0  # rows of retry_queue

    def _has_rows(self) -> bool:
        """Whether anything is pending for this PIM: when not, confirmations cost no lookup."""
        found = self._db.execute(
            "SELECT 1 FROM rejected WHERE base_url = ? AND endpoint = ? LIMIT 1", self._scope
        )
        return found.fetchone() is not None

    def keep(
        self, stream: str, identifier: str | None, record: Mapping[str, Any], reason: str
    ) -> None:
        """Remember the newest rejected record of a product (the first rejection time stays)."""
        key = (stream, record_key(identifier, record))
        self._any = True
        self._unwritten[key] = (dumps(dict(record)), _now(), reason)
        if len(self._unwritten) >= _WRITE_EVERY:
            self.flush()

    def resolve(self, stream: str, identifiers: Iterable[str]) -> None:
        """The PIM has these products (or a newer record superseded them): forget them."""
        if not self._any:
            return
        self.flush()
        gone = self._present(
            "SELECT identifier FROM rejected WHERE base_url = ? AND endpoint = ? AND stream = ?",
            (*self._scope, stream),
            list(identifiers),
        )
        if not gone:
            return
        self._db.executemany(
            "DELETE FROM rejected WHERE base_url = ? AND endpoint = ? AND stream = ?"
            " AND identifier = ?",
            [(*self._scope, stream, key) for key in gone],
        )
        self._db.commit()

    def _present(self, query: str, params: tuple[str, ...], keys: Sequence[str]) -> list[str]:
        """The keys `query` finds, asked by index per 500: only rows known to exist are
        deleted, so a lookup that finds nothing takes no write lock."""
        found: list[str] = []
        for chunk, marks in in_chunks(keys):
            rows = self._db.execute(f"{query} AND identifier IN ({marks})", (*params, *chunk))
            found.extend(row[0] for row in rows)
        return found

    def expire(self, days: int) -> int:
        """Drop products first rejected more than `days` days ago; return how many."""
        cutoff = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(days=days)
        cursor = self._db.execute(
            "DELETE FROM rejected WHERE base_url = ? AND endpoint = ? AND first_rejected < ?",
            (*self._scope, cutoff.isoformat(timespec="seconds")),
        )
        self._db.commit()
        if cursor.rowcount:
            self._any = self._has_rows()
        return cursor.rowcount

    def queue(self, stream: str) -> int:
        """Queue the stream's pending products for this run's retry, oldest rejection first;
        return how many. Products rejected later in the run are not queued: sent once."""
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO retry_queue (stream, identifier) SELECT stream, identifier"
            " FROM rejected WHERE base_url = ? AND endpoint = ? AND stream = ?"
            " ORDER BY first_rejected, identifier",
            (*self._scope, stream),
        )
        self._db.commit()
        self._queued += cursor.rowcount
        return cursor.rowcount

    def queued(self, stream: str, size: int) -> Iterator[list[dict[str, Any]]]:
        """The queued source records of a stream, `size` at a time. Each chunk is its own
        query (no cursor stays open while outcomes are written); products answered
        meanwhile, a newer record's included, are not read again."""
        last = 0
        while True:
            rows = self._db.execute(
                "SELECT q.seq, r.record FROM retry_queue q JOIN rejected r"
                " ON r.base_url = ? AND r.endpoint = ? AND r.stream = q.stream"
                " AND r.identifier = q.identifier"
                " WHERE q.stream = ? AND q.seq > ? ORDER BY q.seq LIMIT ?",
                (*self._scope, stream, last, size),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [json.loads(record) for _seq, record in rows]

    def answered(self, stream: str, identifiers: Sequence[str]) -> set[str]:
        """These products were answered or need no sending: of them, return the ones this
        run was retrying, which are no longer."""
        if not self._queued:
            return set()
        found = self._present(
            "SELECT identifier FROM retry_queue WHERE stream = ?", (stream,), identifiers
        )
        if found:
            self._db.executemany(
                "DELETE FROM retry_queue WHERE stream = ? AND identifier = ?",
                [(stream, key) for key in found],
            )
            self._db.commit()
            self._queued -= len(found)
        return set(found)

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
