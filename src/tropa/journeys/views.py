"""A case's route and journey: plan, choose, start, follow check-ins, switch, handle alarms."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tropa.accounts.decorators import staff_required
from tropa.cases.http import case_unlocked_or_404
from tropa.cases.models import Case
from tropa.cases.services import TransitionRefused
from tropa.journeys import selectors, services
from tropa.journeys.models import CheckIn, Journey, JourneyStatus
from tropa.routes import services as routes
from tropa.routes.forms import JourneyStartForm, PlanForm
from tropa.routes.models import RoutePlan
from tropa.vault.session import keychain_for

REFUSALS = {
    "evacuation_only": gettext_lazy("Routes are planned by coordinators and the evacuation team."),
    "needs_verification": gettext_lazy("A coordinator must verify this case first."),
    "frozen": gettext_lazy(
        "This case is flagged as possibly compromised; nothing sensitive is planned for it."
    ),
    "no_knowledge": gettext_lazy("There is no route knowledge yet."),
    "journey_active": gettext_lazy("This case already has a journey under way."),
    "no_such_route": gettext_lazy("That route is not in the plan."),
    "not_allowed": gettext_lazy("That is not possible for this journey now."),
}


def _case(request: HttpRequest, case_id: int) -> Case:
    """The case, unlocked for a coordinator or an evacuation caseworker with access; else 404."""
    if not routes.may_plan(request.user):
        raise Http404
    return case_unlocked_or_404(request, case_id)


def _places(request: HttpRequest) -> list[tuple[str, str]]:
    _version, knowledge = routes.knowledge_current(keychain=keychain_for(request))
    if knowledge is None:
        return []
    return [
        (place.id, f"{place.name} ({place.country})")
        for place in knowledge.places
        if not place.safe and not knowledge.is_hostile(place.id)
    ]


@staff_required
def case_route_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    form = PlanForm(request.POST or None, places=_places(request))
    if request.method == "POST":
        if form.is_valid():
            try:
                route_plan = routes.plan_create(
                    case=case,
                    keychain=keychain_for(request),
                    start=form.cleaned_data["start"],
                    documents=form.cleaned_data["documents"],
                    risk_aversion=form.cleaned_data["risk_aversion"],
                )
            except TransitionRefused as refusal:
                messages.error(request, REFUSALS.get(refusal.reason, refusal.reason))
            else:
                return redirect("journeys:plan", case_id=case.pk, plan_id=route_plan.pk)
        else:
            messages.error(request, _("Choose where the person is now."))
    journey = selectors.journey_of(case.pk)
    context: dict[str, Any] = {
        "case": case,
        "form": form,
        "refusal": _refusal_text(case, request),
        "plans": RoutePlan.objects.filter(case=case)[:10],
        "journey": journey,
    }
    if journey is not None:
        context.update(_journey_context(journey, case))
    return render(request, "journeys/case.html", context)


def _refusal_text(case: Case, request: HttpRequest) -> str:
    refusal = routes.plan_refusal(case, request.user)
    return str(REFUSALS.get(refusal, refusal)) if refusal else ""


def _journey_context(journey: Journey, case: Case) -> dict[str, Any]:
    journey.plan.case = case
    routes_ = journey.plan.body.get("routes", [])
    check_ins = list(journey.check_ins.order_by("due_at", "id"))
    current = [c for c in check_ins if c.route_index == journey.route_index and not c.superseded_at]
    legs = routes_[journey.route_index]["legs"] if journey.route_index < len(routes_) else []
    return {
        "journey_legs": list(zip(legs, current, strict=False)),
        "journey_routes": routes_,
        "backups": [
            (index, route) for index, route in enumerate(routes_) if index != journey.route_index
        ],
        "history": [c for c in check_ins if c.superseded_at],
        "now": timezone.now(),
    }


@staff_required
def plan_view(request: HttpRequest, case_id: int, plan_id: int) -> HttpResponse:
    case = _case(request, case_id)
    route_plan = get_object_or_404(RoutePlan, pk=plan_id, case=case)
    route_plan.case = case
    refusal = _refusal_text(case, request)
    journey = selectors.journey_of(case.pk)
    start_form = JourneyStartForm(
        initial={
            "departed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "grace_minutes": 60,
        }
    )
    context = {
        "case": case,
        "route_plan": route_plan,
        "plan": route_plan.body,
        "start_form": start_form,
        "can_start": not refusal and (journey is None or journey.status != JourneyStatus.ACTIVE),
    }
    return render(request, "journeys/plan.html", context)


@require_POST
@staff_required
def journey_start_view(request: HttpRequest, case_id: int, plan_id: int) -> HttpResponse:
    case = _case(request, case_id)
    route_plan = get_object_or_404(RoutePlan, pk=plan_id, case=case)
    form = JourneyStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a departure time and a grace period of 5 to 1440 minutes."))
        return redirect("journeys:plan", case_id=case.pk, plan_id=route_plan.pk)
    try:
        services.journey_start(
            route_plan=route_plan,
            keychain=keychain_for(request),
            route_index=form.cleaned_data["route"],
            departed_at=form.cleaned_data["departed_at"],
            grace_minutes=form.cleaned_data["grace_minutes"],
        )
    except TransitionRefused as refusal:
        messages.error(request, REFUSALS.get(refusal.reason, refusal.reason))
        return redirect("journeys:plan", case_id=case.pk, plan_id=route_plan.pk)
    messages.success(request, _("The journey has started; check-ins are scheduled."))
    return redirect("journeys:case", case_id=case.pk)


def _journey(request: HttpRequest, case_id: int, journey_id: int) -> Journey:
    case = _case(request, case_id)
    journey = get_object_or_404(Journey.objects.select_related("plan"), pk=journey_id, case=case)
    journey.case = case
    return journey


@require_POST
@staff_required
def journey_switch_view(request: HttpRequest, case_id: int, journey_id: int) -> HttpResponse:
    journey = _journey(request, case_id, journey_id)
    try:
        services.journey_switch(
            journey=journey,
            keychain=keychain_for(request),
            route_index=int(request.POST.get("route", "-1")),
            now=timezone.now(),
        )
    except (TransitionRefused, ValueError) as refusal:
        reason = getattr(refusal, "reason", "not_allowed")
        messages.error(request, REFUSALS.get(reason, reason))
    else:
        messages.success(request, _("Switched to the backup route; new check-ins count from now."))
    return redirect("journeys:case", case_id=case_id)


@require_POST
@staff_required
def journey_end_view(request: HttpRequest, case_id: int, journey_id: int) -> HttpResponse:
    journey = _journey(request, case_id, journey_id)
    services.journey_end(journey=journey, keychain=keychain_for(request), now=timezone.now())
    return redirect("journeys:case", case_id=case_id)


@require_POST
@staff_required
def alarm_ack_view(request: HttpRequest, case_id: int, check_in_id: int) -> HttpResponse:
    case = _case(request, case_id)
    check_in = get_object_or_404(CheckIn, pk=check_in_id, journey__case=case)
    check_in.journey.case = case
    services.alarm_acknowledge(
        check_in=check_in, keychain=keychain_for(request), now=timezone.now()
    )
    messages.success(request, _("Alarm marked as handled."))
    return redirect("journeys:case", case_id=case_id)
