"""`tropa bench` runs end to end and writes the documented JSON (figures are not judged here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tropa.bench.main import ALL

ROOT = Path(__file__).resolve().parents[1]
ONLY = ",".join(target for target in ALL if target != "P10")
KEYS = {"id", "what", "value", "unit", "reference", "reference_what", "ratio", "target", "verdict"}


def test_bench_writes_a_row_per_target(tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("TROPA_") and k != "DATABASE_URL"
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["PYTHONPATH"] = str(ROOT / "src")
    report = tmp_path / "bench.json"
    result = subprocess.run(
        # P10, a surge of a few minutes even when quick, has its own test (tests/test_surge.py).
        [
            sys.executable,
            "-m",
            "tropa.cli",
            "bench",
            "--quick",
            "--json",
            str(report),
            "--only",
            ONLY,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr
    rows = json.loads(report.read_text())
    assert [row["id"] for row in rows] == [
        "V1",
        "V2",
        "V3",
        "P1",
        "P1-single",
        "P3",
        "P2",
        "P2-p99",
        "P4",
        "P4-caseworker",
        "P5",
        "P6",
        "P6-cost",
        "P7",
        "P8",
        "P-report",
        "P9",
    ]
    for row in rows:
        assert set(row) == KEYS
        assert row["value"] > 0 and row["reference"] > 0
        assert row["verdict"] in {"PASS", "FAIL"}
        assert (
            abs(
                row["ratio"]
                - (
                    row["value"] / row["reference"]
                    if row["id"] != "P8"
                    else row["reference"] / row["value"]
                )
            )
            < 1e-9
        )
    assert "tropa bench" in result.stdout


def test_bench_refuses_an_unknown_target(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROPA_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    result = subprocess.run(
        [sys.executable, "-m", "tropa.cli", "bench", "--only", "P99"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown benchmark" in result.stderr
