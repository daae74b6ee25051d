"""A case's visa and asylum applications: open one, move it on, keep its deadline."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tropa.accounts.decorators import staff_required
from tropa.applications import services
from tropa.applications.forms import ApplicationAddForm, ApplicationUpdateForm
from tropa.applications.models import Application
from tropa.cases.http import case_unlocked_or_404
from tropa.cases.models import Case
from tropa.cases.services import TransitionRefused
from tropa.vault.session import keychain_for

REFUSALS = {
    "visa_team_only": gettext_lazy("Applications are kept by coordinators and the visa team."),
    "not_allowed": gettext_lazy("That stage cannot follow the current one."),
    "decision_required": gettext_lazy("A decided application needs its decision."),
}


def _case(request: HttpRequest, case_id: int) -> Case:
    if not services.may_work_on_applications(request.user):
        raise Http404
    return case_unlocked_or_404(request, case_id)


@staff_required
def case_applications_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    applications = list(Application.objects.filter(case=case))
    rows = []
    for application in applications:
        application.case = case
        rows.append(
            (
                application,
                ApplicationUpdateForm(
                    initial={
                        "stage": application.stage,
                        "decision": application.decision,
                        "submitted_on": application.submitted_on,
                        "interview_on": application.interview_on,
                        "decided_on": application.decided_on,
                        "deadline": application.deadline,
                        "deadline_kind": application.deadline_kind,
                        "notes": application.notes,
                        "documents": "\n".join(application.documents or []),
                    },
                    prefix=f"a{application.pk}",
                ),
            )
        )
    context = {"case": case, "rows": rows, "add_form": ApplicationAddForm()}
    return render(request, "applications/case.html", context)


@require_POST
@staff_required
def application_add_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    form = ApplicationAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("country", [])) or _("Check the form."))
    else:
        services.application_add(
            case=case,
            keychain=keychain_for(request),
            kind=form.cleaned_data["kind"],
            country=form.cleaned_data["country"],
            notes=form.cleaned_data["notes"],
        )
    return redirect("applications:case", case_id=case.pk)


@require_POST
@staff_required
def application_update_view(
    request: HttpRequest, case_id: int, application_id: int
) -> HttpResponse:
    case = _case(request, case_id)
    application = get_object_or_404(Application, pk=application_id, case=case)
    application.case = case
    form = ApplicationUpdateForm(request.POST, prefix=f"a{application.pk}")
    if not form.is_valid():
        messages.error(request, _("Check the dates and choices."))
        return redirect("applications:case", case_id=case.pk)
    data = form.cleaned_data
    try:
        services.application_update(
            application=application,
            keychain=keychain_for(request),
            change=services.ApplicationChange(
                stage=data["stage"],
                decision=data["decision"],
                submitted_on=data["submitted_on"],
                interview_on=data["interview_on"],
                decided_on=data["decided_on"],
                deadline=data["deadline"],
                deadline_kind=data["deadline_kind"],
                notes=data["notes"],
                documents=form.document_list(),
            ),
        )
    except TransitionRefused as refusal:
        messages.error(request, REFUSALS.get(refusal.reason, refusal.reason))
    else:
        messages.success(request, _("Application saved."))
    return redirect("applications:case", case_id=case.pk)
