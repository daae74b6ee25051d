"""The coordinators' dashboard and the public figures page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from tropa.accounts.decorators import coordinator_required
from tropa.core.charts import bar_chart
from tropa.reports import services
from tropa.reports.suppression import SUPPRESSED, PublishedTable
from tropa.volunteers.selectors import workload


def _table(table: PublishedTable | None) -> list[list[str]] | None:
    return None if table is None else table.render(mark="x", total=_("Total"))


def _bars(table: PublishedTable) -> list[tuple[str, int | None]]:
    return [
        (column, None if value is SUPPRESSED else int(value))
        for column, value in zip(table.columns, table.column_totals, strict=True)
    ]


@coordinator_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period", "month")
    period = period if period in ("week", "month") else "month"
    data = services.dashboard(services.case_facts(), today=timezone.localdate(), period=period)
    context = {
        "data": data,
        "volumes": _table(data.volumes),
        "channels": _table(data.channels),
        "outcomes": _table(data.outcomes),
        "volume_chart": bar_chart(
            _bars(data.volumes), title=_("New requests per period"), label_every=2
        ),
        "backlog_chart": bar_chart(
            [
                (label[5:], None if value is SUPPRESSED else int(value))
                for label, value in data.backlog
            ],
            title=_("Open cases at the end of each day, last 30 days"),
        ),
        "reply_chart": bar_chart(
            [
                (r.period, None if r.median_hours is None else round(r.median_hours))
                for r in data.replies
            ],
            title=_("Median hours to the first human reply"),
            label_every=2,
        ),
        "teams": workload(),
    }
    return render(request, "reports/dashboard.html", context)


@coordinator_required
def public_view(request: HttpRequest) -> HttpResponse:
    figures = services.public_figures(services.case_facts(), today=timezone.localdate())
    context = {
        "figures": figures,
        "headlines": [
            (label, None if figures.headlines[key] is SUPPRESSED else figures.headlines[key])
            for key, label in (
                ("left_the_front", _("helped to leave the front")),
                ("avoided_service", _("helped to avoid service")),
                ("protection_granted", _("granted a visa or asylum")),
            )
        ],
        "by_category": _table(figures.tables.volumes.total),
        "by_channel": _table(figures.tables.by_channel),
        "by_region": _table(figures.tables.by_region),
        "outcomes": _table(figures.tables.outcomes),
        "chart": bar_chart(
            _bars(figures.tables.volumes.total), title=_("Requests per month"), label_every=1
        ),
    }
    return render(request, "reports/public.html", context)
