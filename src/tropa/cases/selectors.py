from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from tropa.accounts.models import Staff
from tropa.cases import workflow
from tropa.cases.models import Case, CaseEntry, CaseService, Verification
from tropa.vault import services as vault
from tropa.vault.models import CaseKeyWrap


def cases_visible_to(keychain: vault.Keychain) -> QuerySet[Case]:
    """Cases with a wrap for this person or a team whose key they hold."""
    team_ids = [key.team_id for key in keychain.held_team_keys()]
    wraps = CaseKeyWrap.objects.filter(Q(staff_id=keychain.staff_id) | Q(team_id__in=team_ids))
    return Case.objects.filter(pk__in=wraps.values("case_id")).order_by("-urgency", "created_at")


def visible_case_ids(staff: Staff, case_ids: set[int]) -> set[int]:
    """Which of these cases the person holds a wrap for, directly or through a team."""
    team_ids = list(staff.teams.values_list("pk", flat=True))
    wraps = CaseKeyWrap.objects.filter(case_id__in=case_ids).filter(
        Q(staff=staff) | Q(team_id__in=team_ids)
    )
    return set(wraps.values_list("case_id", flat=True))


@dataclass(frozen=True)
class QueueFilters:
    status: str = ""
    category: str = ""
    team: str = ""
    language: str = ""
    region: str = ""
    verified: str = ""  # "yes" | "no" | ""
    flagged: str = ""  # "yes" | "no" | ""

    @classmethod
    def from_query(cls, query: dict[str, str]) -> QueueFilters:
        fields = cls.__dataclass_fields__
        return cls(**{name: str(query.get(name, ""))[:32] for name in fields})


def queue(*, staff: Staff, keychain: vault.Keychain, filters: QueueFilters) -> QuerySet[Case]:
    """What needs this person now: most urgent first, then longest waiting.

    Coordinators see the whole triage queue; caseworkers what is theirs. Only
    clear metadata is read here, so the queue stays fast at 100,000 cases.
    """
    cases = Case.objects.all() if staff.is_coordinator else cases_visible_to(keychain)
    if filters.status:
        cases = cases.filter(status=filters.status)
    else:
        # By default only what still needs work; outcomes are one click away.
        cases = cases.filter(status__in=[state.value for state in workflow.OPEN])
    for name in ("category", "language", "region"):
        if getattr(filters, name):
            cases = cases.filter(**{name: getattr(filters, name)})
    if filters.team:
        cases = cases.filter(wraps__team__kind=filters.team)
    if filters.verified:
        cases = cases.filter(verified_at__isnull=filters.verified != "yes")
    if filters.flagged:
        cases = cases.filter(compromised_at__isnull=filters.flagged != "yes")
    return cases.order_by("-urgency", "created_at")


def status_counts(*, staff: Staff, keychain: vault.Keychain) -> dict[str, int]:
    cases = Case.objects.all() if staff.is_coordinator else cases_visible_to(keychain)
    # COUNT(*) lets PostgreSQL answer from the status index alone.
    rows = cases.order_by().values("status").annotate(n=Count("*"))
    return {row["status"]: row["n"] for row in rows}


def sla_deadline(case: Case) -> datetime:
    return case.created_at + timedelta(minutes=settings.CASE_FIRST_REPLY_SLA_MINUTES)


def sla_breached(case: Case, *, now: datetime | None = None) -> bool:
    replied = case.first_reply_at
    deadline = sla_deadline(case)
    return (replied or now or timezone.now()) > deadline


# Rows under a case key decrypt through the *unlocked* case instance; a row
# fetched through its foreign key would carry a fresh, locked copy. These bind
# each row to the case the caller unlocked.


def case_timeline(case: Case) -> list[CaseEntry]:
    entries = list(case.entries.select_related("author"))
    for entry in entries:
        entry.case = case
    return entries


def case_services(case: Case) -> list[CaseService]:
    found = list(case.services.select_related("assignee").prefetch_related("sessions"))
    for service in found:
        service.case = case
        for session in service.sessions.all():
            session.service = service
    return found


def case_verification(case: Case) -> Verification | None:
    verification = Verification.objects.filter(case=case).first()
    if verification is not None:
        verification.case = case
    return verification
