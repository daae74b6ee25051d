"""Reads for the volunteer directory and the workload view (clear metadata only)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from tropa.accounts.models import Staff, Team, TeamKind
from tropa.cases import workflow
from tropa.cases.models import OPEN_SERVICE_STATUSES, Case, CaseService
from tropa.journeys.selectors import overdue_check_ins_by_team
from tropa.volunteers.models import Invite, VettingStatus, VolunteerProfile


def directory() -> QuerySet[Staff]:
    """Everyone, coordinators first, revoked last, with profile and teams."""
    return (
        Staff.objects.select_related("profile")
        .prefetch_related("teams", "profile__away")
        .order_by("revoked_at", "role", "alias")
    )


def invites_pending() -> QuerySet[Invite]:
    return Invite.objects.filter(used_at=None, expires_at__gt=timezone.now())


def away_today(profile: VolunteerProfile, *, today: date | None = None) -> bool:
    day = today or timezone.localdate()
    return any(period.starts_on <= day <= period.ends_on for period in profile.away.all())


@dataclass
class VolunteerLoad:
    staff: Staff
    status: str
    teams: list[str]
    open: int
    capacity: int
    oldest_open: datetime | None
    away: bool

    @property
    def over_capacity(self) -> bool:
        return self.open > self.capacity


@dataclass
class TeamLoad:
    kind: str
    label: str
    active: int = 0
    capacity: int = 0
    open: int = 0
    waiting: int = 0
    oldest_waiting: datetime | None = None
    overdue_first_replies: int = 0
    overdue_check_ins: int = 0
    volunteers: list[VolunteerLoad] = field(default_factory=list)


def workload(*, now: datetime | None = None) -> list[TeamLoad]:
    """Per team and per volunteer: open services, capacity, what waits and since
    when, first replies past the SLA, missed check-ins."""
    now = now or timezone.now()
    teams = {
        team.kind: TeamLoad(kind=team.kind, label=str(team))
        for team in Team.objects.exclude(kind=TeamKind.COORDINATORS)
    }
    per_staff = {
        row["assignee"]: row
        for row in CaseService.objects.filter(
            status__in=OPEN_SERVICE_STATUSES, assignee__isnull=False
        )
        .values("assignee")
        .annotate(n=Count("*"), oldest=Min("created_at"))
    }
    profiles = (
        VolunteerProfile.objects.exclude(status=VettingStatus.REVOKED)
        .select_related("staff")
        .prefetch_related("staff__teams", "away")
        .order_by("staff__alias")
    )
    for profile in profiles:
        kinds = [team.kind for team in profile.staff.teams.all() if team.kind in teams]
        row = per_staff.get(profile.staff_id, {})
        load = VolunteerLoad(
            staff=profile.staff,
            status=profile.get_status_display(),
            teams=kinds,
            open=row.get("n", 0),
            capacity=profile.capacity,
            oldest_open=row.get("oldest"),
            away=away_today(profile, today=now.date()),
        )
        for kind in kinds:
            team = teams[kind]
            team.volunteers.append(load)
            if profile.status == VettingStatus.ACTIVE and not load.away:
                team.active += 1
                team.capacity += profile.capacity
    for row in (
        CaseService.objects.filter(
            status__in=OPEN_SERVICE_STATUSES, case__status__in=[s.value for s in workflow.OPEN]
        )
        .values("kind")
        .annotate(
            open=Count("pk", filter=Q(assignee__isnull=False)),
            waiting=Count("pk", filter=Q(assignee__isnull=True)),
            oldest=Min("created_at", filter=Q(assignee__isnull=True)),
        )
    ):
        if row["kind"] in teams:
            team = teams[row["kind"]]
            team.open, team.waiting, team.oldest_waiting = (
                row["open"],
                row["waiting"],
                row["oldest"],
            )
    sla = now - timedelta(minutes=settings.CASE_FIRST_REPLY_SLA_MINUTES)
    overdue = (
        Case.objects.filter(
            first_reply_at=None,
            created_at__lt=sla,
            status__in=[s.value for s in workflow.OPEN],
            wraps__team__kind__in=list(teams),
        )
        .values("wraps__team__kind")
        .annotate(n=Count("pk", distinct=True))
    )
    for row in overdue:
        teams[row["wraps__team__kind"]].overdue_first_replies = row["n"]
    for kind, count in overdue_check_ins_by_team().items():
        if kind in teams:
            teams[kind].overdue_check_ins = count
    return list(teams.values())


def backlog_series(*, days: int = 30, now: datetime | None = None) -> list[tuple[date, int]]:
    """How many services were open (requested or in progress) at the end of each
    of the last `days` days: created by then and not finished by then."""
    now = now or timezone.now()
    start = (now - timedelta(days=days - 1)).date()
    rows = CaseService.objects.filter(
        Q(finished_at=None) | Q(finished_at__date__gte=start)
    ).values_list("created_at", "finished_at")
    # One pass: a service counts from the day it was created (or `start`) up to
    # the day before it was finished.
    change: Counter[date] = Counter()
    for created, finished in rows.iterator(chunk_size=5000):
        change[max(created.astimezone(now.tzinfo).date(), start)] += 1
        if finished is not None:
            change[finished.astimezone(now.tzinfo).date()] -= 1
    series, open_now = [], 0
    for offset in range(days):
        day = start + timedelta(days=offset)
        open_now += change[day]
        series.append((day, open_now))
    return series
