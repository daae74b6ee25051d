from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tropa.audit.models import Action
from tropa.audit.services import audit_record


class RefusedSessionMiddleware:
    """Notice a session cookie the server does not accept (forged, expired or revoked).

    The request goes on as anonymous; staff pages then send the person to the
    login page with an explanation, and the audit log gets a row.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.COOKIES.get(settings.SESSION_COOKIE_NAME):
            # Resolving the user loads the session and, for a revoked account
            # (changed auth hash), flushes it: either way the key is then gone.
            _ = request.user.is_authenticated
            if request.session.session_key is None:
                request.session_refused = True  # type: ignore[attr-defined]
                audit_record(action=Action.SESSION_REFUSED)
        return self.get_response(request)
