"""The case file, as far as the vault issue needs it: open only through a wrap."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from tropa.accounts.decorators import staff_required
from tropa.cases import selectors, services
from tropa.cases.models import Case
from tropa.vault import crypto
from tropa.vault.session import keychain_for


@staff_required
def case_list_view(request: HttpRequest) -> HttpResponse:
    keychain = keychain_for(request)
    cases = selectors.cases_visible_to(keychain)[:100] if keychain else []
    return render(request, "cases/list.html", {"cases": cases})


@staff_required
def case_detail_view(request: HttpRequest, case_id: int) -> HttpResponse:
    keychain = keychain_for(request)
    case = get_object_or_404(Case, pk=case_id)
    if keychain is None:
        raise Http404
    try:
        services.case_open(case=case, keychain=keychain)
    except crypto.MissingWrap:
        # No wrap for this person: the case does not exist as far as they know.
        raise Http404 from None
    entries = list(case.entries.all())
    for entry in entries:
        entry.case = case  # share the unlocked case key
    return render(request, "cases/detail.html", {"case": case, "entries": entries})
