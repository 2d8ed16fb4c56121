"""Small presentation helpers for templates (no business logic)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

PER_PAGE_CHOICES = (10, 25, 50, 100, 200)


@register.filter
def startswith(value: str, prefix: str) -> bool:
    return str(value).startswith(prefix)


@register.simple_tag(takes_context=True)
def query(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with `changes` applied (None removes a key): for sort, filter and page links."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(sorted(params.items())) if params else "?"


@register.simple_tag(takes_context=True)
def sort_link(context: dict[str, Any], column: str, label: str, default: str = "") -> SafeString:
    """A column header that sorts by `column`, and by `-column` when it already does. Boosted by htmx inside a list."""
    current = context.get("sort") or default
    descending = current == f"-{column}"
    active = current in (column, f"-{column}")
    target = column if descending or not active else f"-{column}"
    arrow = ("▼" if descending else "▲") if active else ""
    href = query(context, sort=target, page=None)
    return format_html(
        '<a class="sort{}" hx-boost="true" href="{}" aria-sort="{}">{} <span class="arrow">{}</span></a>',
        " active" if active else "",
        href,
        ("descending" if descending else "ascending") if active else "none",
        label,
        arrow,
    )


@register.simple_tag
def per_page_choices() -> tuple[int, ...]:
    return PER_PAGE_CHOICES


@register.filter
def money(value: Any, currency: str = "") -> str:
    """1234.5 → '1,234.50' (with the currency code in front when given). Decimal in, no float."""
    if value is None or value == "":
        return ""
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    sign = "-" if amount < 0 else ""
    text = f"{sign}{intcomma(f'{abs(amount):.2f}')}"
    return f"{currency} {text}" if currency else text


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def txn_url(txn: Any) -> str:
    """The detail page of a transaction of any kind (the URL names follow the kinds: invoice_detail, …)."""
    return reverse(f"books:{txn.kind}_detail", args=[txn.pk])


@register.filter
def plain(value: Any) -> str:
    """A Decimal without trailing zeros and never in exponent form: 2.000 → '2', 100 → '100', 1.50 → '1.5'."""
    if value is None or value == "":
        return ""
    number = Decimal(str(value)).normalize()
    return f"{number:f}"
