from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
