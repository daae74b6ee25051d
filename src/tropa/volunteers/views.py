"""The volunteer directory, invitations, profiles, vetting, workload and revocation."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tropa.accounts.decorators import coordinator_required, staff_required
from tropa.accounts.models import Staff
from tropa.core.charts import bar_chart
from tropa.matching.services import proposal_create
from tropa.vault.session import keychain_for
from tropa.volunteers import selectors, services
from tropa.volunteers.forms import AwayForm, InviteForm, JoinForm, ProfileForm, VetForm
from tropa.volunteers.models import VettingStatus, VolunteerProfile

REFUSALS = {
    "alias_taken": gettext_lazy("That alias is taken; choose another."),
    "username_taken": gettext_lazy("That username is taken; choose another."),
    "invite_unknown": gettext_lazy("This invitation link is not valid."),
    "invite_used": gettext_lazy("This invitation link has been used already."),
    "invite_expired": gettext_lazy("This invitation link has expired. Ask for a new one."),
    "status_move_refused": gettext_lazy("That status change is not allowed."),
    "vetting_needs_teams": gettext_lazy("Vet the volunteer with their teams."),
    "away_backwards": gettext_lazy("The end is before the start."),
    "revoke_self": gettext_lazy("You cannot revoke your own account."),
}


@coordinator_required
def directory_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    people = list(selectors.directory())
    away = {
        member.pk
        for member in people
        if hasattr(member, "profile") and selectors.away_today(member.profile, today=today)
    }
    context = {"people": people, "away": away, "invites": selectors.invites_pending()}
    return render(request, "volunteers/directory.html", context)


@coordinator_required
def invite_view(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    link = None
    if request.method == "POST" and form.is_valid():
        try:
            _invite, token = services.invite_create(
                by=request.user, alias=form.cleaned_data["alias"], teams=form.cleaned_data["teams"]
            )
        except services.VolunteerError as error:
            form.add_error("alias", REFUSALS[error.code])
        else:
            link = request.build_absolute_uri(reverse("volunteers:join", args=[token]))
    status = 400 if form.errors else 200
    return render(request, "volunteers/invite.html", {"form": form, "link": link}, status=status)


def join_view(request: HttpRequest, token: str) -> HttpResponse:
    """The invited volunteer's first page: no login, the token is the permission."""
    try:
        invite = services.invite_check(token)
    except services.VolunteerError as error:
        return render(
            request, "volunteers/join.html", {"refusal": REFUSALS[error.code]}, status=404
        )
    form = JoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invite_redeem(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except services.VolunteerError as error:
            form.add_error(None, REFUSALS[error.code])
        else:
            messages.success(
                request,
                _("Your account exists. Sign in now and set up your authenticator app."),
            )
            return redirect("accounts:login")
    status = 400 if form.errors else 200
    context = {"form": form, "alias": invite.alias}
    return render(request, "volunteers/join.html", context, status=status)


def _profile_form_initial(profile: VolunteerProfile) -> dict[str, object]:
    return {
        "languages": profile.languages,
        "regions": profile.regions,
        "skills": ", ".join(profile.skills),
        "capacity": profile.capacity,
        "time_zone": profile.time_zone,
        **{name: profile.personal.get(name, "") for name in services.PERSONAL_FIELDS},
    }


def _profile_edit(request: HttpRequest, profile: VolunteerProfile, template: str) -> HttpResponse:
    """The profile form, for the volunteer themselves or for a coordinator."""
    keychain = keychain_for(request)
    if request.user.pk == profile.staff_id:
        services.profile_unlock(profile=profile, keychain=keychain)
    else:
        services.profile_open(profile=profile, keychain=keychain)
    form = ProfileForm(request.POST or None, initial=_profile_form_initial(profile))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.profile_update(
            profile=profile,
            keychain=keychain,
            change=services.ProfileChange(
                languages=data["languages"],
                regions=data["regions"],
                skills=form.skill_list(),
                capacity=data["capacity"],
                time_zone=data["time_zone"],
                personal={name: data[name] for name in services.PERSONAL_FIELDS},
            ),
        )
        messages.success(request, _("Profile saved."))
        return redirect(request.path)
    context = {
        "profile": profile,
        "form": form,
        "away_form": AwayForm(),
        "vet_form": VetForm(initial={"teams": _invited_teams(profile)}),
        "moves": services.STATUS_MOVES.get(profile.status, frozenset()) - {"vetted"},
    }
    return render(request, template, context, status=400 if form.errors else 200)


def _invited_teams(profile: VolunteerProfile) -> list[str]:
    invite = getattr(profile.staff, "invite", None)
    return list(invite.teams) if invite is not None else []


@staff_required
def my_profile_view(request: HttpRequest) -> HttpResponse:
    profile = VolunteerProfile.objects.filter(staff=request.user).first()
    if profile is None:
        raise Http404
    return _profile_edit(request, profile, "volunteers/profile.html")


@coordinator_required
def profile_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    profile = get_object_or_404(VolunteerProfile.objects.select_related("staff"), staff_id=staff_id)
    return _profile_edit(request, profile, "volunteers/profile.html")


def _profile_for(request: HttpRequest, staff_id: int) -> VolunteerProfile:
    """Your own profile, or anyone's for a coordinator; 404 otherwise."""
    if request.user.pk != staff_id and not request.user.is_coordinator:
        raise Http404
    return get_object_or_404(VolunteerProfile, staff_id=staff_id)


def _back(request: HttpRequest, staff_id: int) -> HttpResponse:
    if request.user.pk == staff_id:
        return redirect("volunteers:me")
    return redirect("volunteers:profile", staff_id=staff_id)


@require_POST
@staff_required
def away_add_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    profile = _profile_for(request, staff_id)
    form = AwayForm(request.POST)
    if form.is_valid():
        services.away_add(profile=profile, **form.cleaned_data)
        messages.success(request, _("Away period added."))
    else:
        messages.error(request, _("Give a start and an end date, the end not before the start."))
    return _back(request, staff_id)


@require_POST
@staff_required
def away_remove_view(request: HttpRequest, staff_id: int, away_id: int) -> HttpResponse:
    services.away_remove(profile=_profile_for(request, staff_id), away_id=away_id)
    return _back(request, staff_id)


@require_POST
@coordinator_required
def vet_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    profile = get_object_or_404(VolunteerProfile, staff_id=staff_id)
    form = VetForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose at least one team."))
        return _back(request, staff_id)
    try:
        services.volunteer_vet(
            profile=profile, keychain=keychain_for(request), teams=form.cleaned_data["teams"]
        )
    except services.VolunteerError as error:
        messages.error(request, REFUSALS[error.code])
    else:
        messages.success(request, _("Vetted: their teams' keys are now theirs."))
    return _back(request, staff_id)


@require_POST
@coordinator_required
def status_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    profile = get_object_or_404(VolunteerProfile, staff_id=staff_id)
    target = request.POST.get("status", "")
    if target not in VettingStatus.values:
        raise Http404
    try:
        services.volunteer_status_set(profile=profile, status=target, by=request.user)
    except services.VolunteerError as error:
        messages.error(request, REFUSALS[error.code])
    return _back(request, staff_id)


@require_POST
@coordinator_required
def revoke_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    target = get_object_or_404(Staff, pk=staff_id, revoked_at=None)
    try:
        freed = services.volunteer_revoke(
            staff=target, by=request.user, keychain=keychain_for(request)
        )
    except services.VolunteerError as error:
        messages.error(request, REFUSALS[error.code])
        return redirect("volunteers:directory")
    messages.success(
        request, _("%(alias)s is revoked: all sessions ended.") % {"alias": target.alias}
    )
    if not freed:
        return redirect("volunteers:directory")
    proposal = proposal_create(by=request.user, service_ids=freed)
    messages.info(
        request,
        _("Their %(count)d open services wait for new volunteers: here is a proposal.")
        % {"count": len(freed)},
    )
    return redirect("matching:proposal", proposal_id=proposal.pk)


@coordinator_required
def workload_view(request: HttpRequest) -> HttpResponse:
    series = selectors.backlog_series(days=30)
    chart = bar_chart(
        [(day.strftime("%d.%m"), count) for day, count in series],
        title=_("Open service requests at the end of each day, last 30 days"),
    )
    context = {"teams": selectors.workload(), "chart": chart, "now": timezone.now()}
    return render(request, "volunteers/workload.html", context)
