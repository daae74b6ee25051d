"""The `tropa` console command: Django's management commands plus Tropa's own.

Tropa's own: `secrets init`, `demo`, `bench`, `serve`, `worker`, `audit verify`, `keys`,
`retention`, `chat`, `bot`, `relay`, `flows`.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tropa.settings")
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    # These run before Django's settings load, because the settings
    # refuse to load until the secrets they create exist.
    if command == "secrets":
        from tropa.secrets import main as secrets_main

        sys.exit(secrets_main(sys.argv[2:]))
    if command == "bench":
        from tropa.bench.main import main as bench_main

        sys.exit(bench_main(sys.argv[2:]))
    if command == "demo":
        from tropa.demo import main as demo_main

        sys.exit(demo_main(sys.argv[2:]))
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tropa", *sys.argv[1:]])


if __name__ == "__main__":
    main()
