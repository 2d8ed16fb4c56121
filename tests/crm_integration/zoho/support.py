"""Constants and helpers shared by the Zoho client's tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import responses

from crm_integration.client import Credentials

ACCESS_TOKEN = "1000.access-1"
ACCOUNTS = "https://accounts.zoho.eu"
API = "https://www.zohoapis.eu"
CRM = f"{API}/crm/v8"
TOKEN_URL = f"{ACCOUNTS}/oauth/v2/token"
CREDS = Credentials(
    accounts_url=ACCOUNTS,
    api_domain=API,
    client_id="1000.CLIENTID",
    client_secret="s3cr3t-client-secret",
    refresh_token="1000.refresh-token-value",
)


@dataclass
class FakeTime:
    """A clock that only moves when the client sleeps: backoff is exercised without waiting."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def token_answer(access_token: str = ACCESS_TOKEN, api_domain: str = API, expires_in: int = 3600) -> dict:
    return {"access_token": access_token, "api_domain": api_domain, "token_type": "Bearer", "expires_in": expires_in}


def add_token(rsps, access_token: str = ACCESS_TOKEN, **kwargs) -> None:
    rsps.add(
        responses.POST,
        TOKEN_URL,
        json=token_answer(access_token, **kwargs),
        match=[
            responses.matchers.urlencoded_params_matcher(
                {
                    "grant_type": "refresh_token",
                    "client_id": CREDS.client_id,
                    "client_secret": CREDS.client_secret,
                    "refresh_token": CREDS.refresh_token,
                }
            )
        ],
    )


def auth(token: str = ACCESS_TOKEN):
    return responses.matchers.header_matcher({"Authorization": f"Zoho-oauthtoken {token}"})


def error(code: str, message: str, details: dict | None = None) -> dict:
    return {"code": code, "details": details or {}, "message": message, "status": "error"}
