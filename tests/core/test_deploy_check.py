"""S13: `tropa check --deploy --fail-level WARNING` is clean in a production-like
environment, and each insecure knob of that environment makes it fail.

Production here means what a deployment does (README, "Configuration"): no
debug, HTTPS with the TLS redirect and HSTS, behind a TLS-terminating proxy,
PostgreSQL and Redis, the secrets in files mounted outside the data folder and
named by TROPA_*_FILE. Each check runs in a fresh process without the test
settings, as the server would start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
SECRET_NAMES = {
    "TROPA_SECRET_KEY": "secret_key",
    "TROPA_AUDIT_KEY": "audit_key",
    "TROPA_BLIND_INDEX_KEY": "blind_index_key",
    "TROPA_FIELD_KEYS": "field_keys",
}
# Django's CSRF check looks for its own middleware by name; settings.py explains
# why it is silenced and tropa.E004 checks ours instead. Nothing else may be.
CLEAN = "System check identified no issues (1 silenced).\n"


def _tropa(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tropa.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _base_env(tmp_path: Path) -> dict[str, str]:
    """This process's environment without anything of Tropa's or the test settings'."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TROPA_")}
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CI"):
        env.pop(name, None)
    env["PYTHONPATH"] = str(SRC)
    env["TROPA_DATA_DIR"] = str(tmp_path / "data")
    (tmp_path / "data").mkdir(mode=0o700, exist_ok=True)
    return env


def _mounted_secrets(tmp_path: Path, env: dict[str, str]) -> Path:
    """Secrets as a deployment mounts them: 0600 files outside the data folder."""
    folder = tmp_path / "run-secrets"
    assert _tropa(["secrets", "init", "--dir", str(folder)], env).returncode == 0
    return folder


def _production_env(tmp_path: Path, *, scale_out: bool) -> dict[str, str]:
    env = _base_env(tmp_path)
    folder = _mounted_secrets(tmp_path, env)
    env |= {f"{name}_FILE": str(folder / file) for name, file in SECRET_NAMES.items()}
    env |= {
        "TROPA_DEBUG": "0",
        "TROPA_SSL_REDIRECT": "1",
        "TROPA_HSTS_SECONDS": "31536000",
        "TROPA_BEHIND_PROXY": "1",
        "TROPA_ALLOWED_HOSTS": "tropa.example.org",
    }
    if scale_out:
        # `check` does not connect to either: nothing has to listen on these ports.
        env["DATABASE_URL"] = "postgres://tropa@127.0.0.1:9/tropa"
        env["TROPA_REDIS_URL"] = "redis://127.0.0.1:9/0"
    return env


SHOW_SETTINGS = """
import json
from django.conf import settings as s
print(json.dumps({
    "debug": s.DEBUG, "ssl_redirect": s.SECURE_SSL_REDIRECT, "hsts": s.SECURE_HSTS_SECONDS,
    "proxy": list(s.SECURE_PROXY_SSL_HEADER or ()), "cookies": [s.SESSION_COOKIE_SECURE,
    s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_NAME], "secret_key": s.SECRET_KEY,
    "audit_key": s.AUDIT_HMAC_KEY, "engine": s.DATABASES["default"]["ENGINE"],
    "huey": s.HUEY["huey_class"], "hosts": s.ALLOWED_HOSTS,
}))
"""


@pytest.mark.parametrize("scale_out", [False, True], ids=["sqlite", "postgres-redis"])
def test_check_deploy_is_clean_in_production(tmp_path: Path, scale_out: bool) -> None:
    env = _production_env(tmp_path, scale_out=scale_out)
    result = _tropa(["check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == CLEAN
    assert "WARNING" not in result.stderr and "ERROR" not in result.stderr


def test_the_production_environment_is_what_the_check_saw(tmp_path: Path) -> None:
    """The clean result above is about these settings, not test defaults."""
    env = _production_env(tmp_path, scale_out=True)
    result = _tropa(["shell", "-c", SHOW_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    folder = tmp_path / "run-secrets"
    assert seen["debug"] is False and seen["ssl_redirect"] is True
    assert seen["hsts"] == 31536000
    assert seen["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert seen["cookies"] == [True, True, "__Host-tropa_session"]
    assert seen["secret_key"] == (folder / "secret_key").read_text().strip()
    assert seen["audit_key"] == (folder / "audit_key").read_text().strip()
    assert seen["engine"] == "django.db.backends.postgresql"
    assert seen["huey"] == "huey.RedisHuey"
    assert seen["hosts"] == ["tropa.example.org"]
    assert not (tmp_path / "data" / "secrets").exists()  # nothing fell back to the data folder


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"TROPA_DEBUG": "1"}, "security.W018"),
        ({"TROPA_SSL_REDIRECT": "0"}, "security.W008"),
        ({"TROPA_HSTS_SECONDS": "0"}, "security.W004"),
        ({"TROPA_HSTS_PRELOAD": "0"}, "security.W021"),
        ({"TROPA_SESSION_IDLE_MINUTES": "120"}, "tropa.W001"),
        ({"TROPA_SECURE_COOKIES": "0"}, "tropa.E002"),
    ],
    ids=lambda value: value if isinstance(value, str) else next(iter(value)),
)
def test_each_insecure_knob_fails_the_check(
    tmp_path: Path, change: dict[str, str], problem: str
) -> None:
    env = _production_env(tmp_path, scale_out=False) | change
    result = _tropa(["check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert problem in result.stderr


def test_a_mounted_secret_readable_by_others_fails_the_check(tmp_path: Path) -> None:
    """Secrets named by TROPA_*_FILE are checked like the secrets folder."""
    env = _production_env(tmp_path, scale_out=False)
    audit_key = Path(env["TROPA_AUDIT_KEY_FILE"])
    audit_key.chmod(0o644)
    result = _tropa(["check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "tropa.W002" in result.stderr and "audit_key" in result.stderr


def test_a_missing_data_folder_is_named_not_a_sqlite_traceback(tmp_path: Path) -> None:
    env = _production_env(tmp_path, scale_out=False)
    env["TROPA_DATA_DIR"] = str(tmp_path / "not-created")
    result = _tropa(["check", "--deploy"], env)
    assert result.returncode != 0
    assert "TROPA_DATA_DIR" in result.stderr and "is not a folder" in result.stderr
    assert "sqlite3.OperationalError" not in result.stderr
