"""Unit tests of AkeneoClient against a scripted transport (no network, no real sleeping)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter

from target_akeneo.client import AkeneoClient, RetryPolicy
from target_akeneo.errors import ApiError, AuthenticationError, PimConnectionError
from target_akeneo.settings import Credentials

CREDS = Credentials("cid", "csecret-XYZ", "user", "pw-XYZ")
Handler = Callable[[requests.PreparedRequest], "tuple[int, dict[str, str], Any] | Exception"]


class ScriptedAdapter(BaseAdapter):
    """Answers each request with the handler's (status, headers, body) or raises its exception."""

    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self.handler = handler
        self.seen: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.seen.append(request)
        outcome = self.handler(request)
        if isinstance(outcome, Exception):
            raise outcome
        status, headers, body = outcome
        response = requests.Response()
        response.status_code = status
        response.headers.update(headers)
        response.raw = io.BytesIO(body if isinstance(body, bytes) else json.dumps(body).encode())
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(
    handler: Handler, max_retries: int = 6, **kwargs: Any
) -> tuple[AkeneoClient, ScriptedAdapter, Clock]:
    adapter = ScriptedAdapter(handler)
    clock = Clock()
    session = requests.Session()
    client = AkeneoClient(
        "http://pim.test",
        CREDS,
        session=session,
        sleep=clock.sleep,
        clock=lambda: clock.now,
        retry=RetryPolicy(max_retries, backoff_base=1.0, backoff_max=8.0, rand=lambda: 0.5),
        **kwargs,
    )
    session.mount("http://", adapter)
    return client, adapter, clock


def token_body(n: int, expires_in: int = 3600) -> dict[str, Any]:
    return {"access_token": f"tok{n}", "refresh_token": f"ref{n}", "expires_in": expires_in}


def test_password_grant_uses_basic_auth_and_json() -> None:
    def handler(req: requests.PreparedRequest) -> Any:
        if req.url and req.url.endswith("/token"):
            return 200, {}, token_body(1)
        assert req.headers["Authorization"] == "Bearer tok1"
        return 200, {}, {"_embedded": {"items": [{"code": "a"}]}, "_links": {}}

    client, adapter, _ = make_client(handler)
    assert [item["code"] for item in client.channels()] == ["a"]
    token_request = adapter.seen[0]
    assert token_request.headers["Authorization"].startswith("Basic ")
    assert json.loads(token_request.body or b"") == {
        "grant_type": "password",
        "username": "user",
        "password": "pw-XYZ",
    }


def test_wrong_credentials_give_akeneos_message_without_secret() -> None:
    message = 'Parameter "client_id" is missing or does not match any client, or secret is invalid'
    client, _, _ = make_client(lambda req: (422, {}, {"code": 422, "message": message}))
    with pytest.raises(AuthenticationError) as caught:
        client.authenticate()
    assert message in str(caught.value)
    assert "XYZ" not in str(caught.value)


def test_pagination_follows_next_links() -> None:
    pages = {
        "http://pim.test/api/rest/v1/locales?limit=100": {
            "_embedded": {"items": [{"code": "en_US"}]},
            "_links": {"next": {"href": "http://pim.test/api/rest/v1/locales?page=2&limit=100"}},
        },
        "http://pim.test/api/rest/v1/locales?page=2&limit=100": {
            "_embedded": {"items": [{"code": "de_DE"}]},
            "_links": {},
        },
    }

    def handler(req: requests.PreparedRequest) -> Any:
        if req.url and req.url.endswith("/token"):
            return 200, {}, token_body(1)
        return 200, {}, pages[req.url or ""]

    client, _, _ = make_client(handler)
    codes = [i["code"] for i in client.locales()]
    assert codes == ["en_US", "de_DE"]


def test_retries_429_honouring_retry_after_then_backs_off_without_it() -> None:
    answers = iter(
        [
            (429, {"Retry-After": "5"}, {"code": 429, "message": "slow down"}),
            (429, {}, {"code": 429, "message": "slow down"}),
            (503, {}, {"message": "unavailable"}),
            requests.ConnectionError("reset by peer"),
            requests.ReadTimeout("slow"),
            (200, {}, {"_embedded": {"items": []}, "_links": {}}),
        ]
    )

    def handler(req: requests.PreparedRequest) -> Any:
        if req.url and req.url.endswith("/token"):
            return 200, {}, token_body(1)
        return next(answers)

    client, _, clock = make_client(handler)
    client.authenticate()
    assert list(client.channels()) == []
    # Retry-After 5 is a floor; then equal-jitter backoff 1*0.75, 2*0.75, 4*0.75, 8*0.75.
    assert clock.sleeps == [5.0, 1.5, 3.0, 6.0, 6.0]
    assert client.counters.retries == 5


def test_retries_are_bounded() -> None:
    def handler(req: requests.PreparedRequest) -> Any:
        if req.url and req.url.endswith("/token"):
            return 200, {}, token_body(1)
        return 500, {}, {"message": "boom"}

    client, _, clock = make_client(handler, max_retries=3)
    with pytest.raises(ApiError) as caught:
        list(client.channels())
    assert caught.value.exhausted
    assert caught.value.status_code == 500
    assert len(clock.sleeps) == 3


def test_401_refreshes_then_falls_back_to_password_grant() -> None:
    grants: list[str] = []

    def handler(req: requests.PreparedRequest) -> Any:
        if req.url and req.url.endswith("/token"):
            body = json.loads(req.body or b"")
            grants.append(body["grant_type"])
            if body["grant_type"] == "refresh_token":
                return 422, {}, {"code": 422, "message": "Refresh token is invalid or has expired"}
            return 200, {}, token_body(len(grants))
        if req.headers["Authorization"] == "Bearer tok1":
            return 401, {}, {"code": 401, "message": "The access token provided has expired."}
        return 200, {}, {"_embedded": {"items": [{"code": "ok"}]}}

    client, _, _ = make_client(handler)
    assert list(client.channels()) == [{"code": "ok"}]
    assert grants == ["password", "refresh_token", "password"]


def test_token_is_refreshed_proactively_before_expiry() -> None:
    grants: list[str] = []

    def handler(req: requests.PreparedRequest) -> Any:
        if req.url and req.url.endswith("/token"):
            grants.append(json.loads(req.body or b"")["grant_type"])
            return 200, {}, token_body(len(grants), expires_in=100)
        return 200, {}, {}

    client, _, clock = make_client(handler)
    list(client.channels())
    clock.now = 85.0  # within the last fifth of the token's life
    list(client.channels())
    assert grants == ["password", "refresh_token"]


def test_connection_refused_at_start_names_the_url() -> None:
    client = AkeneoClient("http://127.0.0.1:9", CREDS, retry=RetryPolicy(max_retries=0), timeout=2)
    with pytest.raises(
        PimConnectionError, match=r"cannot connect to the PIM at http://127\.0\.0\.1:9"
    ):
        client.authenticate()


def test_upsert_reads_every_line_with_code_fallback() -> None:
    body = b"\n".join(
        [
            b'{"line":1,"identifier":"a","status_code":201}',
            b'{"line":2,"identifier":"b","code":422,"message":"bad"}',
            b'{"line":3,"identifier":"c","status_code":204}',
        ]
    )

    def handler(req: requests.PreparedRequest) -> Any:
        if req.url and req.url.endswith("/token"):
            return 200, {}, token_body(1)
        assert req.url == "http://pim.test/api/rest/v1/products"
        assert req.headers["Content-Type"] == "application/vnd.akeneo.collection+json"
        assert req.body == b'{"a":1}\n{"b":1}\n{"c":1}'
        return 200, {}, body

    client, _, _ = make_client(handler)
    results = client.upsert_products([b'{"a":1}', b'{"b":1}', b'{"c":1}'])
    assert [(r.line, r.status_code, r.message, r.ok) for r in results] == [
        (1, 201, "", True),
        (2, 422, "bad", False),
        (3, 204, "", True),
    ]
    assert client.counters.product_requests == 1


def _lines_answered(*codes: int) -> bytes:
    return b"\n".join(
        json.dumps({"line": n, "status_code": code}).encode() for n, code in enumerate(codes, 1)
    )


def test_transient_lines_are_resent_alone_with_the_same_backoff() -> None:
    bodies: list[bytes] = []
    answers = iter(
        [_lines_answered(201, 429, 503), _lines_answered(204, 429), _lines_answered(201)]
    )

    def handler(req: requests.PreparedRequest) -> Any:
        if req.url and req.url.endswith("/token"):
            return 200, {}, token_body(1)
        bodies.append(bytes(req.body or b""))
        return 200, {}, next(answers)

    client, _, clock = make_client(handler)
    results = client.upsert_products([b'{"a":1}', b'{"b":1}', b'{"c":1}'], by_uuid=True)
    assert bodies == [b'{"a":1}\n{"b":1}\n{"c":1}', b'{"b":1}\n{"c":1}', b'{"c":1}']
    assert [(r.line, r.status_code) for r in results] == [(1, 201), (2, 204), (3, 201)]
    assert clock.sleeps == [0.75, 1.5]  # the whole-request backoff: 1*0.75, 2*0.75
    assert client.counters.retries == 2


def test_a_line_still_failing_after_max_retries_is_exhausted() -> None:
    def handler(req: requests.PreparedRequest) -> Any:
        if req.url and req.url.endswith("/token"):
            return 200, {}, token_body(1)
        if (req.body or b"").count(b"\n") == 1:  # the first request: both lines
            return 200, {}, _lines_answered(201, 503)
        return 200, {}, _lines_answered(503)

    client, _, clock = make_client(handler, max_retries=2)
    results = client.upsert_products([b'{"a":1}', b'{"b":1}'])
    assert results[0].ok
    assert (results[1].status_code, results[1].exhausted) == (None, True)
    assert "after 3 tries" in results[1].message
    assert len(clock.sleeps) == 2


def test_a_refused_request_answers_every_line_with_its_message() -> None:
    def handler(req: requests.PreparedRequest) -> Any:
        if req.url and req.url.endswith("/token"):
            return 200, {}, token_body(1)
        return 413, {}, {"code": 413, "message": "Request Entity Too Large"}

    client, _, _ = make_client(handler)
    results = client.upsert_products([b'{"a":1}', b'{"b":1}'])
    assert [(r.status_code, r.message, r.exhausted) for r in results] == [
        (413, "Request Entity Too Large", False)
    ] * 2


def test_a_token_refused_while_upserting_is_an_authentication_error() -> None:
    def handler(req: requests.PreparedRequest) -> Any:
        if req.url and req.url.endswith("/token"):
            return 200, {}, token_body(1)
        return 401, {}, {"code": 401, "message": "The access token provided is invalid."}

    client, _, _ = make_client(handler)
    with pytest.raises(AuthenticationError):
        client.upsert_products([b'{"a":1}'])


def test_find_uuids_searches_by_identifier_per_100() -> None:
    searches: list[list[str]] = []

    def handler(req: requests.PreparedRequest) -> Any:
        if req.url and req.url.endswith("/token"):
            return 200, {}, token_body(1)
        query = parse_qs(urlsplit(req.url or "").query)
        wanted = json.loads(query["search"][0])["identifier"][0]["value"]
        searches.append(wanted)
        items = [
            {"uuid": f"uuid-{sku}", "values": {"sku": [{"data": sku}]}}
            for sku in wanted
            if not sku.endswith("7")
        ]
        return 200, {}, {"_embedded": {"items": items}, "_links": {}}

    client, _, _ = make_client(handler)
    skus = [f"SKU-{n}" for n in range(150)]
    found = client.find_uuids(skus, "sku")
    assert [len(chunk) for chunk in searches] == [100, 50]
    assert found["SKU-1"] == "uuid-SKU-1"
    assert "SKU-7" not in found
    assert len(found) == 135


def test_option_requests_are_throttled_to_three_per_second() -> None:
    sent: list[bytes] = []

    def handler(req: requests.PreparedRequest) -> Any:
        if req.url and req.url.endswith("/token"):
            return 200, {}, token_body(1)
        sent.append(bytes(req.body or b""))
        return 200, {}, b'{"line":1,"code":"x","status_code":201}'

    client, _, clock = make_client(handler)
    for _ in range(4):
        assert client.create_options("color", ["x"])[0].ok
    assert clock.sleeps == [1.0]
    assert sent[0] == b'{"attribute":"color","code":"x"}'
