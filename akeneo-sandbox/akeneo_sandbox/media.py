"""Media files: their storage in SQLite, Akeneo's codes, and the file rules of an attribute."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath
from typing import Any

from akeneo_sandbox.catalog import Doc
from akeneo_sandbox.errors import FORMAT_HINT, ApiError, format_error
from akeneo_sandbox.store import Store

MEDIA_TYPES = frozenset({"pim_catalog_file", "pim_catalog_image"})
FIELDS = ("code", "original_filename", "mime_type", "size", "extension")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS media_files (
    code TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    original_filename TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    extension TEXT NOT NULL,
    sha1 TEXT NOT NULL,
    content BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS media_files_sha1 ON media_files(sha1, original_filename);
"""
# Akeneo checks the detected MIME type only for these extensions (its extension-to-MIME map).
MIME_TYPES = {
    "jpg": ("image/jpeg",),
    "jpeg": ("image/jpeg",),
    "png": ("image/png",),
    "gif": ("image/gif",),
    "tif": ("image/tiff",),
    "tiff": ("image/tiff",),
    "pdf": ("application/pdf",),
}
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"%PDF-", "application/pdf"),
)
# The upload's size limits are decimal, as Symfony's "k"/"M" suffixes.
UNITS = {1_000_000: "MB", 1_000: "kB", 1: "bytes"}

MediaLookup = Callable[[str], Doc | None]


def detect_mime(content: bytes) -> str:
    """The MIME type from the file's own signature, as PHP's finfo would name it."""
    for magic, mime in SIGNATURES:
        if content.startswith(magic):
            return mime
    if not content:
        return "application/x-empty"
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def media_code(filename: str) -> str:
    """`a/b/c/d/<sha1>_<name>` with the name reduced to [A-Za-z0-9.] bytes, as Akeneo's
    PathGenerator does (a sha1 of the name and something unique, then its first 4 hex digits)."""
    digest = hashlib.sha1(f"{filename}{uuid.uuid4()}".encode(), usedforsecurity=False).hexdigest()
    name = re.sub(rb"[^A-Za-z0-9.]", b"_", filename.encode("utf-8")).decode("ascii")
    if len(name) > 100:
        name = f"{name[:95]}.{extension_of(filename)}"
    return f"{'/'.join(digest[:4])}/{digest}_{name}"


def extension_of(filename: str) -> str:
    return PurePosixPath(filename).suffix[1:].lower()


class MediaStore:
    """Media files in the products' database (same connection and lock, so a failed upload's
    transaction also removes its file)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.lock:
            store.connection.executescript(_SCHEMA)

    def info(self, code: str) -> Doc | None:
        """The media file's description (no content), or None."""
        with self.store.lock:
            row = self.store.connection.execute(
                f"SELECT {', '.join(FIELDS)} FROM media_files WHERE code = ?",  # noqa: S608
                (code,),
            ).fetchone()
        return None if row is None else dict(zip(FIELDS, row, strict=True))

    def content(self, code: str) -> bytes | None:
        with self.store.lock:
            row = self.store.connection.execute(
                "SELECT content FROM media_files WHERE code = ?", (code,)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def put(self, filename: str, content: bytes) -> Doc:
        """Store a file; the same bytes under the same name reuse the stored code, as
        Akeneo's FileStorer does."""
        sha1 = hashlib.sha1(content, usedforsecurity=False).hexdigest()
        with self.store.lock:
            db = self.store.connection
            row = db.execute(
                "SELECT code FROM media_files WHERE sha1 = ? AND original_filename = ?",
                (sha1, filename),
            ).fetchone()
            if row is not None:
                found = self.info(str(row[0]))
                assert found is not None
                return found
            doc: Doc = {
                "code": media_code(filename),
                "original_filename": filename,
                "mime_type": detect_mime(content),
                "size": len(content),
                "extension": extension_of(filename),
            }
            db.execute(
                "INSERT INTO media_files VALUES (?, "
                "(SELECT COALESCE(MAX(position), 0) + 1 FROM media_files), ?, ?, ?, ?, ?, ?)",
                (*(doc[k] for k in FIELDS), sha1, content),
            )
        return doc

    def page(self, limit: int, offset: int) -> list[Doc]:
        with self.store.lock:
            rows = self.store.connection.execute(
                f"SELECT {', '.join(FIELDS)} FROM media_files "  # noqa: S608
                "ORDER BY position LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()
        return [dict(zip(FIELDS, row, strict=True)) for row in rows]

    def count(self) -> int:
        with self.store.lock:
            return int(
                self.store.connection.execute("SELECT COUNT(*) FROM media_files").fetchone()[0]
            )

    def clear(self) -> None:
        with self.store.lock:
            self.store.connection.execute("DELETE FROM media_files")


def check_reference(attribute: Doc, data: Any, lookup: MediaLookup, anchor: str) -> None:
    """A file or image value must be the code of a stored media file (not a URL or a path)."""
    if attribute["type"] in MEDIA_TYPES and data is not None and lookup(data) is None:
        raise format_error(
            f'Property "{attribute["code"]}" expects a valid pathname as data, "{data}" given.',
            anchor,
        )


def file_problems(attribute: Doc, media: Doc) -> list[str]:
    """Akeneo's File constraint on a value: size, then extension, then detected MIME type."""
    code = attribute["code"]
    problems = []
    limit = _limit_bytes(attribute["max_file_size"])
    if limit is not None and media["size"] > limit:
        size, shown_limit, unit = _factorize(media["size"], limit)
        problems.append(
            f"The file {media['original_filename']} is too large ({size} {unit}). "
            f"The {code} attribute can not exceed {shown_limit} {unit}."
        )
    allowed = attribute["allowed_extensions"] or []
    extension = media["extension"]
    if allowed and extension not in allowed:
        problems.append(
            f"The {extension} file extension is not allowed for the {code} attribute. "
            f"Allowed extensions are {', '.join(allowed)}."
        )
    expected = MIME_TYPES.get(extension)
    if allowed and expected and media["mime_type"] not in expected:
        problems.append(
            f"The MIME type is not allowed for {extension} "
            f"(allowed types: {', '.join(expected)}, found {media['mime_type']})."
        )
    return problems


def _limit_bytes(max_file_size: Any) -> int | None:
    """`max_file_size` is in MB (a string in Akeneo's format); None or unusable means none."""
    if max_file_size in (None, ""):
        return None
    try:
        return int(Decimal(str(max_file_size)) * 1_000_000)
    except InvalidOperation:
        return None


def _php_number(value: float) -> str:
    """PHP's string form of a float (shortest round trip, no trailing `.0`)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _more_decimals(text: str, decimals: int) -> bool:
    return len(text) > len(_php_number(round(float(text), decimals)))


def _factorize(size: int, limit: int) -> tuple[str, str, str]:
    """Akeneo's FileValidator::factorizeSizes: the largest unit that shows the limit with at
    most 2 decimals and tells the size apart from it."""
    coef = 1_000_000
    shown_limit = _php_number(limit / coef)
    while coef > 1 and _more_decimals(shown_limit, 2):
        coef //= 1000
        shown_limit = _php_number(limit / coef)
    shown_size = _php_number(round(size / coef, 2))
    while coef > 1 and shown_size == shown_limit:
        coef //= 1000
        shown_limit = _php_number(limit / coef)
        shown_size = _php_number(round(size / coef, 2))
    return shown_size, shown_limit, UNITS[coef]


def plain_error(error: ApiError) -> ApiError:
    """The upload controller returns the updater's message without the documentation hint."""
    if error.doc_anchor is None:
        return error
    return ApiError(error.status, error.message.removesuffix(FORMAT_HINT))
