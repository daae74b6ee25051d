from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Serve the web app with gunicorn (no access log: it would hold client addresses); "
        "with --with-jobs also run the Huey worker for scheduled jobs such as retention."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--with-jobs", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        web = [
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
        children = [subprocess.Popen(web)]  # noqa: S603  (our own interpreter and module)
        if options["with_jobs"]:
            jobs = [sys.executable, "-m", "tropa.cli", "worker", "--workers", "1"]
            children.append(subprocess.Popen(jobs))  # noqa: S603
        self.stdout.write(f"Listening on http://{options['bind']}/")
        self.stdout.flush()

        def stop(signum: int, frame: object) -> None:
            for child in children:
                child.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        # When one process ends (a crash or a signal), stop the other too.
        while all(child.poll() is None for child in children):
            try:
                children[0].wait(timeout=1)
            except subprocess.TimeoutExpired:
                continue
        stop(signal.SIGTERM, None)
        for child in children:
            child.wait(timeout=30)
