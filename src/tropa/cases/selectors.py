from __future__ import annotations

from django.db.models import Q, QuerySet

from tropa.cases.models import Case
from tropa.vault import services as vault
from tropa.vault.models import CaseKeyWrap


def cases_visible_to(keychain: vault.Keychain) -> QuerySet[Case]:
    """Cases with a wrap for this person or a team whose key they hold."""
    team_ids = [key.team_id for key in keychain.held_team_keys()]
    wraps = CaseKeyWrap.objects.filter(Q(staff_id=keychain.staff_id) | Q(team_id__in=team_ids))
    return Case.objects.filter(pk__in=wraps.values("case_id")).order_by("-urgency", "created_at")
