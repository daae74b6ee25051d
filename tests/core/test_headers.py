"""S13: strict headers and cookies on every page, and `tropa check --deploy` clean."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

from tests.conftest import Persona, full_login

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[2] / "src" / "tropa"


def _csp(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
        for part in (p.strip() for p in policy.split(";"))
        if part
    }


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/home/", "/nowhere/"])
def test_every_response_carries_strict_headers(path: str) -> None:
    response = Client().get(path)
    csp = _csp(response)
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert "http" not in response["Content-Security-Policy"]  # no third-party origin
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cache-Control"] == "no-store"
    assert "geolocation=()" in response["Permissions-Policy"]


@override_settings(SECURE_SSL_REDIRECT=True)
def test_plain_http_is_redirected_and_https_gets_hsts() -> None:
    assert Client().get("/accounts/login/")["Location"].startswith("https://")
    response = Client().get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")


def test_cookies_are_secure_httponly_samesite_strict(caseworker: Persona, settings) -> None:
    client = Client()
    response = client.get("/accounts/login/")
    csrf = response.cookies[settings.CSRF_COOKIE_NAME]
    full_login(client, caseworker)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    for cookie in (csrf, session):
        assert cookie.key.startswith("__Host-")
        assert cookie["secure"] is True
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Strict"
        assert cookie["path"] == "/"
        assert not cookie["domain"]


def test_templates_hold_no_inline_script_or_handlers() -> None:
    templates = list(SRC.glob("**/templates/**/*.html"))
    assert templates
    for template in templates:
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert not re.search(r"(src|href)=[\"']https?://", text), template
        assert "style=" not in text, template


def _tropa(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tropa.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _production_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TROPA_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    env["TROPA_DATA_DIR"] = str(tmp_path)
    env["TROPA_ALLOWED_HOSTS"] = "tropa.example.org"
    env["PYTHONPATH"] = str(SRC.parent)
    return env


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    env = _production_env(tmp_path)
    assert _tropa(["secrets", "init"], env).returncode == 0
    result = _tropa(["check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_plain_http_cookies(tmp_path: Path) -> None:
    env = _production_env(tmp_path) | {"TROPA_SECURE_COOKIES": "0"}
    _tropa(["secrets", "init"], env)
    result = _tropa(["check", "--deploy"], env)
    assert result.returncode != 0
    assert "tropa.E002" in result.stderr


def test_settings_refuse_to_start_without_secrets(tmp_path: Path) -> None:
    result = _tropa(["check"], _production_env(tmp_path))
    assert result.returncode != 0
    assert "TROPA_SECRET_KEY" in result.stderr
    assert "tropa secrets init" in result.stderr


def test_settings_refuse_a_malformed_flag(tmp_path: Path) -> None:
    env = _production_env(tmp_path) | {"TROPA_DEBUG": "maybe"}
    _tropa(["secrets", "init"], env)
    result = _tropa(["check"], env)
    assert result.returncode != 0
    assert "TROPA_DEBUG must be one of" in result.stderr


def test_secrets_init_creates_private_files_and_never_overwrites(tmp_path: Path) -> None:
    env = _production_env(tmp_path)
    _tropa(["secrets", "init"], env)
    key_file = tmp_path / "secrets" / "audit_key"
    first = key_file.read_text()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "secrets").stat().st_mode & 0o777) == "0o700"
    assert len(first.strip()) >= 48
    _tropa(["secrets", "init"], env)
    assert key_file.read_text() == first
