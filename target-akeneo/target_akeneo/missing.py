"""Products missing from a full export: what to do with them on Singer's ACTIVATE_VERSION.

A tap that read a complete export ends the stream's version with ACTIVATE_VERSION. The
products this target confirmed for that stream before and did not receive since the last
version (unchanged ones count as received) are missing: `missing_products` says whether
they are left alone (`ignore`), disabled or deleted. What was seen is kept in the state
store (`ProductsSeen`, a table of the `cache_path` file), not in memory, so a version may
span runs. A truncated export must never disable the catalog: when more than
`missing_products_max_ratio` of the stream's products would be affected, nothing changes
and the run fails saying how many and why.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec

from target_akeneo.cache import ConfirmedPayloads, in_chunks
from target_akeneo.client import MAX_LINES, AkeneoClient
from target_akeneo.errors import TargetAkeneoError
from target_akeneo.report import RunReport

logger = logging.getLogger("target-akeneo")

_encode = msgspec.json.Encoder(order="sorted").encode


class MissingProductsRefused(TargetAkeneoError):  # noqa: N818 (a refusal the user acts on)
    """Too many products missing from a version: nothing was changed."""


class ProductsSeen:
    """Per stream and product: confirmed by the PIM once, the epoch it was last received
    in, and what this target did to it when it went missing (`disabled`)."""

    def __init__(self, path: Path, base_url: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), timeout=30)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS products_seen ("
            " base_url TEXT NOT NULL, stream TEXT NOT NULL, identifier TEXT NOT NULL,"
            " confirmed INTEGER NOT NULL DEFAULT 0, epoch TEXT NOT NULL, applied TEXT,"
            " PRIMARY KEY (base_url, stream, identifier))"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS stream_versions ("
            " base_url TEXT NOT NULL, stream TEXT NOT NULL, epoch TEXT NOT NULL,"
            " PRIMARY KEY (base_url, stream))"
        )
        self._db.commit()
        self._base_url = base_url

    def epoch(self, stream: str, *, new: bool = False) -> str:
        """The mark of the stream's current version (kept across runs until it ends)."""
        if not new:
            row = self._db.execute(
                "SELECT epoch FROM stream_versions WHERE base_url = ? AND stream = ?",
                (self._base_url, stream),
            ).fetchone()
            if row is not None:
                return str(row[0])
        epoch = uuid.uuid4().hex
        self._db.execute(
            "INSERT OR REPLACE INTO stream_versions VALUES (?, ?, ?)",
            (self._base_url, stream, epoch),
        )
        self._db.commit()
        return epoch

    def seen(self, stream: str, identifiers: Sequence[str], epoch: str) -> set[str]:
        """Mark received; return those this target had disabled (they are back)."""
        back: set[str] = set()
        for chunk, marks in in_chunks(identifiers):
            rows = self._db.execute(
                "SELECT identifier FROM products_seen WHERE base_url = ? AND stream = ?"  # noqa: S608
                f" AND applied = 'disabled' AND identifier IN ({marks})",
                (self._base_url, stream, *chunk),
            )
            back.update(row[0] for row in rows)
        self._db.executemany(
            "INSERT INTO products_seen (base_url, stream, identifier, epoch) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (base_url, stream, identifier)"
            " DO UPDATE SET epoch = excluded.epoch, applied = NULL",
            [(self._base_url, stream, identifier, epoch) for identifier in identifiers],
        )
        self._db.commit()
        return back

    def confirmed(self, stream: str, identifiers: Iterable[str]) -> None:
        self._db.executemany(
            "UPDATE products_seen SET confirmed = 1"
            " WHERE base_url = ? AND stream = ? AND identifier = ?",
            [(self._base_url, stream, identifier) for identifier in identifiers],
        )
        self._db.commit()

    def counts(self, stream: str, epoch: str) -> tuple[int, int, int]:
        """(missing not yet handled, all confirmed products of the stream, handled before),
        counted in SQL: nothing per product is read into memory."""
        row = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(epoch != ? AND applied IS NULL), 0),"
            " COALESCE(SUM(epoch != ? AND applied IS NOT NULL), 0) FROM products_seen"
            " WHERE base_url = ? AND stream = ? AND confirmed = 1",
            (epoch, epoch, self._base_url, stream),
        ).fetchone()
        return int(row[1]), int(row[0]), int(row[2])

    def missing(self, stream: str, epoch: str, after: str, limit: int) -> list[str]:
        """The next `limit` missing products not yet handled, by identifier after `after`."""
        rows = self._db.execute(
            "SELECT identifier FROM products_seen WHERE base_url = ? AND stream = ?"
            " AND confirmed = 1 AND epoch != ? AND applied IS NULL AND identifier > ?"
            " ORDER BY identifier LIMIT ?",
            (self._base_url, stream, epoch, after, limit),
        )
        return [str(row[0]) for row in rows]

    def applied(self, stream: str, identifiers: Sequence[str], action: str) -> None:
        if action == "deleted":
            self._db.executemany(
                "DELETE FROM products_seen WHERE base_url = ? AND stream = ? AND identifier = ?",
                [(self._base_url, stream, identifier) for identifier in identifiers],
            )
        else:
            self._db.executemany(
                "UPDATE products_seen SET applied = ?"
                " WHERE base_url = ? AND stream = ? AND identifier = ?",
                [(action, self._base_url, stream, identifier) for identifier in identifiers],
            )
        self._db.commit()

    def close(self) -> None:
        self._db.close()


class MissingProducts:
    """Applies `missing_products` on ACTIVATE_VERSION, guarded by the ratio."""

    def __init__(
        self,
        *,
        client: AkeneoClient,
        seen: ProductsSeen,
        confirmed: ConfirmedPayloads,
        report: RunReport,
        action: str,
        max_ratio: float,
    ) -> None:
        self._client = client
        self._seen = seen
        self._confirmed = confirmed
        self._report = report
        self._action = action
        self._max_ratio = max_ratio
        # What "received in this version" is marked with, per stream (from the state store,
        # so a version may span runs); new after each version.
        self._epochs: dict[str, str] = {}
        self._received: dict[str, int] = {}

    def _epoch(self, stream: str) -> str:
        if stream not in self._epochs:
            self._epochs[stream] = self._seen.epoch(stream)
        return self._epochs[stream]

    def received(self, stream: str, identifiers: Sequence[str]) -> set[str]:
        """Mark products received; return those this target disabled before (re-enable)."""
        self._received[stream] = self._received.get(stream, 0) + len(identifiers)
        return self._seen.seen(stream, identifiers, self._epoch(stream))

    def confirmed(self, stream: str, identifiers: Iterable[str]) -> None:
        self._seen.confirmed(stream, identifiers)

    def activate_version(self, stream: str, version: int) -> None:
        """Every product of the stream before this call is answered (the caller settled)."""
        if not self._received.pop(stream, 0):
            # Taps also send ACTIVATE_VERSION before a version's first record: that one
            # starts the version, and no product can be missing from it yet.
            logger.info("stream '%s': version %s begins", stream, version)
            return
        ended = self._epoch(stream)
        missing, total, handled = self._seen.counts(stream, ended)
        self._epochs[stream] = self._seen.epoch(stream, new=True)
        self._report.add(stream, "missing", missing)
        if not missing or self._action == "ignore":
            if missing:
                logger.info(
                    "%d product(s) of stream '%s' missing from version %s (ignored)",
                    missing,
                    stream,
                    version,
                )
            return
        active = total - handled
        if missing > self._max_ratio * active:
            raise MissingProductsRefused(
                f"missing_products: {missing} of {active} product(s) of stream '{stream}' "
                f"were not in version {version} of the full export "
                f"({missing / active:.0%} > missing_products_max_ratio "
                f"{self._max_ratio:.0%}); nothing was {self._action}d: a truncated export "
                "must not change the catalog (raise the ratio if this is intended)"
            )
        done_count = 0
        after = ""
        # A chunk at a time from the state store, so that a large export's missing products
        # are never all in memory.
        while chunk := self._seen.missing(stream, ended, after, MAX_LINES):
            after = chunk[-1]
            done = self._delete(chunk) if self._action == "delete" else self._disable(chunk)
            self._seen.applied(stream, done, f"{self._action}d")
            # The PIM's product is no longer the one confirmed: send it again when it is back.
            self._confirmed.forget(done)
            done_count += len(done)
        self._report.add(stream, f"missing_{self._action}d", done_count)
        logger.info(
            "%s %d product(s) of stream '%s' missing from version %s",
            "deleted" if self._action == "delete" else "disabled",
            done_count,
            stream,
            version,
        )

    def _disable(self, identifiers: Sequence[str]) -> list[str]:
        """One collection request for at most `MAX_LINES` products."""
        done = []
        lines = [
            _encode({"identifier": identifier, "enabled": False}) for identifier in identifiers
        ]
        for identifier, result in zip(
            identifiers, self._client.upsert_products(lines), strict=True
        ):
            if result.ok:
                done.append(identifier)
            else:
                logger.warning("could not disable '%s': %s", identifier, result.message)
        return done

    def _delete(self, identifiers: Sequence[str]) -> list[str]:
        done = []
        for identifier in identifiers:
            status = self._client.delete_product(identifier)
            if status in (204, 404):
                done.append(identifier)
            else:
                logger.warning("could not delete '%s': HTTP %s", identifier, status)
        return done

    def close(self) -> None:
        self._seen.close()
