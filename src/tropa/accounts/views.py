"""Thin views over tropa.accounts.services: the two-step login, home, staff and revocation."""

from __future__ import annotations

import time

import segno
from django.conf import settings
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from tropa.accounts import selectors, services
from tropa.accounts.decorators import staff_required
from tropa.accounts.forms import OtpForm, PasswordForm
from tropa.accounts.models import Staff
from tropa.vault.session import vault_session_begin, vault_session_end

PENDING_ID = "tropa.pending_staff_id"
PENDING_SINCE = "tropa.pending_since"


def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.is_verified():
        return redirect("accounts:home")
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = services.login_check_password(
            username=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
        if check.outcome is services.PasswordOutcome.OK and check.staff is not None:
            request.session.cycle_key()
            request.session[PENDING_ID] = check.staff.pk
            request.session[PENDING_SINCE] = int(time.time())
            if services.otp_confirmed_device(check.staff) is None:
                response = redirect("accounts:otp_enrol")
            else:
                response = redirect("accounts:otp_verify")
            vault_session_begin(
                request=request,
                response=response,
                staff=check.staff,
                password=form.cleaned_data["password"],
            )
            return response
        if check.outcome is services.PasswordOutcome.THROTTLED:
            form.add_error(None, _("Too many attempts. Wait a minute before trying again."))
        else:
            form.add_error(None, _("Wrong username or password."))
    ended = request.GET.get("ended") == "1"
    status = 200 if not form.errors else 400
    return render(request, "accounts/login.html", {"form": form, "ended": ended}, status=status)


def _pending_staff(request: HttpRequest) -> Staff | None:
    """The account whose password was just checked, if that was recent enough."""
    staff_id = request.session.get(PENDING_ID)
    since = request.session.get(PENDING_SINCE, 0)
    if staff_id is None or time.time() - since > settings.LOGIN_PENDING_SECONDS:
        return None
    return Staff.objects.filter(pk=staff_id, is_active=True, revoked_at=None).first()


def _finish_login(request: HttpRequest, staff: Staff, device: object) -> HttpResponse:
    for key in (PENDING_ID, PENDING_SINCE):
        request.session.pop(key, None)
    login(request, staff, backend="django.contrib.auth.backends.ModelBackend")
    otp_login(request, device)
    services.session_register(staff=staff, session_key=request.session.session_key or "")
    return redirect("accounts:home")


def _otp_error(form: OtpForm, outcome: services.OtpOutcome) -> None:
    if outcome is services.OtpOutcome.THROTTLED:
        form.add_error("code", _("Too many wrong codes. Wait a little and try again."))
    else:
        form.add_error(
            "code", _("This code is wrong, expired or already used. Wait for the next one.")
        )


def otp_verify_view(request: HttpRequest) -> HttpResponse:
    staff = _pending_staff(request)
    if staff is None:
        return redirect("accounts:login")
    device = services.otp_confirmed_device(staff)
    if device is None:
        return redirect("accounts:otp_enrol")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = services.otp_verify(staff=staff, device=device, code=form.cleaned_data["code"])
        if outcome is services.OtpOutcome.OK:
            return _finish_login(request, staff, device)
        _otp_error(form, outcome)
    status = 200 if not form.errors else 400
    return render(request, "accounts/otp_verify.html", {"form": form}, status=status)


def otp_enrol_view(request: HttpRequest) -> HttpResponse:
    staff = _pending_staff(request)
    if staff is None:
        return redirect("accounts:login")
    if services.otp_confirmed_device(staff) is not None:
        return redirect("accounts:otp_verify")
    device = services.otp_enrolment_device(staff)
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = services.otp_verify(staff=staff, device=device, code=form.cleaned_data["code"])
        if outcome is services.OtpOutcome.OK:
            return _finish_login(request, staff, device)
        _otp_error(form, outcome)
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=5, border=2)
    context = {"form": form, "qr_svg": qr_svg, "secret": selectors.otp_secret_base32(device)}
    status = 200 if not form.errors else 400
    return render(request, "accounts/otp_enrol.html", context, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.session_forget(staff=request.user, session_key=request.session.session_key)
    logout(request)
    response = redirect("accounts:login")
    vault_session_end(response)
    return response


@staff_required
def home_view(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/home.html", {"teams": request.user.teams.all()})
