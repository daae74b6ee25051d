"""For the views of every app that works inside a case."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from tropa.cases.models import Case
from tropa.cases.services import case_unlock
from tropa.vault import crypto
from tropa.vault.session import keychain_for


def case_unlocked_or_404(request: HttpRequest, case_id: int) -> Case:
    """The case, unlocked with this person's keys; 404 if they hold no wrap for
    it, or if it is flagged as possibly compromised and they are not a
    coordinator (no hint that it exists)."""
    case = get_object_or_404(Case, pk=case_id)
    if case.compromised_at and not request.user.is_coordinator:
        raise Http404
    try:
        return case_unlock(case=case, keychain=keychain_for(request))
    except crypto.MissingWrap:
        raise Http404 from None
