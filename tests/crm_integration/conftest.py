"""Fixtures of the crm_integration tests: a connection to the live sandbox, and the OAuth consent walk."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from crm_integration import hooks
from crm_integration.models import CrmConnection
from crm_integration.services import connections


@pytest.fixture(autouse=True)
def _isolated_hooks():
    """Tests register sync starters and panels; each test starts from the app's own registrations."""
    with hooks.registry_snapshot():
        yield


@pytest.fixture
def connected(sandbox, org, admin_user) -> CrmConnection:
    """`org` connected to the live sandbox through the same services as the pages (credentials with a refresh
    token, then the org chosen)."""
    connections.pending_authorize_with_refresh_token(
        organization=org, actor=admin_user, credentials=sandbox.credentials()
    )
    return connections.connection_connect(organization=org, actor=admin_user).connection


def consent(sandbox, authorize_url: str, *, decision: str = "accept", crm_org_name: str = "") -> str:
    """Accepts (or rejects) the sandbox's consent page for `authorize_url` as the first user (of `crm_org_name`
    when given); returns the redirect it answers with."""
    page = sandbox.session.get(authorize_url, timeout=30)
    assert page.status_code == 200, page.text
    options = re.findall(r'<option value="(\d+)">([^<]*)</option>', page.text)
    user_ids = [uid for uid, text in options if not crm_org_name or text.endswith(crm_org_name)]
    assert user_ids, "the consent page lists no such user"
    params = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if csrf:
        params["csrfmiddlewaretoken"] = csrf.group(1)
    answer = sandbox.session.post(
        f"{sandbox.base_url}/oauth/v2/auth",
        data={**params, "user_id": user_ids[0], "decision": decision},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")
