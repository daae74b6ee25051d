from __future__ import annotations

from django.http import HttpRequest

from tropa.journeys.selectors import alarms_for
from tropa.routes.services import may_plan


def journey_alarms(request: HttpRequest) -> dict[str, object]:
    """Missed check-ins, on every staff page (the queue lists them at the top)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return {}
    return {
        "journey_alarms": alarms_for(user),
        "may_plan_routes": may_plan(user),
    }
