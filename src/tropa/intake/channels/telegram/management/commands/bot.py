from __future__ import annotations

import asyncio
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Run the Telegram worker: the outbox sender and message auto-deletion; with --polling "
        "also fetch updates (otherwise Telegram posts them to /telegram/webhook/)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--polling", action="store_true")
        parser.add_argument("--api", help="Bot API base URL (default TROPA_TELEGRAM_API)")

    def handle(self, *args: Any, **options: Any) -> None:
        from tropa.intake.channels.telegram.bot import bot_create, run

        try:
            bot = bot_create(api_base=options["api"])
        except ValueError as error:
            raise CommandError(str(error)) from None
        asyncio.run(run(bot, polling=options["polling"]))
