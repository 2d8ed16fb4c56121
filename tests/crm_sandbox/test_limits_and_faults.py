"""Edition limits (credits per 24 h, concurrency) answered 429 TOO_MANY_REQUESTS, fault injection (5xx, 429,
expired, dropped connections, a drop after a committed write), and the control API's own guard and errors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.crm_sandbox.test_records import error_of, insert
from tests.fixtures.sandbox import SandboxServer

pytestmark = pytest.mark.e2e


def account_names(sandbox: SandboxServer) -> set[str]:
    body = sandbox.api("GET", "Accounts", params={"fields": "Account_Name"}).json()
    return {r["Account_Name"] for r in body["data"]}


def test_credits_per_day_then_429(sandbox: SandboxServer) -> None:
    sandbox.access_token()
    sandbox.set_org(api_credits=3)
    codes = [sandbox.api("GET", "org").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert error_of(sandbox.api("GET", "org"))[:2] == (429, "TOO_MANY_REQUESTS")
    counters = sandbox.counters()
    assert counters["calls"]["GET /crm/v8/org"] == 5
    assert next(iter(counters["credits_used"].values())) == 3
    assert counters["rejected"]["credits"] == 2


def test_concurrency_limit_then_429(sandbox: SandboxServer) -> None:
    token = sandbox.access_token()
    sandbox.set_org(concurrency=1)
    sandbox.set_faults(slow=1.0, slow_ms=700)
    url = f"{sandbox.base_url}/crm/v8/org"
    with ThreadPoolExecutor(max_workers=3) as pool:
        statuses = sorted(
            pool.map(
                lambda _: (
                    requests.get(url, headers={"Authorization": f"Zoho-oauthtoken {token}"}, timeout=30).status_code
                ),
                range(3),
            )
        )
    assert statuses[0] == 200
    assert 429 in statuses
    assert sandbox.counters()["rejected"]["concurrency"] >= 1


def test_professional_edition_serves_15_parallel_calls(sandbox: SandboxServer) -> None:
    token = sandbox.access_token()
    url = f"{sandbox.base_url}/crm/v8/Accounts?fields=Account_Name"
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(
            pool.map(
                lambda _: (
                    requests.get(url, headers={"Authorization": f"Zoho-oauthtoken {token}"}, timeout=30).status_code
                ),
                range(36),
            )
        )
    assert statuses == [200] * 36


def test_faults_happen_before_writes(sandbox: SandboxServer) -> None:
    before = account_names(sandbox)
    sandbox.set_faults(**{"5xx": 1.0})
    failed = sandbox.api("POST", "Accounts", json={"data": [{"Account_Name": "Never Written"}]})
    assert error_of(failed)[:2] == (500, "INTERNAL_ERROR")
    sandbox.set_faults(error_429=1.0)
    assert error_of(sandbox.api("GET", "org"))[:2] == (429, "TOO_MANY_REQUESTS")
    sandbox.set_faults(drop=1.0)
    with pytest.raises(requests.ConnectionError):
        sandbox.api("POST", "Accounts", json={"data": [{"Account_Name": "Never Written Either"}]})
    sandbox.set_faults()
    assert account_names(sandbox) == before


def test_expired_fault_answers_invalid_token(sandbox: SandboxServer) -> None:
    token = sandbox.access_token()
    sandbox.set_faults(expired=1.0)
    response = requests.get(
        f"{sandbox.base_url}/crm/v8/org", headers={"Authorization": f"Zoho-oauthtoken {token}"}, timeout=10
    )
    assert error_of(response)[:2] == (401, "INVALID_TOKEN")
    # Faults never touch the control API or the token endpoint.
    assert sandbox.counters()["total_calls"] >= 1
    sandbox.set_faults()
    assert sandbox.api("GET", "org").status_code == 200


def test_drop_after_write_commits_the_write(sandbox: SandboxServer) -> None:
    sandbox.access_token()
    sandbox.set_faults(after_write=1.0)
    with pytest.raises(requests.ConnectionError):
        sandbox.api("POST", "Accounts", json={"data": [{"Account_Name": "Written Then Dropped"}]})
    sandbox.set_faults()
    assert "Written Then Dropped" in account_names(sandbox)


def test_seeded_fault_sequence_repeats(sandbox: SandboxServer) -> None:
    token = sandbox.access_token()
    url = f"{sandbox.base_url}/crm/v8/org"

    def run() -> list[int]:
        sandbox.set_faults(**{"5xx": 0.5, "seed": 7})
        return [
            requests.get(url, headers={"Authorization": f"Zoho-oauthtoken {token}"}, timeout=10).status_code
            for _ in range(12)
        ]

    first, second = run(), run()
    assert first == second
    assert {200, 500} == set(first)


def test_control_api_guard_and_bad_input(sandbox: SandboxServer) -> None:
    url = f"{sandbox.base_url}/sandbox/api/faults"
    assert requests.post(url, json={"5xx": 1}, timeout=10).status_code == 401
    wrong_key = requests.get(url, headers={"X-Sandbox-Admin-Key": "nope"}, timeout=10)
    assert wrong_key.status_code == 401
    headers = {"X-Sandbox-Admin-Key": sandbox.admin_key}
    bad_rate = requests.post(url, json={"5xx": 3}, headers=headers, timeout=10)
    assert bad_rate.status_code == 400
    assert "5xx" in bad_rate.json()["message"]
    unknown = requests.post(url, json={"fire": 1}, headers=headers, timeout=10)
    assert "unknown fault setting 'fire'" in unknown.json()["message"]
    bad_reset = requests.post(
        f"{sandbox.base_url}/sandbox/api/reset", json={"accounts": -1}, headers=headers, timeout=10
    )
    assert (bad_reset.status_code, bad_reset.json()["field"]) == (400, "accounts")
    not_json = requests.post(f"{sandbox.base_url}/sandbox/api/org", data="{", headers=headers, timeout=10)
    assert not_json.status_code == 400
    insert(sandbox, "Accounts", {"Account_Name": "Still fine"})
    assert sandbox.set_faults() == {
        "5xx": 0.0,
        "429": 0.0,
        "slow": 0.0,
        "drop": 0.0,
        "expired": 0.0,
        "after_write": 0.0,
        "slow_ms": 1500,
        "seed": None,
    }
