"""`tropa flows check | export-po | import-po`: the intake flow as data, maintained by people."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tropa.intake import flows


class Command(BaseCommand):
    help = "Check an intake flow, or move its translations to and from gettext PO files."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="report unreachable nodes, dead ends, missing texts…")
        check.add_argument("path", nargs="?", type=Path, default=flows.DEFAULT_FLOW_PATH)
        export = sub.add_parser("export-po", help="write one language's texts as a PO file")
        export.add_argument("language")
        export.add_argument("--out", type=Path, required=True)
        export.add_argument("--flow", type=Path, default=flows.DEFAULT_FLOW_PATH)
        imp = sub.add_parser("import-po", help="read a translated PO file back into the flow")
        imp.add_argument("language")
        imp.add_argument("po", type=Path)
        imp.add_argument("--flow", type=Path, default=flows.DEFAULT_FLOW_PATH)

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"].replace("-", "_"))(options)

    def _check(self, options: dict[str, Any]) -> None:
        try:
            flow = flows.parse_flow(flows.read_flow_document(options["path"]))
        except flows.FlowError as error:
            raise CommandError(f"{options['path']}: {error}") from None
        problems = flows.inspect_flow(flow)
        for problem in problems:
            self.stdout.write(f"{problem.severity}: {problem.node_id or '-'}: {problem.message}")
        errors = [p for p in problems if p.severity == "error"]
        if problems:
            raise CommandError(f"{len(errors)} errors, {len(problems) - len(errors)} warnings")
        self.stdout.write(f"{flow.id} v{flow.version}: no problems ({len(flow.nodes)} nodes)")

    def _export_po(self, options: dict[str, Any]) -> None:
        flow = flows.load_flow(options["flow"])
        flows.export_po(flow, options["language"]).save(str(options["out"]))
        self.stdout.write(f"wrote {options['out']}")

    def _import_po(self, options: dict[str, Any]) -> None:
        import polib

        document = flows.read_flow_document(options["flow"])
        updated, report = flows.import_po(
            document, options["language"], polib.pofile(str(options["po"]))
        )
        if report.unknown:
            raise CommandError(
                f"unknown item ids in the PO file: {', '.join(sorted(report.unknown))}"
            )
        flows.load_flow(updated)  # refuse a result that does not validate
        options["flow"].write_text(flows.dump_flow(updated), encoding="utf-8")
        self.stdout.write(
            f"updated {options['flow']}: {len(report.updated)} texts changed, "
            f"{len(report.fuzzy)} fuzzy and {len(report.empty)} empty skipped, "
            f"{len(report.missing)} still missing"
        )
