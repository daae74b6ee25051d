"""Reads: a case's applications, and the deadlines that belong in someone's queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Q

from tropa.accounts.models import Staff
from tropa.applications.models import Application, Stage


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
    applications = (
        Application.objects.filter(deadline__isnull=False, deadline__lte=horizon)
        .exclude(stage=Stage.DECIDED)
        .select_related("case")
    )
    if not staff.is_coordinator:
        team_ids = list(staff.teams.values_list("pk", flat=True))
        visible = Q(case__wraps__staff=staff) | Q(case__wraps__team__in=team_ids)
        applications = applications.filter(visible).distinct()
    return [
        Deadline(application, (application.deadline - today).days)
        for application in applications.order_by("deadline", "pk")[:50]
        if application.deadline is not None
    ]
