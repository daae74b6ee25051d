"""Journeys: start on a chosen route, check in from the chat, alarms and escalation.

Time is always passed in (`now`), so tests drive a controllable clock and the
Huey tasks pass the real one. Alarms and escalations are conditional UPDATEs
from NULL: whoever runs first (the task scheduled for that moment, the
minute-by-minute sweep, the same task again after a restart) fires it; every
other run finds nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from tropa.accounts.models import Staff
from tropa.audit.models import Action
from tropa.audit.services import audit_record
from tropa.cases.models import Case, CaseEntry, EntryKind, Status
from tropa.cases.notify import applicant_notify
from tropa.cases.services import (
    TransitionRefused,
    case_append_inbound,
    case_unlock,
)
from tropa.journeys.models import CheckIn, Journey, JourneyStatus
from tropa.routes.models import RoutePlan
from tropa.routes.services import plan_mark_chosen, plan_refusal
from tropa.vault import services as vault

CHECK_IN_PREFIX = "checkin"
CHECK_IN_BUTTON = f"{CHECK_IN_PREFIX}:now"
# Sent to the applicant, translated into his language when sent.
JOURNEY_BEGUN = gettext_noop(
    "Your journey has begun. Press the button each time you reach the next stop; "
    "if you do not, your caseworker will be alerted."
)
ROUTE_CHANGED = gettext_noop("Your route has changed. Your caseworker will write with the details.")


# -------------------------------------------------------------- the applicant


def _check_in_button(case: Case) -> tuple[tuple[str, str], ...]:
    with translation.override(case.language or "ru"):
        return ((CHECK_IN_BUTTON, gettext("✅ I have arrived at the next stop")),)


def _notify(case: Case, text: str) -> None:
    with translation.override(case.language or "ru"):
        applicant_notify(case, gettext(text), _check_in_button(case))


def check_in_from_chat(case_id: int, _value: str) -> str:
    """The applicant pressed the check-in button: the earliest open check-in of
    the case's journey is done. Returns the answer, in the applicant's language."""
    case = Case.objects.get(pk=case_id)
    with translation.override(case.language or "ru"):
        check_in = check_in_record(case=case, now=timezone.now())
        if check_in is None:
            return gettext("There is no journey with a check-in waiting right now.")
        if check_in.seq == check_in.total:
            return gettext("You have arrived. Thank you, and welcome. Your caseworker will write.")
        return gettext(
            "Thank you, check-in %(seq)d of %(total)d received. "
            "Press the button again at the next stop."
        ) % {"seq": check_in.seq, "total": check_in.total}


@transaction.atomic
def check_in_record(*, case: Case, now: datetime) -> CheckIn | None:
    journey = Journey.objects.filter(case=case, status=JourneyStatus.ACTIVE).first()
    if journey is None:
        return None
    check_in = (
        CheckIn.objects.select_for_update()
        .filter(journey=journey, done_at=None, superseded_at=None)
        .order_by("due_at", "id")
        .first()
    )
    if check_in is None:
        return None
    CheckIn.objects.filter(pk=check_in.pk).update(done_at=now)
    check_in.done_at = now
    late = " (after an alarm)" if check_in.missed_at else ""
    case_append_inbound(
        case=case,
        text=f"checked in: stop {check_in.seq} of {check_in.total}{late}",
        kind=EntryKind.JOURNEY,
    )
    audit_record(
        action=Action.JOURNEY_CHECKED_IN,
        actor_id=None,
        case_id=case.pk,
        detail={"journey_id": journey.pk, "seq": check_in.seq},
    )
    if check_in.seq == check_in.total:
        _journey_close(journey, JourneyStatus.COMPLETED, now)
        case_append_inbound(case=case, text="journey completed: arrived", kind=EntryKind.JOURNEY)
    return check_in


# ------------------------------------------------------------------ staff side


def _route(route_plan: RoutePlan, index: int) -> dict[str, Any]:
    routes = route_plan.body.get("routes", [])
    if not 0 <= index < len(routes):
        raise TransitionRefused("no_such_route")
    return dict(routes[index])


def _check_ins_for(
    journey: Journey, route: dict[str, Any], route_index: int, start: datetime
) -> list[CheckIn]:
    """One check-in at the expected end of each leg, counted from `start`."""
    legs = route["legs"]
    grace = timedelta(minutes=journey.grace_minutes)
    elapsed = 0.0
    rows = []
    for seq, leg in enumerate(legs, start=1):
        elapsed += float(leg["hours"])
        due = start + timedelta(hours=elapsed)
        rows.append(
            CheckIn(
                journey=journey,
                route_index=route_index,
                seq=seq,
                total=len(legs),
                due_at=due,
                alarm_at=due + grace,
                escalate_at=due + 2 * grace,
            )
        )
    return CheckIn.objects.bulk_create(rows)


def _staff_entry(case: Case, keychain: vault.Keychain, text: str) -> None:
    entry = CaseEntry(case=case, kind=EntryKind.JOURNEY, author_id=keychain.staff_id)
    entry.body = text
    entry.save()


@transaction.atomic
def journey_start(
    *,
    route_plan: RoutePlan,
    keychain: vault.Keychain,
    route_index: int,
    departed_at: datetime,
    grace_minutes: int,
) -> Journey:
    """The plan is chosen and the person sets off: check-ins are scheduled."""
    case = route_plan.case
    staff = Staff.objects.get(pk=keychain.staff_id)
    if (refusal := plan_refusal(case, staff)) is not None:
        raise TransitionRefused(refusal)
    if Journey.objects.filter(case=case, status=JourneyStatus.ACTIVE).exists():
        raise TransitionRefused("journey_active")
    case_unlock(case=case, keychain=keychain)
    route_plan.case = case
    route = _route(route_plan, route_index)
    journey = Journey.objects.create(
        case=case,
        plan=route_plan,
        route_index=route_index,
        departed_at=departed_at,
        grace_minutes=grace_minutes,
        created_by=staff,
    )
    check_ins = _check_ins_for(journey, route, route_index, departed_at)
    plan_mark_chosen(route_plan)
    Case.objects.filter(pk=case.pk, status=Status.IN_PROGRESS).update(status=Status.ON_THE_MOVE)
    _staff_entry(
        case,
        keychain,
        f"journey started on route {route_index + 1} to {route['destination']['name']}: "
        f"{len(check_ins)} check-ins, grace {grace_minutes} min",
    )
    audit_record(
        action=Action.JOURNEY_STARTED,
        actor_id=staff.pk,
        case_id=case.pk,
        detail={"journey_id": journey.pk, "route": route_index},
    )
    _notify(case, JOURNEY_BEGUN)
    _schedule(check_ins)
    return journey


def _schedule(check_ins: list[CheckIn]) -> None:
    from tropa.journeys.tasks import check_in_watch

    rows = [(row.pk, row.alarm_at) for row in check_ins]

    def enqueue() -> None:
        for pk, when in rows:
            check_in_watch.schedule(args=(pk,), eta=when)

    transaction.on_commit(enqueue)


@transaction.atomic
def journey_switch(
    *, journey: Journey, keychain: vault.Keychain, route_index: int, now: datetime
) -> Journey:
    """Change to a backup route mid-journey: what is left of the old route is
    superseded, the new route's check-ins count from now."""
    case = journey.case
    staff = Staff.objects.get(pk=keychain.staff_id)
    if (refusal := plan_refusal(case, staff)) is not None:
        raise TransitionRefused(refusal)
    if journey.status != JourneyStatus.ACTIVE or route_index == journey.route_index:
        raise TransitionRefused("not_allowed")
    case_unlock(case=case, keychain=keychain)
    journey.plan.case = case
    route = _route(journey.plan, route_index)
    CheckIn.objects.filter(journey=journey, done_at=None, superseded_at=None).update(
        superseded_at=now
    )
    Journey.objects.filter(pk=journey.pk).update(route_index=route_index)
    journey.route_index = route_index
    check_ins = _check_ins_for(journey, route, route_index, now)
    _staff_entry(
        case,
        keychain,
        f"switched to backup route {route_index} to {route['destination']['name']}",
    )
    audit_record(
        action=Action.JOURNEY_SWITCHED,
        actor_id=staff.pk,
        case_id=case.pk,
        detail={"journey_id": journey.pk, "route": route_index},
    )
    _notify(case, ROUTE_CHANGED)
    _schedule(check_ins)
    return journey


@transaction.atomic
def journey_end(*, journey: Journey, keychain: vault.Keychain, now: datetime) -> None:
    case = case_unlock(case=journey.case, keychain=keychain)
    _journey_close(journey, JourneyStatus.ENDED, now)
    _staff_entry(case, keychain, "journey ended by the caseworker")


def _journey_close(journey: Journey, status: str, now: datetime) -> None:
    Journey.objects.filter(pk=journey.pk, status=JourneyStatus.ACTIVE).update(
        status=status, ended_at=now
    )
    CheckIn.objects.filter(journey=journey, done_at=None, superseded_at=None).update(
        superseded_at=now
    )
    audit_record(
        action=Action.JOURNEY_ENDED,
        actor_id=None,
        case_id=journey.case_id,
        detail={"journey_id": journey.pk, "status": status},
    )


@transaction.atomic
def alarm_acknowledge(*, check_in: CheckIn, keychain: vault.Keychain, now: datetime) -> None:
    """The caseworker is on it: the alarm leaves the queue and does not escalate."""
    updated = CheckIn.objects.filter(pk=check_in.pk, acknowledged_at=None).update(
        acknowledged_at=now, acknowledged_by_id=keychain.staff_id
    )
    if updated:
        case = case_unlock(case=check_in.journey.case, keychain=keychain)
        _staff_entry(case, keychain, f"alarm for check-in {check_in.seq} handled")
        audit_record(
            action=Action.JOURNEY_ACKNOWLEDGED,
            actor_id=keychain.staff_id,
            case_id=case.pk,
            detail={"check_in_id": check_in.pk},
        )


# ------------------------------------------------------------ alarms (the clock)


def _open(**when: datetime) -> Q:
    """Open check-ins of active journeys, e.g. `_open(alarm_at__lte=now)`."""
    return Q(done_at=None, superseded_at=None, journey__status=JourneyStatus.ACTIVE, **when)


def _fire(
    candidates: QuerySet[CheckIn], field: str, now: datetime, action: str, text: str
) -> CheckIn | None:
    """Set `field` from NULL to `now` on the candidate; only the run that changes
    the row writes the timeline entry and the audit row (and returns it)."""
    ids = list(candidates.values_list("pk", flat=True))
    if not ids or not CheckIn.objects.filter(pk__in=ids, **{field: None}).update(**{field: now}):
        return None
    check_in = CheckIn.objects.select_related("journey__case").get(pk=ids[0])
    case_append_inbound(
        case=check_in.journey.case,
        text=text % {"seq": check_in.seq, "total": check_in.total},
        kind=EntryKind.JOURNEY,
    )
    audit_record(
        action=action,
        actor_id=None,
        case_id=check_in.journey.case_id,
        detail={"check_in_id": check_in.pk},
    )
    return check_in


@transaction.atomic
def check_in_alarm(*, check_in_id: int, now: datetime) -> bool:
    """One grace period past due and no check-in: the alarm, exactly once."""
    fired = _fire(
        CheckIn.objects.filter(_open(alarm_at__lte=now), pk=check_in_id, missed_at=None),
        "missed_at",
        now,
        Action.JOURNEY_MISSED,
        "ALARM: check-in %(seq)d of %(total)d missed",
    )
    if fired is not None:
        _schedule_escalation(fired)
    return fired is not None


def _schedule_escalation(check_in: CheckIn) -> None:
    from tropa.journeys.tasks import check_in_escalation

    pk, when = check_in.pk, check_in.escalate_at
    transaction.on_commit(lambda: check_in_escalation.schedule(args=(pk,), eta=when))


@transaction.atomic
def check_in_escalate(*, check_in_id: int, now: datetime) -> bool:
    """A second grace period with neither a check-in nor a caseworker on it:
    the coordinators are alerted, exactly once."""
    candidates = CheckIn.objects.filter(
        _open(escalate_at__lte=now),
        pk=check_in_id,
        missed_at__isnull=False,
        escalated_at=None,
        acknowledged_at=None,
    )
    return (
        _fire(
            candidates,
            "escalated_at",
            now,
            Action.JOURNEY_ESCALATED,
            "ESCALATED to coordinators: check-in %(seq)d of %(total)d",
        )
        is not None
    )


@dataclass(frozen=True)
class Swept:
    alarms: int
    escalations: int


def check_ins_sweep(*, now: datetime) -> Swept:
    """Everything overdue that no scheduled task has handled yet (the worker was
    down, the queue was flushed): the same conditional transitions."""
    alarms = sum(
        check_in_alarm(check_in_id=pk, now=now)
        for pk in CheckIn.objects.filter(_open(alarm_at__lte=now), missed_at=None).values_list(
            "pk", flat=True
        )
    )
    escalations = sum(
        check_in_escalate(check_in_id=pk, now=now)
        for pk in CheckIn.objects.filter(
            _open(escalate_at__lte=now),
            missed_at__isnull=False,
            escalated_at=None,
            acknowledged_at=None,
        ).values_list("pk", flat=True)
    )
    return Swept(alarms=alarms, escalations=escalations)
