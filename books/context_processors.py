from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from books.selectors import membership_list_for_user


def organization(request: HttpRequest) -> dict[str, Any]:
    def memberships() -> list[Any]:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return []
        return list(membership_list_for_user(user=user))

    return {
        "organization": getattr(request, "organization", None),
        "membership": getattr(request, "membership", None),
        # The organization switcher's choices; queried only by pages that show the switcher.
        "user_memberships": SimpleLazyObject(memberships),
    }
