"""Media values: image and file attributes filled from URLs or paths.

A mapped media value holds a source (URL, path, fsspec URL), not a media code. The
upserter strips such values from the product line (so a bad image never blocks the
product's other data, and the line's hash does not depend on them) and hands them here
once the product exists in the PIM: `POST /media-files` needs an existing product and
writes the value itself. Each source is fetched through `fetch.Fetcher` (allowed sources,
size limit, signature), uploaded, and remembered in the state store (`MediaStore`), so an
unchanged source is neither uploaded nor, where the server answers 304, downloaded again.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from target_akeneo.client import AkeneoClient
from target_akeneo.errors import ApiError
from target_akeneo.fetch import Fetched, Fetcher, MediaRefused, check_content
from target_akeneo.report import JsonLinesWriter, RunReport, dead_letter
from target_akeneo.structure import PimStructure

logger = logging.getLogger("target-akeneo")

MEDIA_TYPES = frozenset({"pim_catalog_image", "pim_catalog_file"})
_MB = 1_000_000  # Akeneo's max_file_size is in decimal megabytes
# Media values waiting or in work per worker: one being fetched, one ready.
IN_FLIGHT_PER_WORKER = 2
# The state store's key of a product model's values (a product identifier has no NUL).
_MODEL_KEY = "\x00model:"


@dataclass(frozen=True)
class MediaValue:
    """One media value of a product: where the file comes from and where it goes."""

    attribute: str
    locale: str | None
    scope: str | None
    source: str


@dataclass(frozen=True)
class Owner:
    """The product (by identifier) or product model (by code) a media value belongs to."""

    code: str
    model: bool = False

    @property
    def key(self) -> str:
        """Its key in the state store (products and models may share a code)."""
        return _MODEL_KEY + self.code if self.model else self.code

    @property
    def noun(self) -> str:
        return "product model" if self.model else "product"


@dataclass(frozen=True)
class _Known:
    source: str
    sha256: str
    etag: str | None
    last_modified: str | None
    code: str


class MediaStore:
    """Per product value: the source last uploaded, its hash, validators and media code.

    A table of the state store's SQLite file (the one of `cache.py`); written only after
    the PIM accepted the upload.
    """

    def __init__(self, path: Path, base_url: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._lock = threading.Lock()
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS media_values ("
            " base_url TEXT NOT NULL, identifier TEXT NOT NULL, attribute TEXT NOT NULL,"
            " locale TEXT NOT NULL, scope TEXT NOT NULL, source TEXT NOT NULL,"
            " sha256 TEXT NOT NULL, etag TEXT, last_modified TEXT, code TEXT NOT NULL,"
            " PRIMARY KEY (base_url, identifier, attribute, locale, scope))"
        )
        self._db.commit()
        self._base_url = base_url

    def _key(self, identifier: str, value: MediaValue) -> tuple[str, str, str, str, str]:
        return (self._base_url, identifier, value.attribute, value.locale or "", value.scope or "")

    def get(self, identifier: str, value: MediaValue) -> _Known | None:
        with self._lock:
            row = self._db.execute(
                "SELECT source, sha256, etag, last_modified, code FROM media_values"
                " WHERE base_url = ? AND identifier = ? AND attribute = ? AND locale = ?"
                " AND scope = ?",
                self._key(identifier, value),
            ).fetchone()
        return None if row is None else _Known(*row)

    def put(self, identifier: str, value: MediaValue, known: _Known) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO media_values VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    *self._key(identifier, value),
                    known.source,
                    known.sha256,
                    known.etag,
                    known.last_modified,
                    known.code,
                ),
            )
            self._db.commit()

    def forget(self, identifier: str, attribute: str) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM media_values WHERE base_url = ? AND identifier = ? AND attribute = ?",
                (self._base_url, identifier, attribute),
            )
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()


def split_media(
    payload: dict[str, Any], structure: PimStructure
) -> tuple[dict[str, Any], list[MediaValue]]:
    """The payload without its media sources, and those sources.

    A null media value stays in the payload: it erases the value, as Akeneo does.
    """
    values = payload.get("values")
    if not values:
        return payload, []
    media: list[MediaValue] = []
    kept: dict[str, Any] = {}
    for code, entries in values.items():
        attribute = structure.attributes.get(code)
        if attribute is None or attribute.type not in MEDIA_TYPES:
            kept[code] = entries
            continue
        rest = []
        for entry in entries:
            data = entry.get("data")
            if isinstance(data, str) and data.strip():
                media.append(MediaValue(code, entry.get("locale"), entry.get("scope"), data))
            elif data is None:
                rest.append(entry)
        if rest:
            kept[code] = rest
    if not media:
        return payload, []
    stripped = {key: value for key, value in payload.items() if key != "values"}
    if kept:
        stripped["values"] = kept
    return stripped, media


class MediaUploader:
    """Fetches and uploads the media values of confirmed products on its own workers."""

    def __init__(
        self,
        *,
        client: AkeneoClient,
        structure: PimStructure,
        fetcher: Fetcher,
        store: MediaStore | None,
        report: RunReport,
        dead_letters: JsonLinesWriter,
        max_mb: int,
        concurrency: int,
    ) -> None:
        self._client = client
        self._structure = structure
        self._fetcher = fetcher
        self._store = store
        self._report = report
        self._dead_letters = dead_letters
        self._max_bytes = max_mb * _MB
        self._executor = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="akeneo-media"
        )
        # At most this many values queued or in work: `submit` waits for a free slot, so
        # the queue (each entry holds its product's record) never grows with the input.
        self._slots = threading.BoundedSemaphore(IN_FLIGHT_PER_WORKER * concurrency)
        self._lock = threading.Lock()
        self._futures: set[Future[None]] = set()
        # A failure of the PIM itself (retries exhausted) stops the run like a product's.
        self.unavailable: list[str] = []

    def forget_erased(self, owner: Owner, payload: Mapping[str, Any]) -> None:
        """Erased media values (data null) are no longer known uploads."""
        if self._store is None:
            return
        for code, entries in (payload.get("values") or {}).items():
            attribute = self._structure.attributes.get(code)
            is_media = attribute is not None and attribute.type in MEDIA_TYPES
            if is_media and any(entry.get("data") is None for entry in entries):
                self._store.forget(owner.key, code)

    def submit(
        self,
        stream: str,
        owner: Owner,
        record: Mapping[str, Any],
        values: list[MediaValue],
    ) -> None:
        """Queue the values of a product or model that the PIM has (confirmed or unchanged);
        waits while every slot is taken."""
        for value in values:
            self._slots.acquire()
            try:
                future = self._executor.submit(self._one, stream, owner, record, value)
            except BaseException:
                self._slots.release()
                raise
            with self._lock:
                self._futures.add(future)
            future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        self._slots.release()
        if future.exception() is None:  # a failure stays until settle raises it
            with self._lock:
                self._futures.discard(future)

    @property
    def in_flight(self) -> int:
        """Values queued or in work, and failed ones not yet raised by `settle`."""
        with self._lock:
            return len(self._futures)

    def settle(self) -> None:
        with self._lock:
            futures, self._futures = list(self._futures), set()
        for future in futures:
            future.result()

    def close(self) -> None:
        self.settle()
        self._executor.shutdown(wait=True)
        if self._store is not None:
            self._store.close()

    def _one(self, stream: str, owner: Owner, record: Mapping[str, Any], value: MediaValue) -> None:
        try:
            outcome = self._fetch_and_upload(owner, value)
        except MediaRefused as exc:
            self._fail(stream, owner, record, value, exc.rule, str(exc))
            return
        except ApiError as exc:
            if exc.exhausted:
                self.unavailable.append(str(exc))
            self._fail(stream, owner, record, value, "upload", str(exc))
            return
        except Exception as exc:  # any failure to fetch is this value's, not the run's
            self._fail(stream, owner, record, value, "fetch_failed", type(exc).__name__)
            return
        self._report.add(stream, outcome)

    def _limit(self, value: MediaValue) -> int:
        attribute = self._structure.attributes[value.attribute]
        if attribute.max_file_size_mb:
            return min(self._max_bytes, int(attribute.max_file_size_mb * _MB))
        return self._max_bytes

    def _fetch_and_upload(self, owner: Owner, value: MediaValue) -> str:
        known = self._store.get(owner.key, value) if self._store else None
        same_source = known is not None and known.source == value.source
        fetched = self._fetcher.fetch(
            value.source,
            self._limit(value),
            etag=known.etag if same_source and known else None,
            last_modified=known.last_modified if same_source and known else None,
        )
        if fetched.content is None or fetched.sha256 is None:
            return "media_unchanged"  # answered 304: the PIM has this file
        if same_source and known is not None and known.sha256 == fetched.sha256:
            if (fetched.etag, fetched.last_modified) != (known.etag, known.last_modified):
                self._remember(owner, value, known.code, fetched.sha256, fetched)
            return "media_unchanged"
        attribute = self._structure.attributes[value.attribute]
        check_content(
            fetched.filename,
            fetched.content,
            attribute.allowed_extensions,
            image=attribute.type == "pim_catalog_image",
        )
        code, message = self._client.upload_media_file(
            owner.code,
            value.attribute,
            value.locale,
            value.scope,
            fetched.filename,
            fetched.content,
            model=owner.model,
        )
        if code is None:
            raise MediaRefused("rejected_by_pim", message)
        self._remember(owner, value, code, fetched.sha256, fetched)
        return "media_uploaded"

    def _remember(
        self, owner: Owner, value: MediaValue, code: str, sha256: str, fetched: Fetched
    ) -> None:
        if self._store is not None:
            known = _Known(value.source, sha256, fetched.etag, fetched.last_modified, code)
            self._store.put(owner.key, value, known)

    def _fail(
        self,
        stream: str,
        owner: Owner,
        record: Mapping[str, Any],
        value: MediaValue,
        rule: str,
        message: str,
    ) -> None:
        # Only the source and the rule: nothing of the file itself is logged or written.
        self._report.add(stream, "media_failed")
        logger.warning(
            "media value '%s' of %s '%s' not loaded (%s): %s",
            value.attribute,
            owner.noun,
            owner.code,
            rule,
            message,
        )
        self._dead_letters.write(
            {
                **dead_letter(
                    stream,
                    owner.code,
                    "media_error",
                    status_code=None,
                    message=message,
                    errors=None,
                    record=record,
                    payload=None,
                ),
                "attribute": value.attribute,
                "locale": value.locale,
                "scope": value.scope,
                "url": value.source,
                "rule": rule,
            }
        )
