"""Entry point of `tropa bench`: a throwaway SQLite database unless --database-url."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from tropa.secrets import secrets_init

ALL = ("V1", "V2", "V3", "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9", "P10", "P-REPORT")


def _prepare(data_dir: Path, database_url: str | None) -> None:
    os.environ["TROPA_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tropa.settings")
    os.environ.setdefault("TROPA_LOG_LEVEL", "WARNING")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    secrets_init(data_dir / "secrets")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from tropa.accounts.services import teams_ensure
    from tropa.vault import services as vault

    teams_ensure()
    vault.organisation_key_init()
    vault.team_keys_ensure()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tropa bench")
    parser.add_argument(
        "--only", default=",".join(ALL), help=f"comma-separated, from {', '.join(ALL)}"
    )
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument(
        "--quick", action="store_true", help="short runs (smoke test, noisy figures)"
    )
    parser.add_argument(
        "--database-url", help="benchmark an empty database there instead of SQLite"
    )
    parser.add_argument(
        "--surge-applicants", type=int, help="P10 applicants (default 10,000; --quick 200)"
    )
    parser.add_argument(
        "--surge-minutes", type=float, help="P10 arrival window (default 10; --quick 0.5)"
    )
    parser.add_argument("--surge-caseworkers", type=int, default=40, help="P10 caseworkers")
    parser.add_argument("--surge-report", type=Path, help="write P10's full report (JSON) here")
    parser.add_argument(
        "--surge-telegram",
        choices=("polling", "webhook"),
        default="polling",
        help="P10: how updates reach Tropa (webhook: posted to the web app)",
    )
    args = parser.parse_args(argv)
    wanted = {item.strip().upper() for item in args.only.split(",") if item.strip()}
    unknown = wanted - set(ALL)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    seconds, repeats, cases = (0.05, 3, 20) if args.quick else (0.5, 5, 200)
    chats, turns = (10, 8) if args.quick else (50, 14)
    outbox_chats, outbox_per_chat = (40, 3) if args.quick else (60, 6)

    with tempfile.TemporaryDirectory(prefix="tropa-bench-") as tmp:
        _prepare(Path(tmp), args.database_url)
        from tropa.bench import vault_bench
        from tropa.bench.runner import report

        results = []
        if wanted & {"V1", "V2"}:
            results += [r for r in vault_bench.bench_fields(seconds, repeats) if r.id in wanted]
        if "V3" in wanted:
            results += vault_bench.bench_unwrap(seconds, repeats)
        if wanted & {"P1", "P3"}:
            from tropa.bench import intake_bench

            if "P1" in wanted:
                results += intake_bench.bench_p1(
                    chats=chats, messages_per_chat=turns, repeats=min(repeats, 3)
                )
            if "P3" in wanted:
                results += intake_bench.bench_p3(chats=outbox_chats, per_chat=outbox_per_chat)
        if "P2" in wanted:
            from tropa.bench.http_bench import bench_p2

            results += bench_p2(applicants=2, seconds=2.0, repeats=1) if args.quick else bench_p2()
        if wanted & {"P4", "P5"}:
            from tropa.bench.caseworker_bench import bench_p4_p5

            size = (2_000, 20, 10) if args.quick else (100_000, 400, 100)
            rows = bench_p4_p5(cases=size[0], staff=size[1], requests=size[2])
            results += [r for r in rows if r.id.split("-")[0] in wanted]
        if "P6" in wanted:
            from tropa.bench.matching_bench import bench_p6

            results += bench_p6(
                cases=200 if args.quick else 2_000,
                volunteers=40 if args.quick else 400,
                repeats=1 if args.quick else 5,
            )
        if "P7" in wanted:
            from tropa.bench.routes_bench import bench_p7

            results += bench_p7(places=1_000, legs=5_000, queries=5) if args.quick else bench_p7()
        if "P8" in wanted:
            results += vault_bench.bench_p8(cases, repeats)
        if "P-REPORT" in wanted:
            from tropa.bench.reports_bench import bench_reports

            results += bench_reports(cases=20_000, repeats=1) if args.quick else bench_reports()
        if "P9" in wanted:
            from tropa.bench.documents_bench import bench_p9

            results += bench_p9(repeats=1 if args.quick else 5)
        if "P10" in wanted:
            from tropa.bench.surge_bench import bench_p10

            # Quick: a small surge with people three times as fast, to keep it short.
            results += bench_p10(
                applicants=args.surge_applicants or (200 if args.quick else 10_000),
                seconds=60 * (args.surge_minutes or (0.5 if args.quick else 10)),
                caseworkers=args.surge_caseworkers,
                pace=0.3 if args.quick else 1.0,
                settle=240.0 if args.quick else None,
                database_url=args.database_url,
                report_path=args.surge_report,
                telegram_mode=args.surge_telegram,
            )
        report(results, args.json)
    return 0 if all(r.verdict == "PASS" for r in results) else 1
