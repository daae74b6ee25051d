from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from tropa.audit.services import audit_record


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form post: a clear page, an audit row, never the Django debug page."""
    actor = (
        request.user.pk
        if getattr(request, "user", None) and request.user.is_authenticated
        else None
    )
    audit_record(action="security.csrf_refused", actor_id=actor)
    return render(
        request,
        "core/error.html",
        {
            "title": _("The form could not be accepted"),
            "message": _(
                "The page was open too long or was sent from elsewhere. "
                "Go back, reload the page and try again."
            ),
        },
        status=403,
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(
        request,
        "core/error.html",
        {"title": _("Not found"), "message": _("There is nothing here.")},
        status=404,
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/error.html",
        {
            "title": _("Something went wrong"),
            "message": _("The error was recorded without any personal data. Try again later."),
        },
        status=500,
    )
