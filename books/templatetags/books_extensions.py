"""`{% extension_slot "<slot>" %}`: renders what other apps registered for a named place of a page
(books.extensions)."""

from __future__ import annotations

import logging
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from books import extensions

register = template.Library()
logger = logging.getLogger(__name__)


@register.simple_tag(takes_context=True)
def extension_slot(context: template.Context, slot: str) -> SafeString:
    request = context.get("request")
    if request is None:
        return mark_safe("")
    page: dict[str, Any] = {str(k): v for k, v in context.flatten().items()}
    parts: list[str] = []
    for fragment in extensions.fragments(slot):
        try:
            values: dict[str, Any] | None = fragment.context(request, page)
            if values is None:
                continue
            parts.append(render_to_string(fragment.template_name, values, request=request))
        except Exception:  # one app's broken fragment must not take a Books page down
            logger.exception("fragment %s of slot %s failed", fragment.key, slot)
    return mark_safe("".join(parts))  # noqa: S308 - rendered by the template engine, which escapes
