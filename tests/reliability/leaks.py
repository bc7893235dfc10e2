"""Scanning everything a run produced for credentials and OAuth tokens.

Each scenario gives its sandbox unique credentials, so a hit is unambiguous. Tokens are
issued inside the sandbox and only their digests are stored, so the scanner also looks for
anything shaped like one: a `Bearer` header value, an `access_token`/`refresh_token` JSON
field, or a bare 43-character URL-safe string (what `secrets.token_urlsafe(32)` yields).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

BEARER = re.compile(r"Bearer\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)
TOKEN_FIELD = re.compile(r"(access|refresh)_token[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9._~+/-]{8,}")
TOKEN_SHAPE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")


@dataclass(frozen=True)
class Credentials:
    """The credentials of one scenario's sandbox; unique per test, so any hit is a leak."""

    client_id: str
    secret: str
    username: str
    password: str

    @classmethod
    def unique(cls) -> Credentials:
        tag = secrets.token_hex(6)
        return cls(f"rel-client-{tag}", f"s3cr3t-{tag}", f"rel-user-{tag}", f"pa55-{tag}")

    @property
    def hidden(self) -> tuple[str, ...]:
        """What must never appear anywhere (the client id is not a secret in Akeneo)."""
        return (self.secret, self.password)

    def __repr__(self) -> str:
        return f"Credentials(client_id={self.client_id!r}, <hidden>)"


def _looks_like_token(candidate: str) -> bool:
    return (
        any(c.isupper() for c in candidate)
        and any(c.islower() for c in candidate)
        and any(c.isdigit() for c in candidate)
    )


@dataclass
class LeakScanner:
    """Collects texts (outputs, logs, reports) and reports secrets found in them."""

    hidden: list[str]
    sources: list[tuple[str, str]] = field(default_factory=list)

    def add_secret(self, value: str) -> None:
        self.hidden.append(value)

    def add_text(self, label: str, text: str | bytes | None) -> None:
        if text is None:
            return
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        self.sources.append((label, text))

    def add_file(self, path: Path) -> None:
        if path.is_file():
            self.add_text(str(path), path.read_bytes())

    def add_files(self, paths: Iterable[Path]) -> None:
        for path in paths:
            self.add_file(path)

    def findings(self) -> list[str]:
        """`label: what` for each leak, never echoing the secret itself."""
        found: list[str] = []
        for label, text in self.sources:
            for index, value in enumerate(self.hidden):
                if value and value in text:
                    found.append(f"{label}: secret #{index} appears")
            if BEARER.search(text):
                found.append(f"{label}: a Bearer token appears")
            if TOKEN_FIELD.search(text):
                found.append(f"{label}: an access/refresh token field appears")
            if any(_looks_like_token(m.group()) for m in TOKEN_SHAPE.finditer(text)):
                found.append(f"{label}: a token-shaped string appears")
        return found

    def assert_clean(self) -> int:
        """Fail on any leak; return how many sources were scanned (for the tally)."""
        assert self.sources, "nothing was collected to scan"
        leaks = self.findings()
        assert not leaks, "secrets leaked: " + "; ".join(leaks)
        return len(self.sources)
