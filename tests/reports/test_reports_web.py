"""Statistics in the web app and `tropa report`: small counts never shown, never derivable."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.conftest import Organisation, audit_actions, in_english, sign_in
from tests.volunteers.conftest import sealed_case
from tropa.cases.models import Case
from tropa.reports import services
from tropa.reports.suppression import SUPPRESSED, audit


def _history(count: int, *, days_ago: int, channel: str, category: str, outcome: str) -> None:
    for _ in range(count):
        case = sealed_case()
        created = timezone.now() - timedelta(days=days_ago)
        Case.objects.filter(pk=case.pk).update(
            created_at=created,
            channel=channel,
            category=category,
            status="closed",
            outcome=outcome,
            closed_at=created + timedelta(days=2),
            first_reply_at=created + timedelta(hours=3),
        )


def _sample() -> None:
    _history(14, days_ago=40, channel="telegram", category="mobilised", outcome="left_front_abroad")
    _history(12, days_ago=45, channel="web", category="mobilised", outcome="avoided_legally")
    _history(3, days_ago=50, channel="web", category="awol", outcome="left_front_hiding")


def test_the_dashboard_hides_small_counts_and_what_would_reveal_them(org: Organisation) -> None:
    _sample()
    facts = services.case_facts()
    data = services.dashboard(facts, today=timezone.localdate(), period="month")
    assert data.volumes.value(("awol", None)) is SUPPRESSED  # 3 cases
    intervals = audit(data.volumes)
    for cell in data.volumes.suppressed():
        low, high = intervals[cell]
        assert high - low >= data.threshold  # not pinned down by the totals
    page = in_english(sign_in(Client(), org.coordinator)).get("/reports/?period=month")
    body = page.content.decode()
    assert page.status_code == 200 and body.count("<svg") == 3
    assert "Outcomes by category" in body and "Volunteer workload" in body
    weekly = in_english(sign_in(Client(), org.coordinator)).get("/reports/?period=week")
    assert weekly.status_code == 200


def test_the_channel_table_never_undoes_the_category_table(org: Organisation) -> None:
    """Both tables count the same cases: together they must not pin a hidden cell."""

    _history(30, days_ago=40, channel="telegram", category="mobilised", outcome="declined_help")
    _history(25, days_ago=40, channel="web", category="conscript", outcome="declined_help")
    _history(4, days_ago=40, channel="web", category="awol", outcome="declined_help")
    data = services.dashboard(services.case_facts(), today=timezone.localdate(), period="month")
    assert data.volumes.value(("awol", None)) is SUPPRESSED
    if data.channels is not None:
        shared = [(None, c) for c in data.volumes.columns] + [(None, None)]
        for cell in shared:  # the only numbers the two tables have in common
            assert data.volumes.value(cell) == data.channels.value(cell)
            assert data.volumes.value(cell) is not SUPPRESSED
    intervals = audit(data.volumes)
    for cell in data.volumes.suppressed():
        low, high = intervals[cell]
        assert high - low >= data.threshold


def test_public_figures_are_whole_months_and_sums_of_published_numbers(org: Organisation) -> None:
    _sample()
    figures = services.public_figures(services.case_facts(), today=timezone.localdate())
    current = timezone.localdate().strftime("%Y-%m")
    assert current not in figures.months  # only closed months
    outcomes = figures.tables.outcomes
    if outcomes is not None and figures.headlines["left_the_front"] is not SUPPRESSED:
        parts = [outcomes.value((None, o)) for o in ("left_front_abroad", "left_front_hiding")]
        assert SUPPRESSED not in parts
        assert figures.headlines["left_the_front"] == sum(parts)
    page = in_english(sign_in(Client(), org.coordinator)).get("/reports/public/")
    assert "helped to leave the front" in page.content.decode()


def test_caseworkers_do_not_see_statistics(org: Organisation) -> None:
    client = sign_in(Client(), org.caseworker)
    assert client.get("/reports/").status_code == 404
    assert client.get("/reports/public/").status_code == 404


def test_tropa_report_exports_json_and_csv(org: Organisation, tmp_path: Path) -> None:
    _sample()
    out = tmp_path / "public.json"
    call_command("report", kind="public", format="json", out=out)
    document = json.loads(out.read_text())
    assert {"headlines", "requests_by_category", "note"} <= set(document)
    counts = document["requests_by_category"]["cells"]
    assert all(value is None or value == 0 or value >= 10 for row in counts for value in row)
    csv_out = tmp_path / "volumes.csv"
    call_command("report", kind="volumes", format="csv", period="month", out=csv_out)
    text = csv_out.read_text()
    assert "mobilised" in text and ",3," not in text
    assert "report.exported" in audit_actions()
