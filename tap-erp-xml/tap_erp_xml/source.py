"""Listing and opening the files of a stream: local paths, globs and fsspec URLs; gz and zip.

``singer_sdk.contrib.filesystem`` was considered and not used: its ``FolderTap`` lists one
flat folder (no globs, no S3, one filesystem per tap) and ``FileStream`` compares file
bookmarks with ``<`` and infers the schema from the first file only. Here each ``files``
entry may be its own URL with its own filesystem, and unchanged files are never opened.
"""

from __future__ import annotations

import datetime
import gzip
import io
import os
import zipfile
from collections.abc import Generator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import IO, Any, cast
from urllib.parse import urlsplit

import fsspec
from fsspec.implementations.local import LocalFileSystem
from fsspec.utils import infer_storage_options

from tap_erp_xml.errors import SourceError
from tap_erp_xml.settings import TapSettings

_GLOB_CHARS = frozenset("*?[")
_S3_OPTIONS = {
    "aws_access_key_id": "key",
    "aws_secret_access_key": "secret",
    "aws_session_token": "token",
    "endpoint_url": "endpoint_url",
}


@dataclass(frozen=True)
class SourceFile:
    """One listed file: its name as listed (output and bookmark key) and where to read it."""

    name: str
    fs: Any
    path: str
    modified: datetime.datetime | None


def redact(url: str) -> str:
    """Hide a password written into a URL (``sftp://user:pw@host``) before showing it."""
    parts = urlsplit(url) if "://" in url else None
    if parts is None or parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else "***@"
    return parts._replace(netloc=user + host).geturl()


def _utc(value: Any) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
    if isinstance(value, int | float):
        return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
    return None


class FileSource:
    """Resolves ``files`` entries with the tap's credentials; one filesystem per protocol."""

    def __init__(self, settings: TapSettings) -> None:
        self._settings = settings
        self._local = LocalFileSystem()

    def _storage_options(self, url: str) -> dict[str, Any]:
        protocol = url.split("://", 1)[0]
        if protocol in {"s3", "s3a"}:
            s3 = self._settings.s3
            # A tap run is one-shot: fresh listings and connections beat cached ones.
            options: dict[str, Any] = {"skip_instance_cache": True, "use_listings_cache": False}
            options.update({opt: s3[key] for key, opt in _S3_OPTIONS.items() if s3.get(key)})
            if s3.get("region"):
                options["client_kwargs"] = {"region_name": s3["region"]}
            return options
        if protocol == "sftp":
            return self._sftp_options(url)
        return {}

    def _sftp_options(self, url: str) -> dict[str, Any]:
        sftp = self._settings.sftp
        parts = urlsplit(url)
        options: dict[str, Any] = {"skip_instance_cache": True}
        if sftp.get("username") and not parts.username:
            options["username"] = sftp.get("username")
        if sftp.get("password") and not parts.password:
            options["password"] = sftp.get("password")
        if sftp.get("port") and not parts.port:
            options["port"] = sftp.get("port")
        if sftp.get("private_key_file"):
            options["key_filename"] = sftp.get("private_key_file")
        if sftp.get("private_key"):
            options["pkey"] = _load_private_key(
                sftp["private_key"], sftp.get("private_key_passphrase")
            )
        elif sftp.get("private_key_passphrase"):
            options["passphrase"] = sftp.get("private_key_passphrase")
        if options.get("password") or options.get("pkey") or options.get("key_filename"):
            options.setdefault("look_for_keys", False)
            options.setdefault("allow_agent", False)
        return options

    def _url_to_fs(self, url: str) -> tuple[Any, str]:
        """Filesystem and path of a URL; ``sftp`` is pinned to paramiko's implementation
        (the ``sftp`` extra), whatever other package registered the protocol."""
        options = self._storage_options(url)
        if url.startswith("sftp://"):
            from fsspec.implementations.sftp import SFTPFileSystem  # needs the sftp extra

            kwargs = infer_storage_options(url)  # host, username, password, port
            del kwargs["path"], kwargs["protocol"]
            kwargs.update(options)
            return SFTPFileSystem(**kwargs), urlsplit(url).path or "/"
        fs, path = fsspec.core.url_to_fs(url, **options)
        return fs, path

    def _resolve_local(self, entry: str) -> tuple[str, str | None]:
        """Absolute path of a local entry and the base its display name is relative to."""
        if entry.startswith("file://"):
            return entry[len("file://") :], None
        if os.path.isabs(entry):
            return entry, None
        base = os.path.abspath(self._settings.base_dir or os.curdir)
        return os.path.join(base, entry), base

    def list_files(self, entries: tuple[str, ...]) -> list[SourceFile]:
        """List every file of the entries, in entry order then name order, without duplicates."""
        seen: set[str] = set()
        result: list[SourceFile] = []
        for entry in entries:
            for found in self._list_entry(entry):
                if found.name not in seen:
                    seen.add(found.name)
                    result.append(found)
        return result

    def _list_entry(self, entry: str) -> list[SourceFile]:
        shown = redact(entry)
        is_url = "://" in entry and not entry.startswith("file://")
        try:
            if is_url:
                fs, path = self._url_to_fs(entry)
                base = None
            else:
                fs = self._local
                path, base = self._resolve_local(entry)
            if _GLOB_CHARS & set(path):
                paths = sorted(p for p in fs.glob(path) if fs.isfile(p))
                if not paths and not self._settings.allow_empty_match:
                    raise SourceError(f'files: pattern "{shown}" matches no file')
            elif not fs.isfile(path):
                raise SourceError(f'files: "{shown}": no such file')
            else:
                paths = [path]
            return [self._described(fs, p, entry, base, is_url) for p in paths]
        except SourceError:
            raise
        except Exception as exc:  # any backend failure is reported the same way
            raise SourceError(
                f'files: "{shown}": cannot list: {type(exc).__name__}: {exc}'
            ) from None

    def _described(
        self, fs: Any, path: str, entry: str, base: str | None, is_url: bool
    ) -> SourceFile:
        if entry.startswith("sftp://"):
            name = redact(f"sftp://{urlsplit(entry).netloc}{path}")
        elif is_url:
            name = redact(fs.unstrip_protocol(path))
        elif base is not None:
            name = os.path.relpath(path, base)
        else:
            name = path
        try:
            modified = _utc(fs.modified(path))
        except (NotImplementedError, RuntimeError, KeyError):
            modified = None
        return SourceFile(name=name, fs=fs, path=path, modified=modified)

    def documents(self, source: SourceFile) -> Generator[tuple[str, IO[bytes]], None, None]:
        """Yield ``(display name, byte stream)`` for each XML document in the file."""
        lowered = source.path.lower()
        with ExitStack() as stack:
            try:
                raw = stack.enter_context(source.fs.open(source.path, "rb"))
            except Exception as exc:
                raise SourceError(
                    f"{source.name}: cannot open: {type(exc).__name__}: {exc}"
                ) from None
            if lowered.endswith(".gz"):
                unzipped = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
                yield source.name, cast("IO[bytes]", unzipped)
            elif lowered.endswith(".zip"):
                yield from _zip_members(source.name, raw)
            else:
                yield source.name, raw


def _zip_members(name: str, raw: IO[bytes]) -> Iterator[tuple[str, IO[bytes]]]:
    try:
        archive = zipfile.ZipFile(raw)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"{name}: not a readable zip archive: {exc}") from None
    with archive:
        members = sorted(
            info.filename
            for info in archive.infolist()
            if not info.is_dir()
            and info.filename.lower().endswith(".xml")
            and not info.filename.startswith("__MACOSX/")
        )
        if not members:
            raise SourceError(f"{name}: the zip archive holds no .xml member")
        for member in members:
            with archive.open(member) as stream:
                yield f"{name}!{member}", stream


def _load_private_key(text: str, passphrase: str | None) -> Any:
    """Parse a PEM/OpenSSH private key given as text (kept in memory, never written out)."""
    import paramiko  # needs the sftp extra

    errors: list[str] = []
    for key_class in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return key_class.from_private_key(io.StringIO(text), password=passphrase)
        except (paramiko.SSHException, ValueError) as exc:
            errors.append(type(exc).__name__)
    raise SourceError("sftp.private_key: not a readable Ed25519, ECDSA or RSA private key")
