"""Timing, results, the table and the JSON report shared by every benchmark."""

from __future__ import annotations

import json
import socket
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Result:
    id: str
    what: str
    value: float
    unit: str
    reference: float
    reference_what: str
    ratio: float
    target: str
    verdict: str  # "PASS" or "FAIL"


def rate(operation: Callable[[], object], *, seconds: float, repeats: int) -> float:
    """Median operations per second over `repeats` runs of about `seconds` each."""
    rates = []
    for _ in range(repeats):
        count, start = 0, time.perf_counter()
        deadline = start + seconds
        while True:
            operation()
            count += 1
            now = time.perf_counter()
            if now >= deadline:
                break
        rates.append(count / (now - start))
    return statistics.median(rates)


def free_port() -> int:
    """A loopback port nobody listens on, for a server the benchmark starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def report(results: list[Result], json_path: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="tropa bench")
    for column in ("id", "what", "value", "reference", "ratio", "target", "verdict"):
        table.add_column(column)
    for r in results:
        table.add_row(
            r.id,
            r.what,
            f"{r.value:,.1f} {r.unit}",
            f"{r.reference:,.1f} ({r.reference_what})",
            f"{r.ratio:.3f}",
            r.target,
            r.verdict,
        )
    Console().print(table)
    if json_path is not None:
        json_path.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
