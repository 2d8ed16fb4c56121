"""Zoho Accounts' side: consent page, authorization_code and refresh_token grants (form or query), errors as HTTP 200
with an `error` key, revoke, and the API's answers to missing, bad and expired tokens."""

from __future__ import annotations

import re
import urllib.parse

import pytest
import requests

from tests.crm_sandbox.test_records import error_of
from tests.fixtures.sandbox import SandboxServer

pytestmark = pytest.mark.e2e


def token_call(sandbox: SandboxServer, *, as_query: bool = False, **params: str) -> dict:
    url = f"{sandbox.base_url}/oauth/v2/token"
    response = (
        requests.post(url, params=params, timeout=10) if as_query else requests.post(url, data=params, timeout=10)
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def test_refresh_grant_form_or_query(sandbox: SandboxServer) -> None:
    c = sandbox.credentials_json()
    assert set(c) == {"client_id", "client_secret", "refresh_token", "accounts_url", "api_domain"}
    grant = {
        "grant_type": "refresh_token",
        "refresh_token": c["refresh_token"],
        "client_id": c["client_id"],
        "client_secret": c["client_secret"],
    }
    for as_query in (False, True):
        body = token_call(sandbox, as_query=as_query, **grant)
        assert set(body) >= {"access_token", "api_domain", "token_type", "expires_in"}
        assert (body["api_domain"], body["token_type"], body["expires_in"]) == (sandbox.base_url, "Bearer", 3600)
        assert "expires_in_sec" not in body
        org = requests.get(
            f"{sandbox.base_url}/crm/v8/org",
            headers={"Authorization": f"Zoho-oauthtoken {body['access_token']}"},
            timeout=10,
        )
        assert org.status_code == 200
    assert token_call(sandbox, **{**grant, "refresh_token": "1000.nope"}) == {"error": "invalid_code"}
    assert token_call(sandbox, **{**grant, "client_secret": "wrong"}) == {"error": "invalid_client"}
    assert "error" in token_call(sandbox, **{**grant, "grant_type": "password"})


def test_consent_page_code_grant_and_single_use_code(sandbox: SandboxServer) -> None:
    c = sandbox.credentials_json()
    session = requests.Session()
    params = {
        "response_type": "code",
        "client_id": c["client_id"],
        "scope": "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL",
        "redirect_uri": "http://127.0.0.1:9/callback",
        "access_type": "offline",
        "state": "xyz",
    }
    page = session.get(f"{sandbox.base_url}/oauth/v2/auth", params=params, timeout=10)
    assert page.status_code == 200
    assert "would like to access your CRM" in page.text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    user_id = re.search(r'<option value="(\d+)">Patricia Boyle', page.text).group(1)
    answer = session.post(
        f"{sandbox.base_url}/oauth/v2/auth",
        data={**params, "csrfmiddlewaretoken": csrf, "user_id": user_id, "decision": "accept"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    location = urllib.parse.urlsplit(answer.headers["Location"])
    query = dict(urllib.parse.parse_qsl(location.query))
    assert location.path == "/callback"
    assert (query["location"], query["accounts-server"], query["state"]) == ("us", sandbox.base_url, "xyz")
    exchange = {"grant_type": "authorization_code", "code": query["code"], "client_id": c["client_id"],
                "client_secret": c["client_secret"], "redirect_uri": params["redirect_uri"]}  # fmt: skip
    body = token_call(sandbox, **exchange)
    assert body["refresh_token"].startswith("1000.")
    assert body["api_domain"] == sandbox.base_url
    assert token_call(sandbox, **exchange) == {"error": "invalid_code"}

    denied = session.post(
        f"{sandbox.base_url}/oauth/v2/auth",
        data={**params, "csrfmiddlewaretoken": csrf, "user_id": user_id, "decision": "reject"},
        allow_redirects=False,
        timeout=10,
    )
    assert "error=access_denied" in denied.headers["Location"]
    bad_client = session.get(f"{sandbox.base_url}/oauth/v2/auth", params={**params, "client_id": "nope"}, timeout=10)
    assert bad_client.status_code == 400
    assert "client_id" in bad_client.text


def test_revoke_and_token_errors_on_the_api(sandbox: SandboxServer) -> None:
    url = f"{sandbox.base_url}/crm/v8/org"
    assert error_of(requests.get(url, timeout=10)) == (401, "AUTHENTICATION_FAILURE", {})
    assert error_of(requests.get(url, headers={"Authorization": "Zoho-oauthtoken 1000.bad"}, timeout=10))[:2] == (
        401,
        "INVALID_TOKEN",
    )
    token = sandbox.refresh_access_token()
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    assert requests.get(url, headers=headers, timeout=10).status_code == 200
    assert sandbox.expire_tokens() >= 1
    assert error_of(requests.get(url, headers=headers, timeout=10))[:2] == (401, "INVALID_TOKEN")

    c = sandbox.credentials_json()
    code_grant = {
        "grant_type": "refresh_token",
        "refresh_token": c["refresh_token"],
        "client_id": c["client_id"],
        "client_secret": c["client_secret"],
    }
    fresh = token_call(sandbox, **code_grant)["access_token"]
    revoked = requests.post(f"{sandbox.base_url}/oauth/v2/token/revoke", params={"token": fresh}, timeout=10)
    assert revoked.json() == {"status": "success"}
    assert requests.get(url, headers={"Authorization": f"Zoho-oauthtoken {fresh}"}, timeout=10).status_code == 401
