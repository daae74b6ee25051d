"""S1, S4 and S8: everything a seized server holds — database file (or pg_dump),
media folder, logs — is searched for every planted canary in raw, UTF-16 and
base64 forms. Zero hits, including for a case shredded before the seizure."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.vault.seizure_scenario import CANARIES, SHREDDED

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def encodings(text: str) -> dict[str, bytes]:
    raw = text.encode()
    forms = {
        "utf-8": raw,
        "utf-16-le": text.encode("utf-16-le"),
        "utf-16-be": text.encode("utf-16-be"),
    }
    for offset in range(3):
        # The middle of the base64 text is the same wherever the value sat in a larger blob.
        encoded = base64.b64encode(b"\0" * offset + raw)
        forms[f"base64+{offset}"] = encoded[4:-4]
    return forms


def _environment(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("TROPA_") and k != "DATABASE_URL"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tropa.settings",
        PYTHONPATH=f"{ROOT}:{ROOT / 'src'}",
        TROPA_VAULT_KDF="test",
        TROPA_LOG_LEVEL="DEBUG",
        TROPA_SSL_REDIRECT="0",
        TROPA_ALLOWED_HOSTS="testserver",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _postgres_database() -> tuple[str, str] | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return None
    name = f"seizure_{uuid.uuid4().hex[:8]}"
    return name, url.rsplit("/", 1)[0] + "/" + name


def _pg(url: str, program: str, *args: str) -> bytes:
    parts = urlparse(url)
    connection = ["-h", str(parts.hostname), "-p", str(parts.port), "-U", str(parts.username)]
    return subprocess.run(
        [str(PG_BIN / program), *connection, *args],
        env=os.environ | {"PGPASSWORD": parts.password or ""},
        check=True,
        capture_output=True,
    ).stdout


def _psql(url: str, sql: str) -> None:
    _pg(url, "psql", "-d", "postgres", "-qc", sql)


def _pg_dump(url: str) -> bytes:
    return _pg(url, "pg_dump", urlparse(url).path.lstrip("/"))


def _seized_bytes(data_dir: Path) -> dict[str, bytes]:
    """The database file with its WAL, the media folder: not the secrets."""
    return {
        str(path.relative_to(data_dir)): path.read_bytes()
        for path in data_dir.rglob("*")
        if path.is_file() and path.relative_to(data_dir).parts[0] not in {"secrets", "static"}
    }


@pytest.fixture(scope="module")
def seizure(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    data_dir = tmp_path_factory.mktemp("seized")
    postgres = _postgres_database()
    if postgres:
        _psql(postgres[1], f"CREATE DATABASE {postgres[0]}")
    try:
        result = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("seizure_scenario.py")), str(data_dir)],
            env=_environment(data_dir, postgres[1] if postgres else None),
            capture_output=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr.decode()[-3000:]
        summary = json.loads(result.stdout.decode().strip().splitlines()[-1])
        seized = _seized_bytes(data_dir)
        if postgres:
            seized["pg_dump"] = _pg_dump(postgres[1])
        seized["stdout"] = result.stdout
        seized["stderr (logs)"] = result.stderr
        seized["_summary"] = json.dumps(summary).encode()
        return seized
    finally:
        if postgres:
            _psql(postgres[1], f"DROP DATABASE IF EXISTS {postgres[0]}")


def test_the_scenario_wrote_data_and_logs(seizure: dict[str, bytes]) -> None:
    names = set(seizure)
    assert "pg_dump" in names or "tropa.sqlite3" in names
    assert any(name.startswith("media/vault/") for name in names)
    assert b"audit" in seizure["stderr (logs)"]  # the logs are really captured at DEBUG


@pytest.mark.parametrize("canary", sorted(CANARIES))
def test_no_canary_survives_in_any_form(seizure: dict[str, bytes], canary: str) -> None:
    hits = [
        f"{form} in {where}"
        for where, data in seizure.items()
        if where != "_summary"
        for form, needle in encodings(CANARIES[canary]).items()
        if needle in data
    ]
    assert hits == []


@pytest.mark.parametrize("canary", sorted(SHREDDED))
def test_a_shredded_case_leaves_no_trace_in_a_later_copy(
    seizure: dict[str, bytes], canary: str
) -> None:
    summary = json.loads(seizure["_summary"])
    for where, data in seizure.items():
        if where in {"_summary", "stdout"}:
            continue
        assert SHREDDED[canary].encode() not in data
        if (
            where != "pg_dump"
        ):  # PostgreSQL keeps dead tuples until VACUUM; pg_dump does not show them
            assert summary["shredded_codename"].encode() not in data or where.startswith("stderr")
