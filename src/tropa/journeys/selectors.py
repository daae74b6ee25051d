"""Reads for the journey page, the alarm list in the queue and the workload view."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tropa.accounts.models import Staff, TeamKind
from tropa.journeys.models import CheckIn, Journey, JourneyStatus


def alarms_for(staff: Staff) -> QuerySet[CheckIn]:
    """Open, missed, unhandled check-ins this person should see: a caseworker's
    own and their teams' cases; coordinators all of them (escalated first)."""
    alarms = CheckIn.objects.filter(
        done_at=None,
        superseded_at=None,
        missed_at__isnull=False,
        acknowledged_at=None,
        journey__status=JourneyStatus.ACTIVE,
    ).select_related("journey__case")
    if not staff.is_coordinator:
        team_ids = list(staff.teams.values_list("pk", flat=True))
        visible = Q(journey__case__wraps__staff=staff) | Q(journey__case__wraps__team__in=team_ids)
        alarms = alarms.filter(visible).distinct()
    return alarms.order_by("escalated_at", "alarm_at")


def overdue_check_ins_by_team() -> dict[str, int]:
    """Missed check-ins nobody handled yet; journeys are the evacuation team's work."""
    count = CheckIn.objects.filter(
        done_at=None,
        superseded_at=None,
        missed_at__isnull=False,
        acknowledged_at=None,
        journey__status=JourneyStatus.ACTIVE,
    ).count()
    return {TeamKind.EVACUATION: count} if count else {}


def journey_of(case_id: int) -> Journey | None:
    """The active journey of a case, else its latest one."""
    journeys = Journey.objects.filter(case_id=case_id).select_related("plan")
    return journeys.filter(status=JourneyStatus.ACTIVE).first() or journeys.first()
