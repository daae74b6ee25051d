"""The matcher for coordinators: run it, review the proposal, edit, accept."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tropa.accounts.decorators import coordinator_required
from tropa.matching import selectors, services
from tropa.matching.models import Proposal
from tropa.vault.session import keychain_for


@coordinator_required
def home_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        proposal = services.proposal_create(by=request.user)
        return redirect("matching:proposal", proposal_id=proposal.pk)
    context = {
        "waiting": len(services.waiting_services()),
        "volunteers": len(services.volunteers_for_matching()),
        "recent": Proposal.objects.all()[:10],
    }
    return render(request, "matching/home.html", context)


@coordinator_required
def proposal_view(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = get_object_or_404(Proposal, pk=proposal_id)
    now = timezone.now()
    volunteers = services.volunteers_for_matching(today=now)
    rows = list(proposal.rows.select_related("service__case"))
    eligible = services.eligible_volunteers([row.service for row in rows], volunteers, now=now)
    context = {
        "proposal": proposal,
        "rows": selectors.proposal_rows(proposal, eligible),
        "unassignable": selectors.unassignable(proposal),
        "served": len(rows),
    }
    return render(request, "matching/proposal.html", context)


@require_POST
@coordinator_required
def accept_view(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = get_object_or_404(Proposal, pk=proposal_id)
    choices: dict[int, int | None] = {}
    for row_id in proposal.rows.values_list("pk", flat=True):
        raw = request.POST.get(f"row-{row_id}")
        if raw is None:
            continue
        choices[row_id] = int(raw) if raw.isdigit() else None
    counts = services.proposal_accept(
        proposal=proposal, keychain=keychain_for(request), choices=choices
    )
    if not counts:
        messages.error(request, _("This proposal was accepted already."))
    else:
        messages.success(
            request,
            _("%(assigned)d assigned, %(skipped)d left unassigned, %(stale)d no longer possible.")
            % {
                "assigned": counts.get("assigned", 0),
                "skipped": counts.get("skipped", 0),
                "stale": counts.get("stale", 0),
            },
        )
    return redirect("matching:proposal", proposal_id=proposal.pk)
