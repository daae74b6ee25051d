"""`tropa report`: statistics as CSV or JSON, suppressed like the dashboard."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from tropa.audit.models import Action
from tropa.audit.services import audit_record
from tropa.reports import services
from tropa.reports.suppression import SUPPRESSED


class Command(BaseCommand):
    help = "Export statistics (small counts hidden) as CSV or JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--kind",
            choices=["public", "volumes", "outcomes", "replies", "backlog"],
            default="public",
            help="public: the publishable figures (closed months); the others: the dashboard's",
        )
        parser.add_argument("--period", choices=["week", "month"], default="month")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--out", type=Path, help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        from rich.progress import Progress

        total = services.case_count()
        with Progress(console=_stderr_console(), transient=True) as progress:
            task = progress.add_task("reading case metadata", total=total)
            facts = services.case_facts(progress=lambda n: progress.advance(task, n))
            progress.update(task, description="counting and suppressing")
            document = self._document(facts, options)
        text = (
            json.dumps(document, indent=2, ensure_ascii=False) + "\n"
            if options["format"] == "json"
            else _csv(document)
        )
        if options["out"]:
            options["out"].write_text(text)
        else:
            self.stdout.write(text, ending="")
        audit_record(action=Action.REPORT_EXPORTED, actor_id=None, detail={"kind": options["kind"]})

    def _document(self, facts: list[Any], options: dict[str, Any]) -> dict[str, Any]:
        today = timezone.localdate()
        if options["kind"] == "public":
            return services.export_document(services.public_figures(facts, today=today))
        data = services.dashboard(facts, today=today, period=options["period"])
        hidden = f"fewer than {data.threshold}, or hidden to protect such a count"
        if options["kind"] == "volumes":
            return {"rows": data.volumes.render(mark="x"), "x": hidden}
        if options["kind"] == "outcomes":
            return {"rows": data.outcomes.render(mark="x"), "x": hidden}
        if options["kind"] == "replies":
            return {
                "rows": [["period", "replied", "median_hours", "p90_hours"]]
                + [
                    [r.period, r.replied, r.median_hours, r.p90_hours]
                    if r.median_hours is not None
                    else [r.period, "x", "x", "x"]
                    for r in data.replies
                ],
                "x": hidden,
            }
        return {
            "rows": [["day", "open_cases"]]
            + [[day, "x" if n is SUPPRESSED else n] for day, n in data.backlog],
            "x": hidden,
        }


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(file=sys.stderr)


def _csv(document: dict[str, Any]) -> str:
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    if "rows" in document:
        writer.writerows(document["rows"])
        return out.getvalue()
    for name, value in document.items():
        if isinstance(value, dict) and "rows" in value:
            writer.writerow([name])
            writer.writerow(["", *value["columns"], "total"])
            for label, cells, total in zip(
                value["rows"], value["cells"], value["row_totals"], strict=True
            ):
                writer.writerow([label, *_marks(cells), _mark(total)])
            writer.writerow(["total", *_marks(value["column_totals"]), _mark(value["total"])])
            writer.writerow([])
        elif name == "headlines":
            for key, figure in value.items():
                writer.writerow([key, _mark(figure)])
            writer.writerow([])
    writer.writerow(["note", document.get("note", "")])
    return out.getvalue()


def _marks(values: list[Any]) -> list[str]:
    return [_mark(v) for v in values]


def _mark(value: Any) -> str:
    return "x" if value is None else str(value)
