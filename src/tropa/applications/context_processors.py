from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone

from tropa.applications.selectors import deadlines_for


def application_deadlines(request: HttpRequest) -> dict[str, object]:
    """Visa and asylum deadlines, at the top of the queue (only that page asks)."""
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    if match is None or match.view_name != "cases:list" or user is None:
        return {}
    if not user.is_authenticated or not user.is_verified():
        return {}
    return {"application_deadlines": deadlines_for(user, today=timezone.localdate())}
