from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """A signed-in staff member who has passed the second factor."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_authenticated and user.is_verified()):
            url = reverse("accounts:login")
            if getattr(request, "session_refused", False):
                url += "?ended=1"
            return redirect(url)
        return view(request, *args, **kwargs)

    return wrapped


def coordinator_required(view: View) -> View:
    """Coordinator-only pages answer 404 to everyone else: no hint that they exist."""

    @staff_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_coordinator:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped
