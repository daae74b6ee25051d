from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


def gunicorn_command(*, bind: str, workers: int, app: str = "tropa.wsgi:application") -> list[str]:
    """How the web app is served; the P2 benchmark runs exactly this (and its reference
    app under the same flags)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--error-logfile",
        "-",
        # No client address, request line or path in gunicorn's own log (S8).
        "--logger-class",
        "tropa.core.quietlog.GunicornLogger",
        "--log-level",
        os.environ.get("TROPA_LOG_LEVEL", "warning").lower(),
    ]


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
        web = gunicorn_command(bind=options["bind"], workers=options["workers"])
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
