from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import translation


class Command(BaseCommand):
    help = "Talk to the intake flow in the terminal, exactly as an applicant would in a chat."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--lang", choices=["ru", "en"], default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        from tropa.intake.channels.console import chat_run

        if options["lang"]:
            translation.activate(options["lang"])
        chat_run(read=sys.stdin.readline, out=self.stdout._out, language=options["lang"])  # noqa: SLF001
