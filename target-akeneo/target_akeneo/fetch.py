"""Fetching media sources safely: what may be read, from where, and how much.

A media value comes from another system's export, so it is untrusted: it could name
`/etc/passwd`, a cloud metadata address or an internal admin page. `SourcePolicy` decides
what may be fetched (`media_sources`); `Fetcher` reads it with timeouts and a size limit
enforced while streaming. Host names are resolved once (the resolver is injectable) and the
connection goes to the checked address itself, with the original Host header and TLS server
name, so a name that resolves differently a second time (DNS rebinding) cannot slip past.
Every redirect hop is checked the same way. A refusal raises `MediaRefused` naming the rule.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

import fsspec
import urllib3

MAX_REDIRECTS = 3
CHUNK = 64 * 1024
HTTP_SCHEMES = frozenset({"http", "https"})
# Never fetched, whatever `media_sources` says: local files go through base folders only.
REFUSED_SCHEMES = frozenset({"file", "local", "data", "ftp", "ftps", "sftp", "gopher"})

Resolver = Callable[[str, int], Sequence[str]]


class MediaRefused(Exception):  # noqa: N818 (a refusal, not a failure of the program)
    """A media source that is not fetched or not accepted; `rule` names what refused it."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def system_resolver(host: str, port: int) -> list[str]:
    """Every address of `host` (IPv4 and IPv6), as the system resolves it."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class _UrlPrefix:
    scheme: str
    host: str
    port: int | None
    path: str

    def matches(self, scheme: str, host: str, port: int | None, path: str) -> bool:
        return (
            scheme == self.scheme
            and host == self.host
            and (self.port is None or port == self.port)
            and (
                path.startswith(self.path)
                if self.path.endswith("/")
                else path == self.path or path.startswith(self.path + "/")
            )
        )


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


@dataclass(frozen=True)
class SourcePolicy:
    """What `media_sources` allows; empty means https to public addresses, no paths.

    Entries: an http(s) URL prefix (`https://img.example.com/products/`), a host name
    (`img.example.com`: https on any path), a base folder (`/srv/images`, `./images`), or an
    fsspec URL prefix (`s3://bucket/images/`). A listed host or prefix may resolve to a
    private or loopback address; nothing else may.
    """

    url_prefixes: tuple[_UrlPrefix, ...] = ()
    hosts: frozenset[str] = frozenset()
    folders: tuple[Path, ...] = ()
    fsspec_prefixes: tuple[str, ...] = ()

    @property
    def open_https(self) -> bool:
        """With no http(s) entry at all, https to any public address is allowed."""
        return not self.url_prefixes and not self.hosts

    @classmethod
    def parse(cls, entries: Sequence[str]) -> SourcePolicy:
        """Parse `media_sources`; a ValueError names the entry that cannot be used."""
        prefixes: list[_UrlPrefix] = []
        hosts: set[str] = set()
        folders: list[Path] = []
        fs_prefixes: list[str] = []
        for entry in entries:
            text = entry.strip()
            scheme = urlsplit(text).scheme.lower() if "://" in text else ""
            if scheme in HTTP_SCHEMES:
                parts = urlsplit(text)
                if not parts.hostname:
                    raise ValueError(f"media source {entry!r} has no host")
                prefixes.append(
                    _UrlPrefix(scheme, parts.hostname.lower(), parts.port, parts.path or "/")
                )
            elif scheme in REFUSED_SCHEMES:
                raise ValueError(
                    f"media source {entry!r}: {scheme}: URLs are never fetched; "
                    "list a base folder instead"
                )
            elif scheme:
                fs_prefixes.append(text.rstrip("/") + "/")
            elif text.startswith(("/", ".", "~")):
                folders.append(Path(text).expanduser().resolve())
            elif text and "/" not in text:
                hosts.add(text.lower())
            else:
                raise ValueError(
                    f"media source {entry!r} is neither a URL prefix, a host name nor a folder"
                    " (start folders with / or ./)"
                )
        return cls(tuple(prefixes), frozenset(hosts), tuple(folders), tuple(fs_prefixes))

    def check_url(self, url: str) -> tuple[str, str, int, bool]:
        """(scheme, host, port, listed) of an http(s) URL that may be fetched, else refuse."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        if scheme not in HTTP_SCHEMES:
            raise MediaRefused("scheme", f"scheme {scheme}: is not fetched")
        if not host:
            raise MediaRefused("source", "URL has no host")
        if parts.username or parts.password:
            raise MediaRefused("source", "URLs with credentials are not fetched")
        path = parts.path or "/"
        if ".." in PurePosixPath(unquote(path)).parts:
            raise MediaRefused("path_escape", "URL path contains '..'")
        listed = (scheme == "https" and host in self.hosts) or any(
            prefix.matches(scheme, host, parts.port, path) for prefix in self.url_prefixes
        )
        if not listed and not (self.open_https and scheme == "https"):
            raise MediaRefused("source", f"{scheme}://{host} is not in media_sources")
        return scheme, host, parts.port or _default_port(scheme), listed

    def check_path(self, value: str) -> Path:
        """The real path of a local file inside a base folder, else refuse."""
        if not self.folders:
            raise MediaRefused("source", "local paths are not fetched (no folder in media_sources)")
        if ".." in Path(value).parts:
            raise MediaRefused("path_escape", "path contains '..'")
        # The real path: symlinks resolved, so one pointing out of the folder is caught.
        real = Path(os.path.realpath(Path(value).expanduser()))
        if not any(real.is_relative_to(folder) for folder in self.folders):
            raise MediaRefused("path_escape", "path is outside the media_sources folders")
        return real

    def check_fsspec(self, url: str) -> str:
        if ".." in PurePosixPath(urlsplit(url).path).parts:
            raise MediaRefused("path_escape", "URL path contains '..'")
        if not any(url.startswith(prefix) for prefix in self.fsspec_prefixes):
            raise MediaRefused("source", "URL is not under an fsspec prefix of media_sources")
        return url


@dataclass(frozen=True)
class Fetched:
    """A fetched source: its bytes (None when unchanged, answered 304) and validators."""

    content: bytes | None
    sha256: str | None
    etag: str | None
    last_modified: str | None
    filename: str


def _filename(path: str) -> str:
    return PurePosixPath(unquote(path)).name or "media"


class Fetcher:
    """Reads media sources allowed by a `SourcePolicy`, at most `max_bytes` each."""

    def __init__(
        self,
        policy: SourcePolicy,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.policy = policy
        self._timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self._resolve = resolver

    def fetch(
        self,
        source: str,
        max_bytes: int,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        """Fetch `source` (URL, path or fsspec URL); conditional when validators are given."""
        scheme = urlsplit(source).scheme.lower() if ":" in source else ""
        if len(scheme) == 1:  # a Windows drive letter, not a scheme
            scheme = ""
        if scheme in HTTP_SCHEMES:
            return self._fetch_http(source, max_bytes, etag, last_modified)
        if scheme in REFUSED_SCHEMES:
            raise MediaRefused("scheme", f"scheme {scheme}: is not fetched")
        if scheme:
            url = self.policy.check_fsspec(source)
            with fsspec.open(url, "rb") as stream:
                content = _read_limited(iter(lambda: stream.read(CHUNK), b""), max_bytes)
            return _done(content, None, None, _filename(urlsplit(url).path))
        path = self.policy.check_path(source)
        try:
            with path.open("rb") as stream:
                content = _read_limited(iter(lambda: stream.read(CHUNK), b""), max_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise MediaRefused("not_found", "no such file") from None
        return _done(content, None, None, Path(source).name)

    def _fetch_http(
        self, url: str, max_bytes: int, etag: str | None, last_modified: str | None
    ) -> Fetched:
        headers = {"Accept-Encoding": "identity"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._request(url, headers)
            try:
                if response.status in (301, 302, 303, 307, 308):
                    location = response.headers.get("Location")
                    if not location:
                        raise MediaRefused(
                            "http_status", f"redirect {response.status} without Location"
                        )
                    url = urljoin(url, location)
                    continue
                if response.status == 304 and (etag or last_modified):
                    return Fetched(None, None, etag, last_modified, _filename(urlsplit(url).path))
                if response.status != 200:
                    raise MediaRefused("http_status", f"HTTP {response.status}")
                length = response.headers.get("Content-Length", "")
                if length.isdigit() and int(length) > max_bytes:
                    raise MediaRefused("too_large", f"larger than {max_bytes} bytes")
                # Undecoded: a compressed answer fails the signature check instead of being
                # inflated past the limit within one chunk.
                content = _read_limited(response.stream(CHUNK, decode_content=False), max_bytes)
                return _done(
                    content,
                    response.headers.get("ETag"),
                    response.headers.get("Last-Modified"),
                    _filename(urlsplit(url).path),
                )
            finally:
                response.release_conn()
                response.close()
        raise MediaRefused("redirects", f"more than {MAX_REDIRECTS} redirects")

    def _request(self, url: str, headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
        scheme, host, port, listed = self.policy.check_url(url)
        try:
            addresses = list(self._resolve(host, port))
        except OSError:
            raise MediaRefused("dns", f"cannot resolve {host}") from None
        if not addresses:
            raise MediaRefused("dns", f"cannot resolve {host}")
        address = addresses[0]
        if not listed and not _is_public(address):
            raise MediaRefused(
                "private_address", f"{host} resolves to a non-public address {address}"
            )
        parts = urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        default = port == _default_port(scheme)
        name = f"[{host}]" if ":" in host else host  # an IPv6 literal
        send_headers = {**headers, "Host": name if default else f"{name}:{port}"}
        # Connect to the address just checked; TLS still verifies the certificate of `host`.
        pool: urllib3.HTTPConnectionPool
        if scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address, port, server_hostname=host, assert_hostname=host,
                timeout=self._timeout, retries=False, maxsize=1,
            )  # fmt: skip
        else:
            pool = urllib3.HTTPConnectionPool(
                address, port, timeout=self._timeout, retries=False, maxsize=1
            )
        try:
            return pool.urlopen(
                "GET", target, headers=send_headers, redirect=False, preload_content=False,
                retries=False, assert_same_host=False,
            )  # fmt: skip
        except urllib3.exceptions.HTTPError as exc:
            raise MediaRefused("fetch_failed", f"{type(exc).__name__}") from None


def _read_limited(chunks: Iterator[bytes], max_bytes: int) -> bytes:
    """Read until the end or refuse as soon as more than `max_bytes` arrived."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise MediaRefused("too_large", f"larger than {max_bytes} bytes (cut off)")
        parts.append(chunk)
    return b"".join(parts)


def _done(content: bytes, etag: str | None, last_modified: str | None, name: str) -> Fetched:
    return Fetched(content, hashlib.sha256(content).hexdigest(), etag, last_modified, name)


# The signature each extension's files start with (Akeneo checks the same on save).
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "pdf": (b"%PDF-",),
    "tif": (b"II*\x00", b"MM\x00*"),
    "tiff": (b"II*\x00", b"MM\x00*"),
}


def check_content(
    filename: str, content: bytes, allowed_extensions: Sequence[str], *, image: bool
) -> str:
    """The lower-case extension if the attribute accepts this file, else refuse."""
    extension = PurePosixPath(filename).suffix.lstrip(".").lower()
    allowed = [item.lower() for item in allowed_extensions]
    if allowed and extension not in allowed:
        raise MediaRefused(
            "extension", f"extension {extension or '(none)'!r} not allowed ({', '.join(allowed)})"
        )
    signatures = SIGNATURES.get(extension)
    if signatures is None:
        if image:
            raise MediaRefused("signature", f"no known image signature for {extension!r}")
        return extension
    if not content.startswith(signatures):
        raise MediaRefused("signature", f"content is not a {extension} file")
    return extension
