from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tropa.cases.services import retention_due, retention_run


class Command(BaseCommand):
    help = "Crypto-shred closed cases past their retention period (Huey runs this hourly)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["run", "show"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "show":
            self.stdout.write(f"{len(retention_due())} closed cases are past retention")
            return
        self.stdout.write(f"{retention_run()} cases shredded")
