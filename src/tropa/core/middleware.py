from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps

from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

# Features a caseworker's page never needs; denying them limits what a
# compromised page could reach on a volunteer's phone.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "interest-cohort=(), browsing-topics=()"
)


class SecurityHeadersMiddleware:
    """Headers Django does not set itself: Permissions-Policy, CORP and no-store.

    Pages may show case data, so nothing but static assets may be cached by the
    browser or a proxy: a seized laptop's disk cache must not hold case pages.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response


SAVED_WHEN_CHANGED = "_tropa_session_saved_when_changed"
# A session that did not change is written at most this often, so that it still
# slides (SESSION_COOKIE_AGE is an idle timeout, now kept to within a minute)
# while most page views cost no write and no disk sync.
TOUCH_SECONDS = 60
TOUCHED = "tropa.session.touched"


def session_saved_when_changed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view whose session is written only when it changed, never just to
    slide: an applicant's web chat session changes with every message he sends
    (its rate-limit history), and a page that only shows the chat needs no write."""

    @wraps(view)
    def marked(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        setattr(request, SAVED_WHEN_CHANGED, True)
        return view(request, *args, **kwargs)

    return marked


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, with a session that did not change written at most once every
    TOUCH_SECONDS (and never on views marked `session_saved_when_changed`)."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is None or session.modified or session.is_empty():
            return super().process_response(request, response)
        if session.accessed:
            patch_vary_headers(response, ("Cookie",))
            now = int(time.time())
            due = now - int(session.get(TOUCHED, 0)) >= TOUCH_SECONDS
            if due and not getattr(request, SAVED_WHEN_CHANGED, False):
                session[TOUCHED] = now  # modified: Django saves it and sets the cookie
                return super().process_response(request, response)
        return response
