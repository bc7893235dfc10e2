"""OAuth tokens: password and refresh_token grants, expiry with an injectable clock.

Only SHA-256 digests of tokens are stored, so a database file never holds a usable token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from akeneo_sandbox.errors import ApiError
from akeneo_sandbox.store import Store

REFRESH_TTL = 1_209_600  # 14 days, Akeneo's default
BAD_CLIENT = 'Parameter "client_id" is missing or does not match any client, or secret is invalid'
BAD_PARAMETERS = 'Parameter "grant_type", "username" or "password" is missing, empty or invalid'
BAD_GRANT = "This grant type is not authorized for this client"
BAD_USER = "No user found for the given username and password"
MISSING_REFRESH = 'Parameter "grant_type" or "refresh_token" is missing or empty'
BAD_REFRESH = "Refresh token is invalid or has expired"
OTHER_GRANTS = frozenset({"token", "client_credentials", "authorization_code"})


@dataclass(frozen=True)
class Credentials:
    """The one API connection and user the sandbox accepts."""

    client_id: str
    secret: str
    username: str
    password: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class TokenService:
    """Issues, rotates and checks tokens; `clock` returns epoch seconds (tests inject it)."""

    def __init__(
        self, store: Store, credentials: Credentials, ttl: int, clock: Callable[[], float]
    ) -> None:
        self._store = store
        self._credentials = credentials
        self._ttl = ttl
        self._clock = clock

    def check_client(self, authorization: str | None) -> None:
        """HTTP Basic `client_id:secret` of the token request."""
        scheme, _, encoded = (authorization or "").partition(" ")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        client_id, sep, secret = decoded.partition(":")
        creds = self._credentials
        if not (
            scheme.lower() == "basic"
            and sep
            and _same(client_id, creds.client_id)
            and _same(secret, creds.secret)
        ):
            raise ApiError(422, BAD_CLIENT)

    def grant(self, body: dict[str, Any]) -> dict[str, Any]:
        """Answer a token request body whose client was already checked."""
        grant_type = body.get("grant_type")
        if grant_type == "refresh_token":
            return self._refresh(body.get("refresh_token"))
        if grant_type in OTHER_GRANTS:
            raise ApiError(422, BAD_GRANT)
        username, password = body.get("username"), body.get("password")
        if grant_type != "password" or not isinstance(username, str) or not username:
            raise ApiError(422, BAD_PARAMETERS)
        if not isinstance(password, str) or not password:
            raise ApiError(422, BAD_PARAMETERS)
        creds = self._credentials
        if not (_same(username, creds.username) and _same(password, creds.password)):
            raise ApiError(422, BAD_USER)
        return self._issue()

    def _refresh(self, refresh_token: object) -> dict[str, Any]:
        if not isinstance(refresh_token, str) or not refresh_token:
            raise ApiError(422, MISSING_REFRESH)
        digest = _digest(refresh_token)
        expires = self._store.token_expiry(digest, "refresh")
        if expires is None or expires <= self._clock():
            raise ApiError(422, BAD_REFRESH)
        # Rotation: a refresh token can be used once.
        self._store.delete_token(digest)
        return self._issue()

    def _issue(self) -> dict[str, Any]:
        now = self._clock()
        self._store.purge_tokens(now)
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self._store.save_token(_digest(access), "access", now + self._ttl)
        self._store.save_token(_digest(refresh), "refresh", now + REFRESH_TTL)
        return {
            "access_token": access,
            "expires_in": self._ttl,
            "token_type": "bearer",
            "scope": None,
            "refresh_token": refresh,
        }

    def check_bearer(self, authorization: str | None) -> None:
        """Raise 401 unless the header carries a known, unexpired access token."""
        if not authorization:
            raise ApiError(401, "Authentication is required")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Authentication is required")
        expires = self._store.token_expiry(_digest(token.strip()), "access")
        if expires is None:
            raise ApiError(401, "The access token provided is invalid.")
        if expires <= self._clock():
            raise ApiError(401, "The access token provided has expired.")
