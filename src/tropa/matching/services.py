"""The matcher, for Django: waiting services and active volunteers in, a proposal out.

`solver.py` is the pure min-cost assignment; this module reads the clear
metadata it needs (team, language, coarse region, urgency, waiting time, load,
capacity, away periods, who flagged a case, who worked on it before), stores
the proposal, and on acceptance wraps each case key for its new assignee.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from tropa.accounts.models import Staff, TeamKind
from tropa.audit.models import Action
from tropa.audit.services import audit_record
from tropa.cases import workflow
from tropa.cases.models import OPEN_SERVICE_STATUSES, CaseService, ServiceStatus
from tropa.cases.services import service_update
from tropa.matching import solver
from tropa.matching.models import Proposal, ProposedAssignment, RowOutcome
from tropa.vault import services as vault
from tropa.vault.models import CaseKeyWrap
from tropa.volunteers.models import AwayPeriod, VettingStatus, VolunteerProfile


def urgency_level(urgency: int) -> int:
    """Case urgency (0–100, from intake) as the solver's three levels."""
    if urgency >= 85:
        return 2
    if urgency >= 70:
        return 1
    return 0


def waiting_services(service_ids: list[int] | None = None) -> list[CaseService]:
    """Services nobody has yet, of cases still open, most urgent first."""
    services = CaseService.objects.filter(
        status=ServiceStatus.REQUESTED,
        assignee=None,
        case__status__in=[state.value for state in workflow.OPEN],
    ).select_related("case")
    if service_ids is not None:
        services = services.filter(pk__in=service_ids)
    return list(services.order_by("-case__urgency", "created_at"))


def open_loads() -> dict[int, int]:
    rows = (
        CaseService.objects.filter(status__in=OPEN_SERVICE_STATUSES, assignee__isnull=False)
        .values("assignee")
        .annotate(n=Count("*"))
    )
    return {row["assignee"]: row["n"] for row in rows}


def volunteers_for_matching(*, today: datetime | None = None) -> list[solver.Volunteer]:
    """Every vetted-and-active, unrevoked volunteer, with their load and whether
    they are away today."""
    day = (today or timezone.now()).date()
    profiles = (
        VolunteerProfile.objects.filter(status=VettingStatus.ACTIVE, staff__revoked_at=None)
        .select_related("staff")
        .prefetch_related("staff__teams")
    )
    away = set(
        AwayPeriod.objects.filter(starts_on__lte=day, ends_on__gte=day).values_list(
            "profile_id", flat=True
        )
    )
    loads = open_loads()
    return [
        solver.Volunteer(
            id=profile.staff_id,
            teams=frozenset(
                team.kind
                for team in profile.staff.teams.all()
                if team.kind != TeamKind.COORDINATORS
            ),
            languages=frozenset(profile.languages),
            regions=frozenset(profile.regions),
            capacity=profile.capacity,
            load=loads.get(profile.staff_id, 0),
            available=profile.pk not in away,
        )
        for profile in profiles
    ]


def _history(case_ids: list[int]) -> dict[int, set[int]]:
    """Staff who held a case before (a personal wrap or a service of it)."""
    previous: dict[int, set[int]] = defaultdict(set)
    wraps = CaseKeyWrap.objects.filter(case_id__in=case_ids, staff__isnull=False)
    for case_id, staff_id in wraps.values_list("case_id", "staff_id"):
        previous[case_id].add(staff_id)
    services = CaseService.objects.filter(case_id__in=case_ids, assignee__isnull=False)
    for case_id, staff_id in services.values_list("case_id", "assignee_id"):
        previous[case_id].add(staff_id)
    return previous


def needs_for(services: list[CaseService], *, now: datetime) -> list[solver.CaseNeed]:
    previous = _history([service.case_id for service in services])
    return [
        solver.CaseNeed(
            id=service.pk,
            team=service.kind,
            languages=frozenset({service.case.language or "ru"}),
            region=service.case.region or None,
            waiting_hours=max(0.0, (now - service.created_at).total_seconds() / 3600),
            urgency=urgency_level(service.case.urgency),
            excluded=frozenset({service.case.flagged_by_id} - {None}),
            previous=frozenset(previous.get(service.case_id, set())),
        )
        for service in services
    ]


@transaction.atomic
def proposal_create(*, by: Staff, service_ids: list[int] | None = None) -> Proposal:
    """Run the matcher over what is waiting (or the given services) and store the proposal.

    Cases flagged as possibly compromised are frozen: they are listed as
    unassignable, never proposed.
    """
    now = timezone.now()
    services = waiting_services(service_ids)
    frozen = [service for service in services if service.case.compromised_at is not None]
    matchable = [service for service in services if service.case.compromised_at is None]
    needs = needs_for(matchable, now=now)
    volunteers = volunteers_for_matching(today=now)
    started = time.perf_counter()
    result = solver.solve(needs, volunteers)
    solve_ms = (time.perf_counter() - started) * 1000
    baseline = solver.greedy(needs, volunteers)
    proposal = Proposal.objects.create(
        created_by=by,
        scope=sorted(service_ids or []),
        unassigned=[
            {"service_id": item.case_id, "reasons": list(item.reasons)}
            for item in result.unassigned
        ]
        + [{"service_id": service.pk, "reasons": ["frozen"]} for service in frozen],
        total_cost=result.total_cost,
        greedy_cost=baseline.total_cost,
        greedy_served=len(baseline.assignments),
        solve_ms=solve_ms,
    )
    ProposedAssignment.objects.bulk_create(
        [
            ProposedAssignment(
                proposal=proposal,
                service_id=item.case_id,
                volunteer_id=item.volunteer_id,
                cost=item.cost,
                reasons=list(item.reasons),
            )
            for item in result.assignments
        ]
    )
    audit_record(
        action=Action.MATCH_PROPOSED,
        actor_id=by.pk,
        detail={"proposal_id": proposal.pk, "rows": len(result.assignments)},
    )
    return proposal


def eligible_volunteers(
    services: list[CaseService], volunteers: list[solver.Volunteer], *, now: datetime
) -> dict[int, list[int]]:
    """Per service: who could take it now without breaking a hard constraint."""
    return {
        need.id: [
            volunteer.id
            for volunteer in volunteers
            if solver.pair_cost(need, volunteer, 0, solver.DEFAULT_WEIGHTS) is not None
        ]
        for need in needs_for(services, now=now)
    }


@transaction.atomic
def proposal_accept(
    *, proposal: Proposal, keychain: vault.Keychain, choices: dict[int, int | None]
) -> dict[str, int]:
    """Apply the proposal, with the coordinator's edits (`choices`: row id → staff
    id, or None to leave it unassigned). Every row is checked again against the
    hard constraints and current loads, since time passed since the solve: a row
    that no longer holds is marked stale, not forced through."""
    if proposal.is_accepted:
        return {}
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.is_accepted:
        return {}
    now = timezone.now()
    volunteers = {volunteer.id: volunteer for volunteer in volunteers_for_matching(today=now)}
    taken: dict[int, int] = defaultdict(int)
    counts = {outcome: 0 for outcome in RowOutcome.values}
    rows = list(proposal.rows.order_by("pk"))
    chosen_by_row = {row.pk: choices.get(row.pk, row.volunteer_id) for row in rows}
    services = (
        CaseService.objects.select_for_update()
        .select_related("case")
        .in_bulk([row.service_id for row in rows])
    )
    # Hard constraints do not change as rows are applied; only the loads do (`taken`).
    needs = {need.id: need for need in needs_for(list(services.values()), now=now)}
    staff = Staff.objects.in_bulk({pk for pk in chosen_by_row.values() if pk is not None})
    for row in rows:
        chosen = chosen_by_row[row.pk]
        outcome = (
            RowOutcome.SKIPPED
            if chosen is None
            else _apply_row(
                services[row.service_id],
                needs[row.service_id],
                staff.get(chosen),
                volunteers.get(chosen),
                taken,
                keychain,
            )
        )
        ProposedAssignment.objects.filter(pk=row.pk).update(
            outcome=outcome, volunteer_id=chosen if chosen is not None else row.volunteer_id
        )
        counts[outcome] += 1
    by = Staff.objects.get(pk=keychain.staff_id)
    Proposal.objects.filter(pk=proposal.pk).update(accepted_at=now, accepted_by=by)
    audit_record(
        action=Action.MATCH_ACCEPTED,
        actor_id=by.pk,
        detail={"proposal_id": proposal.pk, **{k: v for k, v in counts.items() if v}},
    )
    return counts


def _apply_row(
    service: CaseService,
    need: solver.CaseNeed,
    assignee: Staff | None,
    volunteer: solver.Volunteer | None,
    taken: dict[int, int],
    keychain: vault.Keychain,
) -> str:
    """One chosen row: stale (no longer possible) or assigned."""
    still_waiting = (
        service.status == ServiceStatus.REQUESTED
        and service.assignee_id is None
        and service.case.compromised_at is None
    )
    if assignee is None or volunteer is None or not still_waiting:
        return RowOutcome.STALE
    if solver.pair_cost(need, volunteer, taken[volunteer.id], solver.DEFAULT_WEIGHTS) is None:
        return RowOutcome.STALE
    taken[volunteer.id] += 1
    service_update(service=service, keychain=keychain, status=service.status, assignee=assignee)
    return RowOutcome.ASSIGNED
