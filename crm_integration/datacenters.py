"""Zoho's data centers: the accounts (OAuth) server and the API domain of each, and which hosts an OAuth
callback may name as its `accounts-server` (shared/reference/zoho-crm-api.md §1.1)."""

from __future__ import annotations

from urllib.parse import urlsplit

from crm_integration.models import DataCenter

# data center → (accounts server base URL, API domain)
DATA_CENTERS: dict[str, tuple[str, str]] = {
    DataCenter.US: ("https://accounts.zoho.com", "https://www.zohoapis.com"),
    DataCenter.EU: ("https://accounts.zoho.eu", "https://www.zohoapis.eu"),
    DataCenter.IN: ("https://accounts.zoho.in", "https://www.zohoapis.in"),
    DataCenter.AU: ("https://accounts.zoho.com.au", "https://www.zohoapis.com.au"),
    DataCenter.JP: ("https://accounts.zoho.jp", "https://www.zohoapis.jp"),
    DataCenter.CN: ("https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
    DataCenter.CA: ("https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),
    DataCenter.SA: ("https://accounts.zoho.sa", "https://www.zohoapis.sa"),
}


def normalize_url(url: str) -> str:
    return (url or "").strip().rstrip("/")


def data_center_urls(data_center: str) -> tuple[str, str] | None:
    return DATA_CENTERS.get(data_center)


def data_center_for_accounts_url(url: str) -> str | None:
    """The Zoho data center whose accounts server is `url`, or None for any other host."""
    wanted = normalize_url(url)
    for dc, (accounts, _api) in DATA_CENTERS.items():
        if accounts == wanted:
            return dc
    return None


def is_http_url(url: str) -> bool:
    parts = urlsplit(normalize_url(url))
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.query and not parts.fragment
