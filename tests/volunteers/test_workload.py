"""The workload view: per team and per volunteer, and the backlog chart."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from tests.conftest import Organisation, Persona, keychain_of, sign_in
from tests.volunteers.conftest import active_volunteer, waiting_service
from tropa.cases.models import CaseService, ServiceStatus
from tropa.volunteers import selectors


def test_workload_counts_open_waiting_and_overdue(org: Organisation, caseworker: Persona) -> None:
    from tropa.cases.models import Case
    from tropa.cases.services import service_update

    active_volunteer(org, caseworker, capacity=1)
    taken, waiting, late = (waiting_service(org, "legal") for _ in range(3))
    service_update(
        service=taken,
        keychain=keychain_of(org.coordinator),
        status=ServiceStatus.IN_PROGRESS,
        assignee=caseworker.staff,
    )
    Case.objects.filter(pk=late.case_id).update(created_at=timezone.now() - timedelta(hours=5))
    legal = next(team for team in selectors.workload() if team.kind == "legal")
    assert (legal.active, legal.capacity, legal.open, legal.waiting) == (1, 1, 1, 2)
    assert legal.overdue_first_replies == 1
    (load,) = legal.volunteers
    assert (load.open, load.capacity, load.over_capacity) == (1, 1, False)
    page = sign_in(Client(), org.coordinator).get("/volunteers/workload/").content.decode()
    assert "<svg" in page and "Lynx" in page


def test_the_backlog_series_counts_what_was_open_each_day(org: Organisation) -> None:
    now = timezone.now()
    old, done, fresh = (waiting_service(org, kind) for kind in ("legal", "visa", "documents"))
    CaseService.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=5))
    CaseService.objects.filter(pk=done.pk).update(
        created_at=now - timedelta(days=4),
        finished_at=now - timedelta(days=2),
        status=ServiceStatus.DONE,
    )
    series = dict(selectors.backlog_series(days=7, now=now))
    day = lambda n: (now - timedelta(days=n)).date()  # noqa: E731
    assert series[day(6)] == 0
    assert series[day(5)] == 1
    assert series[day(3)] == 2
    assert series[day(1)] == 1
    assert series[day(0)] == 2  # the old one and today's
    assert fresh.created_at.date() == day(0)


def test_the_chart_is_plain_svg_with_escaped_labels() -> None:
    from tropa.core.charts import bar_chart

    svg = bar_chart([("<b>", 3), ("x", 0)], title="a & b")
    assert svg.startswith("<svg") and "<script" not in svg and "style=" not in svg
    assert "&lt;b&gt;" in svg and "a &amp; b" in svg
