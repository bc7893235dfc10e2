"""Token endpoint and bearer checks, with the real server's messages."""

from __future__ import annotations

from starlette.testclient import TestClient

from .conftest import Clock, get_token

TOKEN = "/api/oauth/v1/token"
CLIENT = ("sandbox-client", "sandbox-secret")


def post_token(client: TestClient, body: dict[str, object], auth: tuple[str, str] = CLIENT):  # type: ignore[no-untyped-def]
    return client.post(TOKEN, json=body, auth=auth)


def test_password_grant_returns_akeneo_token_shape(client: TestClient) -> None:
    data = get_token(client)
    assert set(data) == {"access_token", "expires_in", "token_type", "scope", "refresh_token"}
    assert data["expires_in"] == 60
    assert data["token_type"] == "bearer"
    assert data["scope"] is None


def test_form_encoded_token_request_is_accepted(client: TestClient) -> None:
    response = client.post(
        TOKEN,
        content="grant_type=password&username=admin&password=admin",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=CLIENT,
    )
    assert response.status_code == 200


def test_bad_client_secret(client: TestClient) -> None:
    body = {"grant_type": "password", "username": "admin", "password": "admin"}
    response = post_token(client, body, auth=("sandbox-client", "wrong"))
    assert response.status_code == 422
    assert response.json() == {
        "code": 422,
        "message": 'Parameter "client_id" is missing or does not match any client, '
        "or secret is invalid",
    }


def test_bad_user(client: TestClient) -> None:
    response = post_token(client, {"grant_type": "password", "username": "admin", "password": "x"})
    assert response.status_code == 422
    assert response.json()["message"] == "No user found for the given username and password"


def test_missing_password_and_unauthorized_grant(client: TestClient) -> None:
    missing = post_token(client, {"grant_type": "password", "username": "admin"})
    assert missing.json() == {
        "code": 422,
        "message": 'Parameter "grant_type", "username" or "password" is missing, empty or invalid',
    }
    grant = post_token(client, {"grant_type": "token"})
    assert grant.json()["message"] == "This grant type is not authorized for this client"


def test_refresh_rotates_and_old_refresh_token_is_refused(client: TestClient) -> None:
    first = get_token(client)
    body = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = post_token(client, body)
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    again = post_token(client, body)
    assert again.status_code == 422
    assert again.json()["message"] == "Refresh token is invalid or has expired"
    empty = post_token(client, {"grant_type": "refresh_token"})
    assert (
        empty.json()["message"] == 'Parameter "grant_type" or "refresh_token" is missing or empty'
    )


def test_wrong_content_type_and_oversized_body(client: TestClient) -> None:
    xml = client.post(
        TOKEN, content="<x/>", headers={"Content-Type": "application/xml"}, auth=CLIENT
    )
    assert xml.status_code == 415
    assert xml.json()["message"] == (
        '"application/xml" in "Content-Type" header is not valid. '
        'Only "application/json" or "application/x-www-form-urlencoded" are allowed.'
    )
    big = post_token(client, {"grant_type": "password", "username": "a" * 400, "password": "x"})
    assert big.status_code == 413
    assert big.json()["message"] == "Request content exceeded the maximum allowed size of 300 bytes"


def test_rest_routes_need_a_valid_unexpired_bearer(client: TestClient, clock: Clock) -> None:
    none = client.get("/api/rest/v1/products")
    assert none.status_code == 401
    assert none.json() == {"code": 401, "message": "Authentication is required"}
    bad = client.get("/api/rest/v1/products", headers={"Authorization": "Bearer nope"})
    assert bad.json() == {"code": 401, "message": "The access token provided is invalid."}
    headers = {"Authorization": f"Bearer {get_token(client)['access_token']}"}
    assert client.get("/api/rest/v1/products", headers=headers).status_code == 200
    clock.now += 61
    expired = client.get("/api/rest/v1/products", headers=headers)
    assert expired.status_code == 401
    assert expired.json()["message"] == "The access token provided has expired."
