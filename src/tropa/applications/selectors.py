"""Reads: a case's applications, and the deadlines that belong in someone's queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings

from tropa.accounts.models import Staff
from tropa.applications.models import Application, Stage
from tropa.cases.selectors import visible_case_ids


@dataclass(frozen=True)
class Deadline:
    application: Application
    days_left: int

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


def deadlines_for(staff: Staff, *, today: date, days: int | None = None) -> list[Deadline]:
    """Open applications whose next deadline is within `days` (or past), on cases
    this person works on; coordinators see all of them. Soonest first."""
    horizon = today + timedelta(days=days or settings.APPLICATION_DEADLINE_DAYS)
    # The near deadlines first, then which of their cases this person holds
    # (as for alarms: cheaper than joining every case's wraps).
    applications = list(
        Application.objects.filter(deadline__isnull=False, deadline__lte=horizon)
        .exclude(stage=Stage.DECIDED)
        .select_related("case")
        .order_by("deadline", "pk")[:500]
    )
    if applications and not staff.is_coordinator:
        visible = visible_case_ids(staff, {a.case_id for a in applications})
        applications = [a for a in applications if a.case_id in visible]
    return [
        Deadline(application, (application.deadline - today).days)
        for application in applications[:50]
        if application.deadline is not None
    ]
