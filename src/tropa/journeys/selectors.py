"""Reads for the journey page, the alarm list in the queue and the workload view."""

from __future__ import annotations

from tropa.accounts.models import Staff, TeamKind
from tropa.cases.selectors import visible_case_ids
from tropa.journeys.models import CheckIn, Journey, JourneyStatus


def alarms_for(staff: Staff, *, limit: int = 20) -> list[CheckIn]:
    """Open, missed, unhandled check-ins this person should see: a caseworker's
    own and their teams' cases; coordinators all of them (escalated first).

    Runs on every staff page, so the few open alarms are read first and only
    their cases checked against the person's wraps (joining the wraps of
    100,000 cases first costs PostgreSQL ~15 ms per page)."""
    alarms = list(
        CheckIn.objects.filter(
            done_at=None,
            superseded_at=None,
            missed_at__isnull=False,
            acknowledged_at=None,
            journey__status=JourneyStatus.ACTIVE,
        )
        .select_related("journey__case")
        .order_by("escalated_at", "alarm_at")[:500]
    )
    if alarms and not staff.is_coordinator:
        visible = visible_case_ids(staff, {alarm.journey.case_id for alarm in alarms})
        alarms = [alarm for alarm in alarms if alarm.journey.case_id in visible]
    return alarms[:limit]


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
