from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from tropa.vault.session import keychain_for

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """A signed-in staff member who has passed the second factor and whose keys
    open (session half + cookie half). A session that lost its key is ended:
    it could not read or assign anything anyway."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_authenticated and user.is_verified()):
            url = reverse("accounts:login")
            if getattr(request, "session_refused", False):
                url += "?ended=1"
            return redirect(url)
        if keychain_for(request) is None:
            logout(request)
            return redirect(reverse("accounts:login") + "?ended=1")
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
