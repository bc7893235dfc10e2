"""HTTP client for the Akeneo REST API: auth, the one retry policy, pagination, upserts.

Its methods are named for what they do (`upsert_products`, `find_uuids`, `create_options`,
`attributes`, ...); the routes live here only. It knows nothing about mappings: it moves
JSON and reports one result per line sent.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import msgspec
import requests
from requests.adapters import HTTPAdapter
from urllib3 import encode_multipart_formdata
from urllib3.exceptions import NewConnectionError

from target_akeneo.concurrency import ConcurrencyLimit
from target_akeneo.errors import ApiError, AuthenticationError, PimConnectionError
from target_akeneo.settings import Credentials

API_PREFIX = "/api/rest/v1"
TOKEN_PATH = "/api/oauth/v1/token"  # noqa: S105 (a route, not a secret)
COLLECTION_TYPE = "application/vnd.akeneo.collection+json"
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRY_AFTER_CAP = 120.0
OPTION_REQUESTS_PER_SECOND = 3
MAX_TOKEN_RENEWALS = 2
MAX_LINES = 100  # Akeneo's limit per collection PATCH and per search page
PAGE_LIMIT = str(MAX_LINES)
UUID_LOOKUP_FIELD = "identifier"
_encode = msgspec.json.Encoder(order="sorted").encode


@dataclass(frozen=True)
class LineResult:
    """The answer to one line of a collection PATCH.

    `status_code` is None when no answer came; `exhausted` when retries ran out.
    """

    line: int
    status_code: int | None
    body: Mapping[str, Any]
    exhausted: bool = False

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def message(self) -> str:
        return str(self.body.get("message") or "")

    @property
    def errors(self) -> list[Any]:
        errors = self.body.get("errors")
        return errors if isinstance(errors, list) else []


@dataclass
class ClientCounters:
    """Request tallies for the run report (updated under the client's lock)."""

    requests: int = 0
    product_requests: int = 0
    retries: int = 0
    token_grants: int = 0
    by_route: dict[str, int] = field(default_factory=dict)
    concurrency: ConcurrencyLimit | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before a transient failure is tried again.

    One policy for whole requests (408, 429, 5xx, timeouts, dropped connections) and for
    single lines of a collection PATCH answered with a transient status.
    """

    max_retries: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    rand: Callable[[], float] = random.random

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Exponential backoff with equal jitter; Retry-After is a floor when present."""
        cap = min(self.backoff_max, self.backoff_base * (2.0**attempt))
        delay = cap / 2 + self.rand() * cap / 2
        return delay if retry_after is None else max(delay, retry_after)


def _message_of(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason or f"HTTP {response.status_code}"
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return response.reason or f"HTTP {response.status_code}"


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return min(float(value), RETRY_AFTER_CAP)
    return None


def _search(field_name: str, values: Iterable[str]) -> dict[str, str]:
    query = {field_name: [{"operator": "IN", "value": sorted(values)}]}
    return {"search": json.dumps(query), "limit": PAGE_LIMIT}


def product_identifier(product: Mapping[str, Any], identifier_attribute: str | None) -> str | None:
    """A product's identifier: its own field, else (uuid routes) its identifier value."""
    identifier = product.get("identifier")
    if identifier is None and identifier_attribute:
        entries = product.get("values", {}).get(identifier_attribute) or [{}]
        identifier = entries[0].get("data")
    return None if identifier is None else str(identifier)


def _is_refused(exc: Exception) -> bool:
    """True when no connection could be opened at all (refused, unknown host)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


class AkeneoClient:
    """Thread-safe Akeneo client; time and randomness are injectable for tests."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        max_concurrency: int = 2,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = credentials
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep, self._clock = sleep, clock
        self.session = session or requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max_concurrency + 2)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        # Requests in flight (at most 4 per connection, fewer after 429s); held only while
        # sending, not while a retry waits.
        self.concurrency = ConcurrencyLimit(max_concurrency, sleep=sleep, clock=clock)
        self._lock = threading.Lock()
        self._token_lock = threading.Lock()
        self._access_token: str | None = None
        self._refresh_token: str | None = None
        self._expires_at = 0.0
        self._renew_margin = 0.0
        self._connected = False
        self._option_calls: deque[float] = deque()
        self.counters = ClientCounters(concurrency=self.concurrency)

    # -- plumbing -----------------------------------------------------------------

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    def _wait_before_retry(self, attempt: int, retry_after: float | None = None) -> None:
        """Count one retry and sleep its backoff (whole requests and per-line resends)."""
        with self._lock:
            self.counters.retries += 1
        self._sleep(self.retry.delay(attempt, retry_after))

    def _count(self, route: str, *, product: bool) -> None:
        with self._lock:
            self.counters.requests += 1
            if product:
                self.counters.product_requests += 1
            self.counters.by_route[route] = self.counters.by_route.get(route, 0) + 1

    def _send(
        self, method: str, url: str, route: str, *, product: bool, **kwargs: Any
    ) -> requests.Response:
        self._count(route, product=product)
        ticket = self.concurrency.acquire(product=product)
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except BaseException:
            self.concurrency.release(ticket, None)
            raise
        self.concurrency.release(ticket, response.status_code, _retry_after(response))
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
        product: bool = False,
        auth: tuple[str, str] | None = None,
    ) -> requests.Response:
        """Send with retries (408/429/5xx/timeouts/dropped connections) and 401 renewal.

        Returns the final response (2xx or a non-retriable status); raises `ApiError`
        with `exhausted=True` when every try failed transiently.
        """
        url = self.url(path)
        route = path.split("?", 1)[0] if not path.startswith("http") else "next-page"
        attempt = 0
        renewals = 0
        while True:
            send_headers = dict(headers or {})
            token = None
            if authenticated:
                token = self._current_token()
                send_headers["Authorization"] = f"Bearer {token}"
            retry_after: float | None = None
            try:
                response = self._send(
                    method,
                    url,
                    route,
                    product=product,
                    params=params,
                    data=data,
                    headers=send_headers,
                    auth=auth,
                )
            except requests.Timeout:
                status: int | None = None
                reason = f"no answer within {self.timeout:g}s"
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                if not self._connected and _is_refused(exc):
                    raise PimConnectionError(
                        f"cannot connect to the PIM at {self.base_url}: {type(exc).__name__}"
                    ) from None
                status, reason = None, "connection dropped"
            else:
                self._connected = True
                if response.status_code == 401 and token and renewals < MAX_TOKEN_RENEWALS:
                    renewals += 1
                    self._renew(token)
                    continue
                if response.status_code not in RETRYABLE_STATUSES:
                    return response
                status = response.status_code
                reason = f"HTTP {status}: {_message_of(response)}"
                retry_after = _retry_after(response)
                response.close()
            if attempt >= self.retry.max_retries:
                raise ApiError(
                    f"{method} {route} failed after {attempt + 1} tries, last: {reason}",
                    status,
                    exhausted=True,
                )
            self._wait_before_retry(attempt, retry_after)
            attempt += 1

    # -- authentication -----------------------------------------------------------

    def _token_request(self, body: Mapping[str, str]) -> None:
        creds = self._credentials
        response = self.request(
            "POST",
            TOKEN_PATH,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            authenticated=False,
            auth=(creds.client_id, creds.secret),
        )
        if response.status_code != 200:
            raise AuthenticationError(
                f"the PIM at {self.base_url} refused the credentials "
                f"(HTTP {response.status_code}): {_message_of(response)}"
            )
        payload = response.json()
        with self._lock:
            self.counters.token_grants += 1
        self._access_token = str(payload["access_token"])
        self._refresh_token = payload.get("refresh_token")
        lifetime = float(payload.get("expires_in") or 3600)
        # Renew a little early so a token never expires while a request is in flight.
        self._renew_margin = min(60.0, lifetime / 5)
        self._expires_at = self._clock() + lifetime

    def _password_grant(self) -> None:
        creds = self._credentials
        self._token_request(
            {"grant_type": "password", "username": creds.username, "password": creds.password}
        )

    def _refresh_or_login(self) -> None:
        if self._refresh_token:
            try:
                self._token_request(
                    {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
                )
            except AuthenticationError:
                self._password_grant()
            return
        self._password_grant()

    def _current_token(self) -> str:
        with self._token_lock:
            if self._access_token is None:
                self._password_grant()
            elif self._clock() >= self._expires_at - self._renew_margin:
                self._refresh_or_login()
            assert self._access_token is not None
            return self._access_token

    def _renew(self, failed_token: str) -> None:
        with self._token_lock:
            if self._access_token == failed_token:
                self._refresh_or_login()

    def authenticate(self) -> None:
        """Get a first token now, so bad credentials fail before any work."""
        self._current_token()

    # -- reading ------------------------------------------------------------------

    def _get_json(
        self, path: str, params: Mapping[str, str] | None = None, *, product: bool = False
    ) -> Any:
        response = self.request("GET", path, params=params, product=product)
        if response.status_code != 200:
            raise ApiError(
                f"GET {path} failed (HTTP {response.status_code}): {_message_of(response)}",
                response.status_code,
            )
        return response.json()

    def _items(
        self, path: str, params: Mapping[str, str] | None = None, *, product: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Yield the items of a paginated list, following `_links.next.href`."""
        page = self._get_json(path, params or {"limit": PAGE_LIMIT}, product=product)
        while True:
            yield from page.get("_embedded", {}).get("items", [])
            next_href = page.get("_links", {}).get("next", {}).get("href")
            if not next_href:
                return
            page = self._get_json(next_href, product=product)

    def attributes(self, codes: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
        """Attributes with the given codes (all attributes when `codes` is None)."""
        params = None if codes is None else _search("code", codes)
        return self._items(f"{API_PREFIX}/attributes", params)

    def attributes_of_type(self, attribute_type: str) -> Iterator[dict[str, Any]]:
        return self._items(f"{API_PREFIX}/attributes", _search("type", [attribute_type]))

    def channels(self) -> Iterator[dict[str, Any]]:
        return self._items(f"{API_PREFIX}/channels")

    def locales(self) -> Iterator[dict[str, Any]]:
        return self._items(f"{API_PREFIX}/locales")

    def currencies(self) -> Iterator[dict[str, Any]]:
        return self._items(f"{API_PREFIX}/currencies")

    def families(self, codes: Iterable[str]) -> Iterator[dict[str, Any]]:
        return self._items(f"{API_PREFIX}/families", _search("code", codes))

    def categories(self, codes: Iterable[str]) -> Iterator[dict[str, Any]]:
        """The categories among `codes` that the PIM has (searched by `code` IN, 100 a request
        so that the query string stays short)."""
        wanted = sorted(set(codes))
        for start in range(0, len(wanted), MAX_LINES):
            yield from self._items(
                f"{API_PREFIX}/categories", _search("code", wanted[start : start + MAX_LINES])
            )

    def association_types(self) -> Iterator[dict[str, Any]]:
        return self._items(f"{API_PREFIX}/association-types")

    def attribute_options(self, attribute: str) -> Iterator[dict[str, Any]]:
        return self._items(f"{API_PREFIX}/attributes/{attribute}/options")

    def measurement_families(self) -> list[dict[str, Any]] | None:
        """Measurement families (a plain, unpaginated list); None when the PIM lacks them."""
        try:
            data = self._get_json(f"{API_PREFIX}/measurement-families")
        except ApiError as exc:
            if exc.status_code in (404, 405):
                return None
            raise
        return list(data if isinstance(data, list) else data.get("_embedded", {}).get("items", []))

    def find_products(
        self,
        identifiers: Sequence[str],
        *,
        by_uuid: bool = False,
        attributes: Sequence[str] = (),
    ) -> Iterator[dict[str, Any]]:
        """The existing products among `identifiers` (one search per 100), from `/products`
        or, `by_uuid`, from `/products-uuid` (their identifier is then a value); with
        `attributes`, only those attributes' values come back."""
        path = f"{API_PREFIX}/products-uuid" if by_uuid else f"{API_PREFIX}/products"
        for start in range(0, len(identifiers), MAX_LINES):
            chunk = identifiers[start : start + MAX_LINES]
            search = {UUID_LOOKUP_FIELD: [{"operator": "IN", "value": list(chunk)}]}
            params = {"search": json.dumps(search), "limit": str(MAX_LINES)}
            if attributes:
                params["attributes"] = ",".join(attributes)
            yield from self._items(path, params, product=True)

    def find_product_models(self, codes: Sequence[str]) -> Iterator[dict[str, Any]]:
        """The existing product models among `codes` (one search per 100)."""
        for start in range(0, len(codes), MAX_LINES):
            search = {
                "identifier": [{"operator": "IN", "value": list(codes[start : start + MAX_LINES])}]
            }
            params = {"search": json.dumps(search), "limit": str(MAX_LINES)}
            yield from self._items(f"{API_PREFIX}/product-models", params, product=True)

    def find_uuids(
        self, identifiers: Sequence[str], identifier_attribute: str | None
    ) -> dict[str, str]:
        """Uuid of each existing product among `identifiers` (one search per 100)."""
        found: dict[str, str] = {}
        named = (identifier_attribute,) if identifier_attribute else ()
        for product in self.find_products(identifiers, by_uuid=True, attributes=named):
            identifier = product_identifier(product, identifier_attribute)
            if identifier is not None:
                found[identifier] = str(product["uuid"])
        return found

    def existing_products(
        self, identifiers: Sequence[str], identifier_attribute: str | None
    ) -> set[str]:
        """The identifiers among `identifiers` the PIM has a product for (one search per 100)."""
        named = (identifier_attribute,) if identifier_attribute else ()
        found = (
            product_identifier(product, identifier_attribute)
            for product in self.find_products(identifiers, attributes=named)
        )
        return {identifier for identifier in found if identifier is not None}

    # -- writing ------------------------------------------------------------------

    def _patch_collection(
        self, path: str, lines: Sequence[bytes], *, product: bool
    ) -> list[LineResult]:
        """PATCH a collection (one JSON object per line) and parse every line result."""
        response = self.request(
            "PATCH",
            path,
            data=b"\n".join(lines),
            headers={"Content-Type": COLLECTION_TYPE},
            product=product,
        )
        if response.status_code != 200:
            error = ApiError(
                f"PATCH {path} failed (HTTP {response.status_code}): {_message_of(response)}",
                response.status_code,
            )
            try:
                body = response.json()
            except ValueError:
                body = {}
            error.body = body if isinstance(body, dict) else {}
            raise error
        results = []
        for position, raw in enumerate(response.content.split(b"\n"), start=1):
            if not raw.strip():
                continue
            body = json.loads(raw)
            status = body.get("status_code", body.get("code", 0))
            results.append(LineResult(int(body.get("line", position)), int(status), body))
        return results

    def _upsert_lines(
        self, path: str, lines: Sequence[bytes], *, product: bool
    ) -> list[LineResult]:
        """Send ≤100 lines; resend the lines whose answer is transient or missing.

        The same `RetryPolicy` as for whole requests: returns one final
        result per line, in the order of `lines`; `exhausted` marks those still unanswered.
        A refused token is raised (`AuthenticationError`): no line can succeed.
        """
        final: list[LineResult | None] = [None] * len(lines)
        remaining = list(range(len(lines)))
        attempt = 0
        while True:
            try:
                answers = self._patch_collection(
                    path, [lines[i] for i in remaining], product=product
                )
            except ApiError as exc:
                if exc.status_code == 401:
                    raise AuthenticationError(str(exc)) from None
                body = exc.body or {"message": str(exc)}
                for i in remaining:
                    final[i] = LineResult(i + 1, exc.status_code, body, exhausted=exc.exhausted)
                break
            by_line = {answer.line: answer for answer in answers}
            retry = []
            for position, i in enumerate(remaining, start=1):
                answer = by_line.get(position)
                if answer is None or answer.status_code in RETRYABLE_STATUSES:
                    retry.append(i)
                else:
                    final[i] = LineResult(i + 1, answer.status_code, answer.body)
            if not retry:
                break
            if attempt >= self.retry.max_retries:
                body = {"message": f"line still failing after {attempt + 1} tries"}
                for i in retry:
                    final[i] = LineResult(i + 1, None, body, exhausted=True)
                break
            self._wait_before_retry(attempt)
            attempt += 1
            remaining = retry
        return [result for result in final if result is not None]

    def upsert_products(self, lines: Sequence[bytes], *, by_uuid: bool = False) -> list[LineResult]:
        """Create or update up to 100 products (JSON lines) by identifier, or by uuid."""
        path = f"{API_PREFIX}/products-uuid" if by_uuid else f"{API_PREFIX}/products"
        return self._upsert_lines(path, lines, product=True)

    def upsert_product_models(self, lines: Sequence[bytes]) -> list[LineResult]:
        """Create or update up to 100 product models (JSON lines keyed by `code`)."""
        return self._upsert_lines(f"{API_PREFIX}/product-models", lines, product=True)

    def family_variant(self, family: str, code: str) -> dict[str, Any] | None:
        """A family variant of `family` (None when the PIM has no such variant of it)."""
        try:
            data = self._get_json(f"{API_PREFIX}/families/{family}/variants/{code}")
        except ApiError as exc:
            if exc.status_code == 404:
                return None
            raise
        return dict(data)

    def create_options(
        self,
        attribute: str,
        codes: Sequence[str],
        labels: Mapping[str, Mapping[str, str]] | None = None,
    ) -> list[LineResult]:
        """Create options of `attribute` (with `labels[code]` by locale), 100 per request,
        throttled to 3 requests per second.

        Returns one result per code, in order.
        """
        results: list[LineResult] = []
        for start in range(0, len(codes), MAX_LINES):
            chunk = codes[start : start + MAX_LINES]
            self._throttle_options()
            lines = [
                _encode({"code": code, "attribute": attribute, "labels": (labels or {}).get(code)})
                if labels and code in labels
                else _encode({"code": code, "attribute": attribute})
                for code in chunk
            ]
            path = f"{API_PREFIX}/attributes/{attribute}/options"
            results.extend(self._upsert_lines(path, lines, product=False))
        return results

    def delete_product(self, identifier: str) -> int:
        """Delete a product by identifier; the status code (204, or 404 when already gone)."""
        path = f"{API_PREFIX}/products/{quote(identifier, safe='')}"
        response = self.request("DELETE", path, product=True)
        response.close()
        return response.status_code

    def create_categories(self, categories: Sequence[Mapping[str, Any]]) -> list[LineResult]:
        """Create categories (parents before children in the list), 100 per request,
        throttled as options are. Returns one result per category, in order."""
        results: list[LineResult] = []
        for start in range(0, len(categories), MAX_LINES):
            chunk = categories[start : start + MAX_LINES]
            self._throttle_options()
            lines = [_encode(dict(category)) for category in chunk]
            results.extend(self._upsert_lines(f"{API_PREFIX}/categories", lines, product=False))
        return results

    def _throttle_options(self) -> None:
        with self._lock:
            now = self._clock()
            while self._option_calls and now - self._option_calls[0] >= 1.0:
                self._option_calls.popleft()
            wait = 0.0
            if len(self._option_calls) >= OPTION_REQUESTS_PER_SECOND:
                wait = 1.0 - (now - self._option_calls[0])
            self._option_calls.append(now + wait)
        if wait > 0:
            self._sleep(wait)

    def upload_media_file(
        self,
        identifier: str,
        attribute: str,
        locale: str | None,
        scope: str | None,
        filename: str,
        content: bytes,
        *,
        model: bool = False,
    ) -> tuple[str | None, str]:
        """Upload a file as a product's value (`model`: a product model's, `identifier` its
        code): (media code, "") or (None, Akeneo's message).

        The `product` part names the product by identifier, also for products written
        through /products-uuid: that is what Akeneo looks up (akeneo/api-php-client
        issue 298). A model is named by `code` in a `product_model` part.
        """
        key, field = ("code", "product_model") if model else ("identifier", "product")
        owner = json.dumps(
            {key: identifier, "attribute": attribute, "locale": locale, "scope": scope}
        )
        body, content_type = encode_multipart_formdata({field: owner, "file": (filename, content)})
        response = self.request(
            "POST",
            f"{API_PREFIX}/media-files",
            data=body,
            headers={"Content-Type": content_type},
        )
        if response.status_code != 201:
            errors = ""
            try:
                listed = response.json().get("errors") or []
                errors = "; ".join(str(e.get("message", "")) for e in listed if isinstance(e, dict))
            except (ValueError, AttributeError):
                pass
            message = _message_of(response)
            return None, f"HTTP {response.status_code}: {message}" + (
                f" {errors}" if errors else ""
            )
        location = response.headers.get("Location", "")
        return location.split("/media-files/", 1)[-1], ""

    def close(self) -> None:
        self.session.close()
