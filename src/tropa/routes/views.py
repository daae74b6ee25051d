"""Route knowledge for coordinators and the evacuation team: read, edit, import, export."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tropa.accounts.decorators import staff_required
from tropa.routes import planner, services
from tropa.routes.forms import KnowledgeForm, ReassessForm
from tropa.routes.knowledge import KnowledgeError
from tropa.vault.session import keychain_for


def route_readers_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Coordinators and the evacuation team; everyone else gets 404."""

    @staff_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not services.may_plan(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


@route_readers_only
def knowledge_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    version, knowledge = services.knowledge_current(keychain=keychain_for(request), today=today)
    context: dict[str, Any] = {"version": version, "knowledge": knowledge}
    if knowledge is not None:
        outgoing: dict[str, list[Any]] = defaultdict(list)
        legs = []
        for leg in knowledge.legs:
            age = planner.assessment_age(leg.assessed_on, today)
            row = {
                "leg": leg,
                "origin": knowledge.place_by_id[leg.origin],
                "destination": knowledge.place_by_id[leg.destination],
                "age": age,
                "stale": age > planner.GRACE_DAYS,
                "probability": planner.effective_probability(leg.risk, age),
                "hostile": knowledge.is_hostile(leg.origin)
                or knowledge.is_hostile(leg.destination),
            }
            legs.append(row)
            outgoing[leg.origin].append(row)
        legs.sort(key=lambda row: (-row["age"], row["leg"].id))
        context.update(
            legs=legs,
            places=[
                (place, knowledge.is_hostile(place.id), outgoing.get(place.id, []))
                for place in knowledge.places
            ],
            reassess_form=ReassessForm(),
            grace_days=planner.GRACE_DAYS,
        )
    return render(request, "routes/knowledge.html", context)


@route_readers_only
def knowledge_edit_view(request: HttpRequest) -> HttpResponse:
    keychain = keychain_for(request)
    form = KnowledgeForm(
        request.POST or None,
        request.FILES or None,
        initial={"text": services.knowledge_text(keychain=keychain)},
    )
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            services.knowledge_save(keychain=keychain, text=form.source())
        except KnowledgeError as error:
            problems = [error.summary, *error.problems]
        except ValidationError as error:  # an unreadable upload
            problems = list(error.messages)
        else:
            messages.success(request, _("Route knowledge saved as a new version."))
            return redirect("routes:knowledge")
    status = 400 if problems or form.errors else 200
    return render(request, "routes/edit.html", {"form": form, "problems": problems}, status=status)


@route_readers_only
def knowledge_export_view(request: HttpRequest) -> HttpResponse:
    text = services.knowledge_text(keychain=keychain_for(request))
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="tropa-routes.yaml"'
    return response


@require_POST
@route_readers_only
def leg_reassess_view(request: HttpRequest, leg_id: str) -> HttpResponse:
    form = ReassessForm(request.POST)
    if form.is_valid():
        try:
            services.leg_reassess(
                keychain=keychain_for(request),
                leg_id=leg_id,
                risk=form.cleaned_data["risk"],
                note=form.cleaned_data["note"],
            )
        except KnowledgeError as error:
            messages.error(request, "; ".join([error.summary, *error.problems]))
        else:
            messages.success(request, _("Leg %(leg)s reassessed today.") % {"leg": leg_id})
    return redirect("routes:knowledge")
