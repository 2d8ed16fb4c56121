"""Connecting a Books organization to a CRM organization, and the connection's life afterwards.

The connect flow, whichever way the credentials arrive:
1. `oauth_start` → the CRM's consent page → `oauth_finish` (the authorization-code flow), or
   `self_client_authorize` (client id, secret and a grant code made in the CRM's API console), or
   `pending_authorize_with_refresh_token` (the integration file). Each leaves a `PendingConnection` holding the
   encrypted refresh token and the CRM org(s) it reaches.
2. `connection_connect(crm_org_id=...)`: the prerequisite checks (edition Professional or above; the same base
   currency as Books), the one-way rule (a CRM org another Books org already syncs both ways), then the
   `CrmConnection` is saved and the pending one dropped.

Then: `connection_disable` / `connection_enable`, `connection_pause` / `connection_resume`,
`connection_set_sync_options`, `connection_set_transactions`, `connection_sync_now` (Instant Sync).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from books.errors import ApplicationError, Conflict
from books.models import Organization, User
from crm_integration import crypto, hooks
from crm_integration.client import Credentials, CrmClient, OrgInfo
from crm_integration.datacenters import (
    DATA_CENTERS,
    data_center_for_accounts_url,
    data_center_urls,
    is_http_url,
    normalize_url,
)
from crm_integration.models import (
    SYNC_INTERVAL_MAX,
    SYNC_INTERVAL_MIN,
    ConnectionStatus,
    ConnectMethod,
    CrmConnection,
    DataCenter,
    ModuleConfig,
    ModuleConfigDraft,
    PendingConnection,
    Provider,
    SyncExtent,
    SyncModule,
)
from crm_integration.services import clients

PENDING_TTL = datetime.timedelta(minutes=30)
OAUTH_CALLBACK_PATH = "/settings/zoho-apps/oauth/callback/"

# CRM editions by rank; the integration needs Professional or above (the seed's first prerequisite).
EDITION_RANK: dict[str, int] = {
    "free": 0,
    "standard": 1,
    "starter": 1,
    "professional": 2,
    "enterprise": 3,
    "zohoone": 3,
    "ultimate": 4,
    "crmplus": 4,
}
REQUIRED_EDITION = "professional"


@dataclass(frozen=True)
class CrmOrgChoice:
    """A CRM org a token reaches, as stored in PendingConnection.crm_orgs."""

    id: str
    name: str
    edition: str
    currency: str
    email: str = ""
    country_code: str = ""
    mc_status: bool = False

    @classmethod
    def from_info(cls, info: OrgInfo) -> CrmOrgChoice:
        return cls(
            id=str(info.id),
            name=info.company_name,
            edition=(info.edition or "").lower(),
            currency=(info.currency_iso or "").upper(),
            email=info.primary_email,
            country_code=info.country_code,
            mc_status=bool(info.mc_status),
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CrmOrgChoice:
        return cls(**{k: data.get(k, "") for k in ("id", "name", "edition", "currency", "email", "country_code")})

    @property
    def edition_label(self) -> str:
        return self.edition.title() if self.edition else "unknown"


@dataclass(frozen=True)
class Endpoint:
    data_center: str
    accounts_url: str
    api_domain: str  # may be empty for a custom host until the token response names it


@dataclass(frozen=True)
class ConnectOutcome:
    connection: CrmConnection
    one_way_reason: str
    crm_org_changed: bool
    reset_extents: tuple[str, ...] = ()


def redirect_uri() -> str:
    return f"{settings.LB_PUBLIC_URL.rstrip('/')}{OAUTH_CALLBACK_PATH}"


def installation_client() -> dict[str, str]:
    """The OAuth client this installation is configured with (settings.LB_ZOHO_*), the Connect form's start.
    The secret is never part of it: only whether one is configured."""
    return {
        "data_center": settings.LB_ZOHO_DATA_CENTER if settings.LB_ZOHO_DATA_CENTER in DataCenter.values else "us",
        "accounts_url": normalize_url(settings.LB_ZOHO_ACCOUNTS_URL),
        "api_domain": normalize_url(settings.LB_ZOHO_API_DOMAIN),
        "client_id": (settings.LB_ZOHO_CLIENT_ID or "").strip(),
        "has_secret": "yes" if settings.LB_ZOHO_CLIENT_SECRET else "",
    }


def shared_with_crm(organization: Organization) -> dict[str, str]:
    """What the seed's Insight says is shared with the CRM on connect, with this org's actual values."""
    return {"name": organization.name, "email": organization.email, "country": organization.country}


# --- inputs -------------------------------------------------------------------------------------------------


def endpoint_resolve(*, data_center: str, accounts_url: str = "", api_domain: str = "") -> Endpoint:
    """The accounts server and API domain for a data center choice; "custom" takes them as given."""
    if data_center not in DataCenter.values:
        raise ApplicationError(
            f"data_center: '{data_center}' is not one of {', '.join(DataCenter.values)}", field="data_center"
        )
    if data_center != DataCenter.CUSTOM:
        urls = data_center_urls(data_center)
        assert urls is not None
        return Endpoint(data_center=data_center, accounts_url=urls[0], api_domain=urls[1])
    accounts_url = normalize_url(accounts_url)
    api_domain = normalize_url(api_domain)
    if not accounts_url:
        raise ApplicationError(
            "accounts_url: a custom data center needs the accounts server URL (e.g. http://127.0.0.1:8090)",
            field="accounts_url",
        )
    if not is_http_url(accounts_url):
        raise ApplicationError(
            f"accounts_url: '{accounts_url[:100]}' is not an http(s) URL such as http://127.0.0.1:8090",
            field="accounts_url",
        )
    if api_domain and not is_http_url(api_domain):
        raise ApplicationError(
            f"api_domain: '{api_domain[:100]}' is not an http(s) URL such as http://127.0.0.1:8090",
            field="api_domain",
        )
    return Endpoint(data_center=DataCenter.CUSTOM, accounts_url=accounts_url, api_domain=api_domain)


def _client_id_clean(client_id: str) -> str:
    client_id = (client_id or "").strip()
    if not client_id:
        raise ApplicationError("client_id: the Client ID from the CRM's API console is required", field="client_id")
    if len(client_id) > 200 or any(c.isspace() for c in client_id):
        raise ApplicationError("client_id: must be one word of at most 200 characters", field="client_id")
    return client_id


def _encrypted_secret(*, organization: Organization, client_id: str, client_secret: str) -> str:
    """The encrypted client secret to use: the one entered, or (left blank on Update Credentials) the one already
    saved for the same client id."""
    client_secret = (client_secret or "").strip()
    if client_secret:
        if len(client_secret) > 500 or any(c.isspace() for c in client_secret):
            raise ApplicationError("client_secret: must be one word of at most 500 characters", field="client_secret")
        return crypto.encrypt(client_secret)
    existing = CrmConnection.objects.filter(organization=organization).first()
    if existing is not None and existing.client_id == client_id and existing.encrypted_client_secret:
        return existing.encrypted_client_secret
    if client_id == installation_client()["client_id"] and settings.LB_ZOHO_CLIENT_SECRET:
        return crypto.encrypt(settings.LB_ZOHO_CLIENT_SECRET)
    raise ApplicationError(
        "client_secret: the Client Secret from the CRM's API console is required", field="client_secret"
    )


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _new_pending(
    *,
    organization: Organization,
    actor: User,
    method: str,
    endpoint: Endpoint,
    client_id: str,
    encrypted_secret: str,
) -> PendingConnection:
    PendingConnection.objects.filter(organization=organization).delete()
    return PendingConnection.objects.create(
        organization=organization,
        method=method,
        data_center=endpoint.data_center,
        accounts_url=endpoint.accounts_url,
        api_domain=endpoint.api_domain,
        client_id=client_id,
        encrypted_client_secret=encrypted_secret,
        created_by=actor,
    )


def pending_get(*, organization: Organization) -> PendingConnection | None:
    pending = PendingConnection.objects.filter(organization=organization).first()
    if pending is not None and pending.created_at < timezone.now() - PENDING_TTL:
        pending.delete()
        return None
    return pending


def pending_discard(*, organization: Organization) -> None:
    PendingConnection.objects.filter(organization=organization).delete()


def pending_org_choices(pending: PendingConnection) -> list[CrmOrgChoice]:
    return [CrmOrgChoice.from_json(o) for o in pending.crm_orgs or []]


# --- 1. authorizing ------------------------------------------------------------------------------------------


def oauth_start(
    *,
    organization: Organization,
    actor: User,
    data_center: str,
    client_id: str,
    client_secret: str,
    accounts_url: str = "",
    api_domain: str = "",
) -> tuple[str, str]:
    """Saves what was entered and returns (the CRM's consent URL, the raw `state`). The caller binds `state` to
    the browser session; `oauth_finish` checks both."""
    endpoint = endpoint_resolve(data_center=data_center, accounts_url=accounts_url, api_domain=api_domain)
    client_id = _client_id_clean(client_id)
    encrypted = _encrypted_secret(organization=organization, client_id=client_id, client_secret=client_secret)
    state = secrets.token_urlsafe(32)
    pending = _new_pending(
        organization=organization,
        actor=actor,
        method=ConnectMethod.OAUTH,
        endpoint=endpoint,
        client_id=client_id,
        encrypted_secret=encrypted,
    )
    pending.state_hash = _hash(state)
    pending.save(update_fields=["state_hash", "updated_at"])
    url = clients.oauth_authorization_url(
        accounts_url=endpoint.accounts_url, client_id=client_id, redirect_uri=redirect_uri(), state=state
    )
    return url, state


def oauth_finish(
    *,
    organization: Organization,
    actor: User,
    state: str,
    session_state: str,
    code: str = "",
    accounts_server: str = "",
    error: str = "",
) -> PendingConnection:
    """The OAuth callback: checks `state` against the session and the pending connection, exchanges the code for
    a refresh token, and reads the CRM org(s) it reaches."""
    pending = pending_get(organization=organization)
    if (
        not state
        or not session_state
        or not hmac.compare_digest(state, session_state)
        or pending is None
        or pending.method != ConnectMethod.OAUTH
        or not hmac.compare_digest(_hash(state), pending.state_hash)
    ):
        raise ApplicationError(
            "state: this sign-in does not match a Connect started from this browser in the last 30 minutes; "
            "click Connect again",
            field="state",
            status=400,
        )
    if error:
        pending.delete()
        reason = "access was denied" if error == "access_denied" else f"the CRM answered '{error[:80]}'"
        raise ApplicationError(f"authorization: Zoho CRM did not grant access ({reason})", field="authorization")
    code = (code or "").strip()
    if not code:
        raise ApplicationError("code: the CRM sent no authorization code; click Connect again", field="code")
    endpoint = _callback_endpoint(pending, accounts_server)
    secret = crypto.decrypt(pending.encrypted_client_secret)
    with clients.crm_errors(field="code", authorizing=True):
        tokens = clients.oauth_exchange_code(
            accounts_url=endpoint.accounts_url,
            client_id=pending.client_id,
            client_secret=secret,
            code=code,
            redirect_uri=redirect_uri(),
        )
    # The state is single use.
    pending.state_hash = ""
    return _pending_authorized(
        pending, endpoint=endpoint, tokens_refresh=tokens.refresh_token, tokens_api=tokens.api_domain
    )


def _callback_endpoint(pending: PendingConnection, accounts_server: str) -> Endpoint:
    """Zoho sends the user's own data center back as `accounts-server`; a Zoho data center may switch to another
    Zoho data center, never to another host. A custom host must come back as itself."""
    current = Endpoint(pending.data_center, pending.accounts_url, pending.api_domain)
    named = normalize_url(accounts_server)
    if not named or named == pending.accounts_url:
        return current
    if pending.data_center != DataCenter.CUSTOM:
        dc = data_center_for_accounts_url(named)
        if dc is not None:
            return Endpoint(dc, DATA_CENTERS[dc][0], DATA_CENTERS[dc][1])
    raise ApplicationError(
        f"accounts-server: the CRM named '{named[:100]}' as its accounts server, not {pending.accounts_url}; "
        "choose that data center and click Connect again",
        field="accounts_server",
    )


def self_client_authorize(
    *,
    organization: Organization,
    actor: User,
    data_center: str,
    client_id: str,
    client_secret: str,
    grant_code: str,
    accounts_url: str = "",
    api_domain: str = "",
) -> PendingConnection:
    """The self-client path for headless set-ups: a grant code generated in the CRM's API console (Self Client)
    is exchanged for a refresh token here, without a browser redirect."""
    endpoint = endpoint_resolve(data_center=data_center, accounts_url=accounts_url, api_domain=api_domain)
    client_id = _client_id_clean(client_id)
    encrypted = _encrypted_secret(organization=organization, client_id=client_id, client_secret=client_secret)
    grant_code = (grant_code or "").strip()
    if not grant_code:
        raise ApplicationError(
            "grant_code: paste the grant code generated for this client in the CRM's API console (Self Client)",
            field="grant_code",
        )
    with clients.crm_errors(field="grant_code", authorizing=True):
        tokens = clients.oauth_exchange_code(
            accounts_url=endpoint.accounts_url,
            client_id=client_id,
            client_secret=crypto.decrypt(encrypted),
            code=grant_code,
            redirect_uri=None,
        )
    pending = _new_pending(
        organization=organization,
        actor=actor,
        method=ConnectMethod.SELF_CLIENT,
        endpoint=endpoint,
        client_id=client_id,
        encrypted_secret=encrypted,
    )
    return _pending_authorized(
        pending, endpoint=endpoint, tokens_refresh=tokens.refresh_token, tokens_api=tokens.api_domain
    )


def pending_authorize_with_refresh_token(
    *,
    organization: Organization,
    actor: User | None,
    credentials: Credentials,
    data_center: str = DataCenter.CUSTOM,
) -> PendingConnection:
    """Credentials that already hold a refresh token (the integration file)."""
    endpoint = endpoint_resolve(
        data_center=data_center, accounts_url=credentials.accounts_url, api_domain=credentials.api_domain
    )
    if data_center == DataCenter.CUSTOM and not endpoint.api_domain:
        raise ApplicationError("api_domain: the CRM's API domain is required", field="api_domain")
    client_id = _client_id_clean(credentials.client_id)
    if not credentials.refresh_token.strip():
        raise ApplicationError("refresh_token: required", field="refresh_token")
    encrypted = _encrypted_secret(
        organization=organization, client_id=client_id, client_secret=credentials.client_secret
    )
    creator = actor if actor is not None else _any_admin(organization)
    pending = _new_pending(
        organization=organization,
        actor=creator,
        method=ConnectMethod.FILE,
        endpoint=endpoint,
        client_id=client_id,
        encrypted_secret=encrypted,
    )
    return _pending_authorized(
        pending, endpoint=endpoint, tokens_refresh=credentials.refresh_token.strip(), tokens_api=""
    )


def _any_admin(organization: Organization) -> User:
    from books.models import Membership, Role

    membership = (
        Membership.objects.select_related("user")
        .filter(organization=organization, role=Role.ADMIN)
        .order_by("id")
        .first()
    )
    if membership is None:
        raise ApplicationError("org: this organization has no admin to act for", field="org")
    return membership.user


def _pending_authorized(
    pending: PendingConnection, *, endpoint: Endpoint, tokens_refresh: str, tokens_api: str
) -> PendingConnection:
    if not tokens_refresh:
        raise ApplicationError(
            "authorization: the CRM returned no refresh token (the grant must be made with access_type=offline)",
            field="authorization",
        )
    api_domain = endpoint.api_domain
    if endpoint.data_center == DataCenter.CUSTOM:
        # A custom host names its own API domain; an explicit one wins. Zoho's own domains are never trusted from
        # a token response (reference §14.2: a foreign api_domain silently redirects traffic).
        api_domain = api_domain or normalize_url(tokens_api)
        if not api_domain or not is_http_url(api_domain):
            raise ApplicationError(
                "api_domain: the CRM did not name its API domain; enter it under Custom", field="api_domain"
            )
    pending.data_center = endpoint.data_center
    pending.accounts_url = endpoint.accounts_url
    pending.api_domain = api_domain
    pending.encrypted_refresh_token = crypto.encrypt(tokens_refresh)
    credentials = Credentials(
        accounts_url=pending.accounts_url,
        api_domain=pending.api_domain,
        client_id=pending.client_id,
        client_secret=crypto.decrypt(pending.encrypted_client_secret),
        refresh_token=tokens_refresh,
    )
    client = clients.client_from_credentials(credentials)
    with clients.crm_errors(field="authorization", authorizing=True):
        orgs = crm_orgs_reached(client)
    pending.crm_orgs = [asdict(o) for o in orgs]
    pending.save()
    return pending


def crm_orgs_reached(client: CrmClient) -> list[CrmOrgChoice]:
    """The CRM orgs these credentials reach. Zoho's API answers for one org per token (GET /org), so this is one
    org unless the client can list more (`list_orgs`)."""
    lister = getattr(client, "list_orgs", None)
    infos: Sequence[OrgInfo] = lister() if callable(lister) else [client.get_org()]
    return [CrmOrgChoice.from_info(i) for i in infos]


# --- 2. checks and connect -----------------------------------------------------------------------------------


def prerequisite_problems(*, crm_org: CrmOrgChoice, organization: Organization) -> list[tuple[str, str]]:
    """(field, message) for each prerequisite the CRM org fails; each message names the values."""
    problems: list[tuple[str, str]] = []
    rank = EDITION_RANK.get(crm_org.edition.replace(" ", "").lower())
    if rank is None or rank < EDITION_RANK[REQUIRED_EDITION]:
        problems.append(
            (
                "edition",
                f"Zoho CRM organization '{crm_org.name}' is on the {crm_org.edition_label} edition; the integration "
                "needs Professional or above (Professional, Enterprise or Ultimate). Upgrade the CRM plan and connect "
                "again.",
            )
        )
    books_currency = (organization.base_currency or "").upper()
    if crm_org.currency and crm_org.currency != books_currency:
        problems.append(
            (
                "currency",
                f"The base currencies differ: Zoho CRM organization '{crm_org.name}' uses {crm_org.currency} and "
                f"this Books organization '{organization.name}' uses {books_currency}. They must be the same; change "
                "one of them and connect again.",
            )
        )
    return problems


def two_way_holder_exists(*, provider: str, crm_org_id: str, organization: Organization) -> bool:
    return (
        CrmConnection.objects.filter(provider=provider, crm_org_id=crm_org_id, two_way_allowed=True)
        .exclude(status=ConnectionStatus.DISABLED)
        .exclude(organization=organization)
        .exists()
    )


def one_way_reason(crm_org_name: str) -> str:
    return (
        f"Zoho CRM organization '{crm_org_name}' is already connected to another Zoho Books organization, which "
        "syncs with it both ways. This organization gets a one-way connection: data is only fetched from Zoho CRM "
        "(Fetch from CRM) and nothing is sent to it."
    )


def connection_connect(*, organization: Organization, actor: User | None, crm_org_id: str = "") -> ConnectOutcome:
    """Saves the connection for the CRM org chosen among the pending connection's, after the prerequisite checks.
    Choosing another CRM org than before resets the module configurations (their views and fields belong to the
    old org)."""
    pending = pending_get(organization=organization)
    if pending is None or not pending.authorized:
        raise ApplicationError(
            "connection: there is no authorized connection waiting (it expires after 30 minutes); click Connect",
            field="connection",
            status=409,
        )
    choices = pending_org_choices(pending)
    if not crm_org_id and len(choices) == 1:
        crm_org_id = choices[0].id
    chosen = next((c for c in choices if c.id == str(crm_org_id)), None)
    if chosen is None:
        raise ApplicationError(
            f"organization: choose one of the Zoho CRM organizations listed (got '{str(crm_org_id)[:40]}')",
            field="organization",
        )
    problems = prerequisite_problems(crm_org=chosen, organization=organization)
    if problems:
        raise ApplicationError(problems[0][1], field=problems[0][0], status=422, extra={"problems": problems})

    return connection_save_authorized(organization=organization, actor=actor, authorized=pending, chosen=chosen)


@dataclass(frozen=True)
class Authorized:
    """Credentials that work, ready to be saved (a PendingConnection has the same attributes)."""

    data_center: str
    accounts_url: str
    api_domain: str
    client_id: str
    encrypted_client_secret: str
    encrypted_refresh_token: str


def connection_save_authorized(
    *, organization: Organization, actor: User | None, authorized: Authorized | PendingConnection, chosen: CrmOrgChoice
) -> ConnectOutcome:
    """Saves the connection (the prerequisites already checked), one way when another Books org syncs the CRM org
    both ways. A pending connection is dropped with it."""
    now = timezone.now()
    outcome: ConnectOutcome | None = None
    for attempt in range(2):
        two_way = not two_way_holder_exists(provider=Provider.ZOHO, crm_org_id=chosen.id, organization=organization)
        try:
            with transaction.atomic():
                outcome = _save_connection(
                    organization=organization,
                    actor=actor,
                    authorized=authorized,
                    chosen=chosen,
                    two_way=two_way,
                    now=now,
                )
            break
        except IntegrityError:
            # Another Books org took the two-way slot between the check and the write: go one way.
            if attempt:
                raise
    assert outcome is not None
    connection = outcome.connection
    transaction.on_commit(lambda: hooks.emit("connection_connected", connection=connection, actor=actor))
    if outcome.crm_org_changed:
        transaction.on_commit(lambda: hooks.emit("crm_org_changed", connection=connection, actor=actor))
    return outcome


def _save_connection(
    *,
    organization: Organization,
    actor: User | None,
    authorized: Authorized | PendingConnection,
    chosen: CrmOrgChoice,
    two_way: bool,
    now: datetime.datetime,
) -> ConnectOutcome:
    existing = CrmConnection.objects.select_for_update().filter(organization=organization).first()
    org_changed = existing is not None and existing.crm_org_id != chosen.id
    connection = existing or CrmConnection(organization=organization)
    connection.provider = Provider.ZOHO
    connection.status = ConnectionStatus.CONNECTED
    connection.status_reason = ""
    connection.data_center = authorized.data_center
    connection.accounts_url = authorized.accounts_url
    connection.api_domain = authorized.api_domain
    connection.client_id = authorized.client_id
    connection.encrypted_client_secret = authorized.encrypted_client_secret
    connection.encrypted_refresh_token = authorized.encrypted_refresh_token
    connection.crm_org_id = chosen.id
    connection.crm_org_name = chosen.name[:255]
    connection.crm_edition = chosen.edition[:40]
    connection.crm_currency = chosen.currency[:3]
    connection.two_way_allowed = two_way
    connection.disabled_at = None
    if existing is None or org_changed:
        connection.connected_by = actor
        connection.connected_at = now
    connection.save()
    reset: tuple[str, ...] = ()
    if org_changed:
        ModuleConfig.objects.filter(connection=connection).delete()
        ModuleConfigDraft.objects.filter(connection=connection).delete()
    elif not two_way:
        reset = _force_one_way(connection)
    PendingConnection.objects.filter(organization=organization).delete()
    return ConnectOutcome(
        connection=connection,
        one_way_reason="" if two_way else one_way_reason(chosen.name),
        crm_org_changed=org_changed,
        reset_extents=reset,
    )


def _force_one_way(connection: CrmConnection) -> tuple[str, ...]:
    both = ModuleConfig.objects.filter(connection=connection, extent=SyncExtent.BOTH_WAYS)
    modules = tuple(both.values_list("module", flat=True))
    both.update(extent=SyncExtent.FETCH_FROM_CRM, updated_at=timezone.now())
    return modules


# --- the connection's life -----------------------------------------------------------------------------------


def connection_disable(*, connection: CrmConnection, actor: User | None) -> CrmConnection:
    """Disable Integration: no further sync; the credentials are kept so it can be enabled again."""
    if connection.status == ConnectionStatus.DISABLED:
        return connection
    connection.status = ConnectionStatus.DISABLED
    connection.disabled_at = timezone.now()
    connection.next_sync_at = None
    connection.save(update_fields=["status", "disabled_at", "next_sync_at", "updated_at"])
    transaction.on_commit(lambda: hooks.emit("connection_disabled", connection=connection, actor=actor))
    return connection


def connection_enable(
    *, connection: CrmConnection, actor: User | None, client: CrmClient | None = None
) -> ConnectOutcome:
    """Enable again: the saved credentials are tried, the prerequisites checked again, and the two-way slot taken
    back unless another Books org holds it now."""
    if connection.status == ConnectionStatus.CONNECTED:
        return ConnectOutcome(connection=connection, one_way_reason="", crm_org_changed=False)
    if connection.status == ConnectionStatus.NEEDS_REAUTH:
        raise ApplicationError(
            "credentials: Zoho CRM refused the saved credentials; use Update Credentials to connect again",
            field="credentials",
            status=409,
        )
    client = client or clients.crm_client_for(connection)
    with clients.crm_errors(field="credentials"):
        info = client.get_org()
    chosen = CrmOrgChoice.from_info(info)
    if chosen.id != connection.crm_org_id:
        raise ApplicationError(
            f"credentials: the saved credentials now reach Zoho CRM organization '{chosen.name}', not "
            f"'{connection.crm_org_name}'; use Update Credentials to choose the organization",
            field="credentials",
            status=409,
        )
    problems = prerequisite_problems(crm_org=chosen, organization=connection.organization)
    if problems:
        raise ApplicationError(problems[0][1], field=problems[0][0], status=422, extra={"problems": problems})
    with transaction.atomic():
        locked = CrmConnection.objects.select_for_update().get(pk=connection.pk)
        two_way = not two_way_holder_exists(
            provider=locked.provider, crm_org_id=locked.crm_org_id, organization=connection.organization
        )
        locked.status = ConnectionStatus.CONNECTED
        locked.status_reason = ""
        locked.disabled_at = None
        locked.two_way_allowed = two_way
        locked.crm_org_name = chosen.name[:255]
        locked.crm_edition = chosen.edition[:40]
        locked.crm_currency = chosen.currency[:3]
        if locked.next_sync_at is None and locked.module_configs.filter(enabled=True).exists():
            locked.next_sync_at = timezone.now()
        locked.save()
        reset = () if two_way else _force_one_way(locked)
    transaction.on_commit(lambda: hooks.emit("connection_enabled", connection=locked, actor=actor))
    return ConnectOutcome(
        connection=locked,
        one_way_reason="" if two_way else one_way_reason(chosen.name),
        crm_org_changed=False,
        reset_extents=reset,
    )


def connection_pause(*, connection: CrmConnection, actor: User | None) -> CrmConnection:
    """Pause: no automatic sync and no Instant Sync; a run already going finishes."""
    if not connection.paused:
        connection.paused = True
        connection.save(update_fields=["paused", "updated_at"])
    return connection


def connection_resume(*, connection: CrmConnection, actor: User | None) -> CrmConnection:
    if connection.paused:
        connection.paused = False
        if connection.next_sync_at is None and connection.module_configs.filter(enabled=True).exists():
            connection.next_sync_at = timezone.now()
        connection.save(update_fields=["paused", "next_sync_at", "updated_at"])
    return connection


def connection_set_sync_options(
    *, connection: CrmConnection, actor: User | None, interval_minutes: Any = None, paused: Any = None
) -> CrmConnection:
    if interval_minutes is not None:
        try:
            minutes = int(str(interval_minutes).strip())
        except (TypeError, ValueError):
            raise ApplicationError(
                f"interval_minutes: '{str(interval_minutes)[:20]}' is not a whole number of minutes",
                field="interval_minutes",
            ) from None
        if not SYNC_INTERVAL_MIN <= minutes <= SYNC_INTERVAL_MAX:
            raise ApplicationError(
                f"interval_minutes: {minutes} is outside {SYNC_INTERVAL_MIN}–{SYNC_INTERVAL_MAX} minutes",
                field="interval_minutes",
            )
        if minutes != connection.sync_interval_minutes:
            connection.sync_interval_minutes = minutes
            if connection.last_sync_at is not None:
                connection.next_sync_at = connection.last_sync_at + datetime.timedelta(minutes=minutes)
            connection.save(update_fields=["sync_interval_minutes", "next_sync_at", "updated_at"])
    if paused is not None:
        if not isinstance(paused, bool):
            raise ApplicationError("paused: must be true or false", field="paused")
        if paused:
            connection_pause(connection=connection, actor=actor)
        else:
            connection_resume(connection=connection, actor=actor)
    return connection


def connection_set_transactions(*, connection: CrmConnection, actor: User | None, enabled: bool) -> CrmConnection:
    """Sync Transaction Modules (Enable → Confirm): needs customers, vendors and items configured, and a two-way
    connection (the Finance module lives in the CRM)."""
    if enabled == connection.transactions_enabled:
        return connection
    if enabled:
        _require_connected(connection)
        if not connection.two_way_allowed:
            raise Conflict(
                "transactions: this connection is one way (Fetch from CRM), so transaction modules cannot be "
                "synced to Zoho CRM",
                field="transactions",
            )
        configured = set(
            ModuleConfig.objects.filter(connection=connection, enabled=True).values_list("module", flat=True)
        )
        missing = [m for m in SyncModule.values if m not in configured]
        if missing:
            raise Conflict(
                f"transactions: configure customers, vendors and items first (not configured: {', '.join(missing)})",
                field="transactions",
            )
    connection.transactions_enabled = enabled
    connection.save(update_fields=["transactions_enabled", "updated_at"])
    return connection


def _require_connected(connection: CrmConnection) -> None:
    if connection.status == ConnectionStatus.DISABLED:
        raise Conflict("connection: the integration is disabled; enable it first", field="connection")
    if connection.status == ConnectionStatus.NEEDS_REAUTH:
        raise Conflict(
            "connection: Zoho CRM refused the saved credentials; use Update Credentials first", field="connection"
        )


def sync_refusal(connection: CrmConnection) -> str:
    """Why a sync cannot start now, or "" when it can."""
    if connection.status == ConnectionStatus.DISABLED:
        return "The integration is disabled: enable it to sync."
    if connection.status == ConnectionStatus.NEEDS_REAUTH:
        return "Zoho CRM refused the saved credentials: use Update Credentials, then sync."
    if connection.paused:
        return "Sync is paused: click Resume to sync again."
    if not hooks.sync_available():
        return "Sync is not available yet in this installation; your settings are saved and will be used when it is."
    if not connection.module_configs.filter(enabled=True).exists():
        return "No module is configured yet: click Configure Now next to Customers, Vendors or Items."
    return ""


def connection_sync_now(
    *,
    connection: CrmConnection,
    actor: User | None,
    trigger: str = "instant",
    modules: Sequence[str] | None = None,
) -> str:
    """Instant Sync (and the sync of Save and Sync): hands the run to the registered sync starter."""
    refusal = sync_refusal(connection)
    if refusal:
        raise Conflict(refusal, field="sync")
    starter = hooks.sync_starter()
    assert starter is not None
    return starter(connection=connection, actor=actor, trigger=trigger, modules=modules)


def secrets_rotate() -> int:
    """Re-encrypts every stored CRM secret with the first key of LB_ENCRYPTION_KEY (after a new key was put first).
    Returns the number of rows rewritten."""
    fields = ["encrypted_client_secret", "encrypted_refresh_token"]
    with transaction.atomic():
        connections = list(CrmConnection.objects.select_for_update().only("pk", *fields))
        for conn in connections:
            conn.encrypted_client_secret = crypto.rotate(conn.encrypted_client_secret)
            conn.encrypted_refresh_token = crypto.rotate(conn.encrypted_refresh_token)
        CrmConnection.objects.bulk_update(connections, fields, batch_size=500)
        pendings = list(PendingConnection.objects.select_for_update().only("pk", *fields))
        for pending in pendings:
            pending.encrypted_client_secret = crypto.rotate(pending.encrypted_client_secret)
            pending.encrypted_refresh_token = crypto.rotate(pending.encrypted_refresh_token)
        PendingConnection.objects.bulk_update(pendings, fields, batch_size=500)
    return len(connections) + len(pendings)
