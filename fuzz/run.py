"""Run every Atheris harness for a fixed time (S10, the long fuzz run of `make fuzz`).

    python fuzz/run.py --seconds 60            # each harness, one after the other
    python fuzz/run.py --seconds 10 sanitise   # one of them
    python fuzz/fuzz_sanitise.py var/fuzz/sanitise/crashes/crash-...   # replay a crash

Everything a run writes stays under var/fuzz/<harness>/ (ignored by git): the
corpus libFuzzer grows (kept between runs, so each run starts where the last
stopped), the crashing inputs, and the log. Seeds are written into an empty
corpus first: the shipped default flow, synthetic photos (tests/fuzz/strategies.py)
and a few Telegram updates, so the mutations start from valid inputs.
"""

from __future__ import annotations

import argparse
import json
import subprocess  # noqa: S404  (runs this folder's own harnesses)
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


def _updates() -> dict[str, bytes]:
    chat = {"id": 424242, "type": "private"}
    message = {"message_id": 7, "date": 1700000000, "chat": chat}
    shapes = {
        "text": {"update_id": 1, "message": {**message, "text": "Hello \u202e"}},
        "start": {"update_id": 2, "message": {**message, "text": "/start payload"}},
        "photo": {
            "update_id": 3,
            "message": {**message, "caption": "ID", "photo": [{"file_id": "a"}, {"file_id": "b"}]},
        },
        "document": {"update_id": 4, "message": {**message, "document": {"file_id": "doc"}}},
        "callback": {
            "update_id": 5,
            "callback_query": {"id": "99", "data": "language:en", "message": message},
        },
        "group": {"update_id": 6, "message": {**message, "chat": {"id": -5, "type": "group"}}},
    }
    return {name: json.dumps(update).encode() for name, update in shapes.items()}


def _photos() -> dict[str, bytes]:
    from tests.fuzz.strategies import seed_files

    return seed_files()


def _flows() -> dict[str, bytes]:
    from tropa.intake.flows import DEFAULT_FLOW_PATH

    return {"default.yaml": DEFAULT_FLOW_PATH.read_bytes()}


def _scripts() -> dict[str, bytes]:
    return {"zeros": b"\x00" * 256, "ones": b"\x01" * 256, "mixed": bytes(range(256))}


HARNESSES: dict[str, Callable[[], dict[str, bytes]]] = {
    "parse_update": _updates,
    "engine": _scripts,
    "sanitise": _photos,
    "loader": _flows,
}


def _seed(corpus: Path, seeds: Callable[[], dict[str, bytes]]) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    if not any(corpus.iterdir()):
        for name, data in seeds().items():
            (corpus / f"seed-{name}").write_bytes(data)


def run(name: str, seconds: int, out: Path) -> int:
    """One harness for `seconds`; its exit code (0: nothing found)."""
    work = out / name
    corpus, crashes = work / "corpus", work / "crashes"
    crashes.mkdir(parents=True, exist_ok=True)
    _seed(corpus, HARNESSES[name])
    command = [
        sys.executable,
        str(HERE / f"fuzz_{name}.py"),
        f"-max_total_time={seconds}",
        f"-artifact_prefix={crashes}/",
        "-timeout=20",  # one input running this long is a hang (a report, like a crash)
        "-rss_limit_mb=3072",
        "-print_final_stats=1",
        str(corpus),
    ]
    with (work / "log.txt").open("wb") as log:
        code = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)  # noqa: S603
    found = sorted(p.name for p in crashes.iterdir())
    verdict = "ok" if code.returncode == 0 else f"FOUND (exit {code.returncode}): {found}"
    print(f"atheris {name}: {seconds}s, corpus {len(list(corpus.iterdir()))} inputs, {verdict}")
    return code.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60, help="per harness")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "fuzz")
    parser.add_argument("names", nargs="*", help=f"some of {', '.join(HARNESSES)} (default: all)")
    args = parser.parse_args()
    unknown = set(args.names) - set(HARNESSES)
    if unknown:
        parser.error(f"no harness named {', '.join(sorted(unknown))}")
    args.names = args.names or list(HARNESSES)
    failures = [name for name in args.names if run(name, args.seconds, args.out)]
    if failures:
        print(f"see {args.out}/<harness>/log.txt and crashes/ for {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
