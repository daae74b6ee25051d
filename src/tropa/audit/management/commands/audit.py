from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tropa.audit.services import audit_verify


class Command(BaseCommand):
    help = "Work with the audit log: `tropa audit verify` checks the hash chain."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="check every row's MAC and the chain's order")

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_verify()
        if not report.ok:
            raise CommandError(
                f"audit chain broken at row {report.broken_seq}: {report.reason} "
                f"({report.rows_checked} rows before it are intact)"
            )
        self.stdout.write(f"audit chain intact: {report.rows_checked} rows")
