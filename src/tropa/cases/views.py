"""The caseworker's queue and case file. Thin: forms in, services, a redirect out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tropa.accounts.decorators import coordinator_required, staff_required
from tropa.accounts.models import TeamKind
from tropa.cases import selectors, services
from tropa.cases.forms import (
    DecisionForm,
    FlagForm,
    NoteForm,
    QuickReplyForm,
    ReplyForm,
    ServiceAddForm,
    ServiceUpdateForm,
    SessionForm,
    StatusForm,
    VerificationForm,
)
from tropa.cases.models import Case, CaseService, Outcome, QuickReply, ServiceStatus, Status
from tropa.cases.workflow import State, next_states
from tropa.vault import crypto
from tropa.vault.session import keychain_for

REFUSALS = {
    "not_allowed": gettext_lazy("That move is not allowed from the current status."),
    "needs_verification": gettext_lazy("A coordinator must verify this case first."),
    "coordinator_only": gettext_lazy("Only a coordinator can do that."),
    "unknown_service": gettext_lazy("There is no such service."),
    "unknown_assignee": gettext_lazy("There is no such active staff member."),
    "outcome_required": gettext_lazy("Choose the outcome before closing the case."),
    "frozen": gettext_lazy(
        "This case is flagged as possibly compromised; only coordinators can act on it."
    ),
}


@staff_required
def case_list_view(request: HttpRequest) -> HttpResponse:
    keychain = keychain_for(request)
    filters = selectors.QueueFilters.from_query(request.GET.dict())
    cases = selectors.queue(staff=request.user, keychain=keychain, filters=filters)
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [(case, selectors.sla_breached(case, now=now)) for case in page]
    counts = selectors.status_counts(staff=request.user, keychain=keychain)
    context = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "counts": [(value, label, counts.get(value, 0)) for value, label in Status.choices],
        "statuses": Status.choices,
        "teams": [
            (kind, label) for kind, label in TeamKind.choices if kind != TeamKind.COORDINATORS
        ],
        "query": request.GET.copy(),
    }
    return render(request, "cases/list.html", context)


def _open(request: HttpRequest, case_id: int) -> Case:
    """The case, unlocked for this person, or 404 (no wrap = no such case for them)."""
    keychain = keychain_for(request)
    case = get_object_or_404(Case, pk=case_id)
    if keychain is None:
        raise Http404
    if case.compromised_at and not request.user.is_coordinator:
        raise Http404
    try:
        return services.case_open(case=case, keychain=keychain)
    except crypto.MissingWrap:
        raise Http404 from None


@staff_required
def case_detail_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _open(request, case_id)
    verification = selectors.case_verification(case)
    context = {
        "case": case,
        "entries": selectors.case_timeline(case),
        "verification": verification,
        "reply_form": ReplyForm(),
        "note_form": NoteForm(),
        "next_states": [(s.value, Status(s.value).label) for s in next_states(State(case.status))],
        "can_close": State.CLOSED in next_states(State(case.status)),
        "may_work_on_applications": request.user.is_coordinator
        or request.user.teams.filter(kind=TeamKind.VISA).exists(),
        "outcomes": Outcome.choices,
        "verification_form": VerificationForm(
            initial={
                "documents_checked": verification.documents_checked,
                "call_at": verification.call_at,
                "call_link": verification.call_link,
                "call_done": verification.call_done,
            }
            if verification
            else None
        ),
        "decision_form": DecisionForm(),
        "services": selectors.case_services(case),
        "service_form": ServiceAddForm(),
        "service_statuses": ServiceStatus.choices,
        "quick_replies": QuickReply.objects.all(),
    }
    return render(request, "cases/detail.html", context)


@coordinator_required
def quick_replies_view(request: HttpRequest) -> HttpResponse:
    """The small knowledge base of saved answers, in Russian and English."""
    editing = QuickReply.objects.filter(pk=request.GET.get("edit") or 0).first()
    form = QuickReplyForm(request.POST or None, instance=editing)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Saved."))
        return redirect("cases:quick_replies")
    return render(
        request, "cases/quick_replies.html", {"form": form, "replies": QuickReply.objects.all()}
    )


def _case_action(
    form_class: type, act: Callable[[Case, Any, dict[str, Any]], None]
) -> Callable[..., HttpResponse]:
    @require_POST
    @staff_required
    def view(request: HttpRequest, case_id: int) -> HttpResponse:
        case = _open(request, case_id)
        form = form_class(request.POST)
        if not form.is_valid():
            messages.error(
                request,
                _("Please correct the form: %(errors)s") % {"errors": form.errors.as_text()},
            )
        else:
            try:
                act(case, keychain_for(request), form.cleaned_data)
            except services.TransitionRefused as refusal:
                messages.error(request, REFUSALS.get(refusal.reason, refusal.reason))
        return redirect("cases:detail", case_id=case.pk)

    return view


def _reply(case: Case, keychain: Any, data: dict[str, Any]) -> None:
    from tropa.intake.services import relay_reply

    text = (data.get("text") or "").strip()
    if not text:
        text = data["quick"].text_for(case.language)  # a saved answer, in his language
    relay_reply(case=case, keychain=keychain, text=text, sensitive=data.get("sensitive", False))


def _service(case: Case, data: dict[str, Any]) -> CaseService:
    service = CaseService.objects.filter(case=case, pk=data["service"]).first()
    if service is None:
        raise Http404
    return service


def _service_update(case: Case, keychain: Any, data: dict[str, Any]) -> None:
    from tropa.accounts.models import Staff

    assignee = None
    if data.get("assignee"):
        assignee = Staff.objects.filter(pk=data["assignee"], revoked_at=None).first()
        if assignee is None:
            raise services.TransitionRefused("unknown_assignee")
    services.service_update(
        service=_service(case, data), keychain=keychain, status=data["status"], assignee=assignee
    )


def _session_log(case: Case, keychain: Any, data: dict[str, Any]) -> None:
    services.service_session_log(
        service=_service(case, data),
        keychain=keychain,
        held_at=data["held_at"],
        minutes=data["minutes"],
        note=data["note"],
    )


case_reply_view = _case_action(ReplyForm, _reply)
case_note_view = _case_action(
    NoteForm,
    lambda case, keychain, data: services.case_note_add(
        case=case, keychain=keychain, text=data["text"]
    ),
)
case_status_view = _case_action(
    StatusForm,
    lambda case, keychain, data: services.case_transition(
        case=case, target=data["target"], keychain=keychain, outcome=data.get("outcome") or ""
    ),
)
case_verification_view = _case_action(
    VerificationForm,
    lambda case, keychain, data: services.verification_update(
        case=case,
        keychain=keychain,
        documents_checked=data["documents_checked"],
        call_at=data["call_at"],
        call_link=data["call_link"],
        call_done=data["call_done"],
    ),
)
case_service_add_view = _case_action(
    ServiceAddForm,
    lambda case, keychain, data: services.service_add(
        case=case, kind=data["kind"], keychain=keychain
    ),
)
case_service_update_view = _case_action(ServiceUpdateForm, _service_update)
case_session_view = _case_action(SessionForm, _session_log)
case_flag_view = _case_action(
    FlagForm,
    lambda case, keychain, data: services.case_flag_compromised(
        case_id=case.pk, reason="suspicious_behaviour", by_id=keychain.staff_id
    ),
)
case_decision_view = _case_action(
    DecisionForm,
    lambda case, keychain, data: services.verification_decide(
        case=case, keychain=keychain, verified=data["verified"], reason=data["reason"]
    ),
)
