"""OAuth on the wire: the authorize URL and redirect, the code and refresh grants, Zoho's HTTP-200 errors,
revocation, and how access tokens are kept and shared."""

from __future__ import annotations

import datetime
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from cryptography.fernet import Fernet
from responses import matchers

from crm_integration.client import Credentials, CrmPermanent, CrmReauthenticate, CrmRetryLater, TokenSet
from crm_integration.zoho import connection_key_for, oauth
from crm_integration.zoho.http import RetryPolicy, Stats, Transport, new_session
from tests.crm_integration.zoho.support import ACCOUNTS, API, CREDS, CRM, TOKEN_URL, add_token, auth, token_answer


@pytest.fixture
def transport(fake_time):
    return Transport(
        session=new_session(),
        policy=RetryPolicy(budget=30, base_delay=0.5),
        limiter=None,
        stats=Stats(),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )


def test_data_centers_name_each_accounts_server_and_api_domain():
    assert oauth.DATA_CENTERS["ca"].accounts_url == "https://accounts.zohocloud.ca"
    assert oauth.DATA_CENTERS["eu"].api_domain == "https://www.zohoapis.eu"
    assert oauth.DATA_CENTERS["au"].accounts_url == "https://accounts.zoho.com.au"
    assert set(oauth.DATA_CENTERS) == {"us", "eu", "in", "au", "jp", "cn", "ca", "sa", "uk"}
    custom = oauth.custom_data_center("http://127.0.0.1:8090/")
    assert (custom.accounts_url, custom.api_domain) == ("http://127.0.0.1:8090", "http://127.0.0.1:8090")


def test_authorization_url_asks_for_offline_access_consent_and_every_scope():
    url = oauth.authorization_url(
        accounts_url="https://accounts.zoho.com",
        client_id="1000.CID",
        redirect_uri="https://books.example.com/settings/zoho-apps/callback/",
        state="st-123",
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://accounts.zoho.com/oauth/v2/auth"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "scope": "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ,"
        "ZohoCRM.notifications.ALL,ZohoSearch.securesearch.READ",
        "client_id": "1000.CID",
        "response_type": "code",
        "access_type": "offline",
        "prompt": "consent",
        "redirect_uri": "https://books.example.com/settings/zoho-apps/callback/",
        "state": "st-123",
    }


def test_the_redirect_chooses_the_users_data_center():
    grant = oauth.parse_authorization_redirect(
        {"code": "1000.grant", "location": "eu", "accounts-server": "https://accounts.zoho.eu", "state": "s1"},
        expected_state="s1",
    )
    assert grant == oauth.AuthorizationGrant(code="1000.grant", accounts_url="https://accounts.zoho.eu", location="eu")
    by_location = oauth.parse_authorization_redirect({"code": "c", "location": "ca", "state": "s"}, expected_state="s")
    assert by_location.accounts_url == "https://accounts.zohocloud.ca"
    custom = oauth.parse_authorization_redirect(
        {"code": "c", "accounts-server": "http://127.0.0.1:8090", "state": "s"},
        expected_state="s",
        allowed_accounts_urls=["http://127.0.0.1:8090"],
    )
    assert custom.accounts_url == "http://127.0.0.1:8090"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"code": "c", "accounts-server": "https://evil.example.com", "state": "s"}, "DC"),
        ({"code": "c", "location": "us", "state": "other"}, "STATE"),
        ({"location": "us", "state": "s"}, "MISSING_CODE"),
        ({"error": "access_denied", "state": "s"}, "access_denied"),
    ],
)
def test_a_redirect_that_cannot_be_trusted_is_refused(params, code):
    with pytest.raises(CrmPermanent) as exc:
        oauth.parse_authorization_redirect(params, expected_state="s")
    assert exc.value.code == code


def test_exchange_code_posts_a_form_and_returns_refresh_token_and_api_domain(rsps, transport):
    rsps.add(
        responses.POST,
        TOKEN_URL,
        json={**token_answer("1000.acc"), "refresh_token": "1000.new-refresh"},
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "authorization_code",
                    "client_id": "1000.CID",
                    "client_secret": "sec",
                    "redirect_uri": "https://b.example/cb",
                    "code": "1000.grant",
                }
            ),
            matchers.query_string_matcher(""),
        ],
    )
    token = oauth.exchange_code(
        transport=transport,
        accounts_url=ACCOUNTS,
        client_id="1000.CID",
        client_secret="sec",
        redirect_uri="https://b.example/cb",
        code="1000.grant",
    )
    assert (token.access_token, token.refresh_token, token.api_domain) == ("1000.acc", "1000.new-refresh", API)
    assert token.expires_at > datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=59)


def test_a_used_grant_code_answered_with_http_200_means_reconnect(rsps, transport):
    rsps.add(responses.POST, TOKEN_URL, json={"error": "invalid_code"}, status=200)
    with pytest.raises(CrmReauthenticate) as exc:
        oauth.exchange_code(
            transport=transport, accounts_url=ACCOUNTS, client_id="c", client_secret="s", redirect_uri="r", code="used"
        )
    assert exc.value.code == "invalid_code"


def test_exchange_without_a_refresh_token_is_refused(rsps, transport):
    rsps.add(responses.POST, TOKEN_URL, json=token_answer("1000.acc"))
    with pytest.raises(CrmPermanent, match="no refresh token"):
        oauth.exchange_code(accounts_url=ACCOUNTS, client_id="c", client_secret="s", redirect_uri="r", code="x")


@pytest.mark.parametrize(
    ("answer", "error_type", "code"),
    [
        ({"error": "invalid_code"}, CrmReauthenticate, "invalid_code"),
        ({"error": "invalid_client"}, CrmReauthenticate, "invalid_client"),
        (
            {
                "error_description": "You have made too many requests continuously. Please try again after some time.",
                "error": "Access Denied",
                "status": "failure",
            },
            CrmRetryLater,
            "Access Denied",
        ),
        ({"error": "something_new"}, CrmPermanent, "something_new"),
    ],
)
def test_refresh_errors_map_to_what_the_caller_should_do(rsps, transport, answer, error_type, code):
    rsps.add(responses.POST, TOKEN_URL, json=answer, status=200)
    with pytest.raises(error_type) as exc:
        oauth.refresh_access_token(CREDS, transport=transport)
    assert exc.value.code == code
    if error_type is CrmRetryLater:
        assert exc.value.wait == 60.0


def test_refresh_reads_the_old_milliseconds_form_of_expires_in(rsps, transport):
    rsps.add(
        responses.POST,
        TOKEN_URL,
        json={"access_token": "a", "api_domain": API, "expires_in": 3600000, "expires_in_sec": 3600},
    )
    token = oauth.refresh_access_token(CREDS, transport=transport)
    left = token.expires_at - datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(minutes=59) < left <= datetime.timedelta(hours=1)
    assert token.refresh_token == CREDS.refresh_token


def test_refresh_is_retried_when_the_accounts_server_fails(rsps, transport, fake_time):
    rsps.add(responses.POST, TOKEN_URL, status=503, body="<html>unavailable</html>")
    rsps.add(responses.POST, TOKEN_URL, json=token_answer("1000.after-retry"))
    assert oauth.refresh_access_token(CREDS, transport=transport).access_token == "1000.after-retry"
    assert len(fake_time.sleeps) == 1
    assert transport.stats.token_requests == 2


def test_revoke_posts_the_token_as_a_form(rsps, transport):
    rsps.add(
        responses.POST,
        f"{ACCOUNTS}/oauth/v2/token/revoke",
        json={"status": "success"},
        match=[matchers.urlencoded_params_matcher({"token": "1000.r"}), matchers.query_string_matcher("")],
    )
    oauth.revoke(transport=transport, accounts_url=ACCOUNTS, token="1000.r")


def test_revoke_failure_is_reported(rsps, transport):
    rsps.add(responses.POST, f"{ACCOUNTS}/oauth/v2/token/revoke", json={"status": "failure", "error": "nope"})
    with pytest.raises(CrmPermanent, match="nope"):
        oauth.revoke(transport=transport, accounts_url=ACCOUNTS, token="1000.r")


def test_clients_of_one_connection_share_one_token(rsps, make_client):
    add_token(rsps)
    rsps.add(responses.GET, f"{CRM}/org", json={"org": [{"id": "1", "license_details": {}}]}, match=[auth()])
    rsps.add(responses.GET, f"{CRM}/org", json={"org": [{"id": "1", "license_details": {}}]}, match=[auth()])
    first = make_client(connection_key="conn-shared")
    second = make_client(connection_key="conn-shared")
    first.get_org()
    second.get_org()
    assert first.stats.token_requests + second.stats.token_requests == 1


class DictCache:
    def __init__(self):
        self.data: dict = {}

    def get(self, key):
        return self.data.get(key)

    def set(self, key, token):
        self.data[key] = token

    def delete(self, key):
        self.data.pop(key, None)


def test_a_token_in_the_shared_cache_is_used_without_refreshing(rsps, make_client):
    cache = DictCache()
    key = f"conn-cached:{connection_key_for(CREDS)[5:17]}"
    cache.set(
        key,
        TokenSet(
            access_token="1000.from-cache",
            expires_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=30),
            api_domain=API,
        ),
    )
    rsps.add(responses.GET, f"{CRM}/org", json={"org": [{"id": "1"}]}, match=[auth("1000.from-cache")])
    client = make_client(connection_key="conn-cached", token_cache=cache)
    assert client.get_org().id == "1"
    assert client.stats.token_requests == 0


def test_a_token_close_to_expiry_is_refreshed_and_stored_without_the_refresh_token(rsps, make_client):
    cache = DictCache()
    key = f"conn-expiring:{connection_key_for(CREDS)[5:17]}"
    cache.set(
        key,
        TokenSet(
            access_token="1000.old",
            expires_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=30),
            api_domain=API,
        ),
    )
    add_token(rsps, "1000.new")
    rsps.add(responses.GET, f"{CRM}/org", json={"org": [{"id": "1"}]}, match=[auth("1000.new")])
    client = make_client(connection_key="conn-expiring", token_cache=cache)
    client.get_org()
    stored = cache.get(key)
    assert stored.access_token == "1000.new"
    assert stored.refresh_token == ""


def test_a_custom_accounts_server_cannot_send_the_client_to_another_host(rsps, make_client):
    local = Credentials(
        accounts_url="http://127.0.0.1:8090",
        api_domain="http://127.0.0.1:8090",
        client_id="c",
        client_secret="s",
        refresh_token="r",
    )
    rsps.add(responses.POST, "http://127.0.0.1:8090/oauth/v2/token", json=token_answer("t", api_domain=API))
    rsps.add(responses.GET, "http://127.0.0.1:8090/crm/v8/org", json={"org": [{"id": "9"}]})
    assert make_client(credentials=local).get_org().id == "9"


def test_encrypted_token_cache_round_trips_and_stores_no_plain_token():
    class Backend:
        def __init__(self):
            self.values: dict = {}
            self.timeouts: dict = {}

        def get(self, key):
            return self.values.get(key)

        def set(self, key, value, timeout=None):
            self.values[key] = value
            self.timeouts[key] = timeout

        def delete(self, key):
            self.values.pop(key, None)

    backend = Backend()
    cache = oauth.EncryptedTokenCache(backend, Fernet(Fernet.generate_key()))
    token = TokenSet(
        access_token="1000.secret-access",
        expires_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=10),
        api_domain=API,
    )
    cache.set("k", token)
    raw = backend.values["lb:crm-token:k"]
    assert b"1000.secret-access" not in raw
    assert 590 <= backend.timeouts["lb:crm-token:k"] <= 600
    assert cache.get("k") == token
    cache.delete("k")
    assert cache.get("k") is None
    backend.values["lb:crm-token:k"] = b"garbage"
    assert cache.get("k") is None


def test_no_secret_reaches_the_logs(rsps, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    add_token(rsps)
    rsps.add(responses.GET, f"{CRM}/Accounts", status=500, json={"code": "INTERNAL_ERROR", "message": "x"})
    rsps.add(responses.GET, f"{CRM}/Accounts", json={"data": [{"id": "1"}], "info": {"more_records": False}})
    client = make_client()
    assert [r["id"] for r in client.iter_records("Accounts", fields=["Account_Name"])] == ["1"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "zohoapis.eu/crm/v8/Accounts" in logged  # the retry was logged...
    for secret in (CREDS.client_secret, CREDS.refresh_token, "1000.access-1", "Account_Name"):
        assert secret not in logged  # ...without token, secret or query string


def test_new_credentials_under_the_same_connection_key_never_reuse_the_old_token(rsps, make_client):
    add_token(rsps, "1000.old-org-token")
    rsps.add(responses.GET, f"{CRM}/org", json={"org": [{"id": "old"}]}, match=[auth("1000.old-org-token")])
    assert make_client(connection_key="conn-7").get_org().id == "old"
    new = Credentials(ACCOUNTS, API, CREDS.client_id, CREDS.client_secret, "1000.another-refresh")
    rsps.add(responses.POST, TOKEN_URL, json=token_answer("1000.new-org-token"))
    rsps.add(responses.GET, f"{CRM}/org", json={"org": [{"id": "new"}]}, match=[auth("1000.new-org-token")])
    assert make_client(connection_key="conn-7", credentials=new).get_org().id == "new"
