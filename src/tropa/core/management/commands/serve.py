from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the web app with gunicorn (no access log: it would hold client addresses)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "tropa.wsgi:application",
            "--bind",
            options["bind"],
            "--workers",
            str(options["workers"]),
            "--error-logfile",
            "-",
            "--log-level",
            "warning",
        ]
        self.stdout.write(f"Listening on http://{options['bind']}/", ending="\n")
        self.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606  (replace this process with the server)
