from __future__ import annotations

from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware


class TropaCsrfViewMiddleware(CsrfViewMiddleware):
    """Django's CSRF protection, adjusted for `Referrer-Policy: no-referrer`.

    Under that policy browsers send `Origin: null` even on same-origin form
    posts, which Django's origin check refuses. Browsers also send
    `Sec-Fetch-Site`, a header pages cannot set, so a null origin is accepted
    only when the browser itself says the request is same-origin. The token
    check still runs after this, as always.
    """

    def _origin_verified(self, request: HttpRequest) -> bool:
        if (
            request.META.get("HTTP_ORIGIN") == "null"
            and request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin"
        ):
            return True
        return super()._origin_verified(request)
