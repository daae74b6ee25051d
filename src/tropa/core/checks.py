"""Tropa's own deployment checks, run by `tropa check --deploy` beside Django's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_tropa_deploy(app_configs: Any = None, **kwargs: Any) -> list[Warning | Error]:
    problems: list[Warning | Error] = []
    if settings.AUDIT_HMAC_KEY == settings.SECRET_KEY:
        problems.append(
            Error(
                "The audit key equals SECRET_KEY.",
                hint="Give TROPA_AUDIT_KEY its own random value (`tropa secrets init`).",
                id="tropa.E001",
            )
        )
    if settings.SESSION_IDLE_MINUTES > 60:
        problems.append(
            Warning(
                "Staff sessions stay open more than an hour without activity.",
                hint="Set TROPA_SESSION_IDLE_MINUTES to 60 or less.",
                id="tropa.W001",
            )
        )
    if not settings.SECURE_COOKIES:
        problems.append(
            Error(
                "Cookies are sent over plain HTTP (TROPA_SECURE_COOKIES=0).",
                hint="Serve Tropa over HTTPS and leave TROPA_SECURE_COOKIES unset.",
                id="tropa.E002",
            )
        )
    if not _is_argon2(settings.PASSWORD_HASHERS[0]):
        problems.append(Error("Passwords are not hashed with Argon2id first.", id="tropa.E003"))
    if "tropa.core.csrf.TropaCsrfViewMiddleware" not in settings.MIDDLEWARE:
        problems.append(
            Error(
                "CSRF protection is not installed.",
                hint="Put tropa.core.csrf.TropaCsrfViewMiddleware in MIDDLEWARE.",
                id="tropa.E004",
            )
        )
    problems.extend(_secret_file_permissions())
    return problems


# The secrets that tropa.env.env_secret may read from a NAME_FILE path.
SECRET_ENV_NAMES = (
    "TROPA_SECRET_KEY",
    "TROPA_AUDIT_KEY",
    "TROPA_BLIND_INDEX_KEY",
    "TROPA_FIELD_KEYS",
)


def _secret_files() -> list[Path]:
    """The files the settings read secrets from: the secrets folder and, for a
    deployment that mounts them elsewhere, every NAME_FILE in use."""
    files: set[Path] = set()
    secrets_dir = settings.SECRETS_DIR
    if secrets_dir.is_dir():
        files.update(path for path in secrets_dir.iterdir() if path.is_file())
    for name in SECRET_ENV_NAMES:
        path_text = os.environ.get(f"{name}_FILE")
        if name not in os.environ and path_text and Path(path_text).is_file():
            files.add(Path(path_text).resolve())
    return sorted(files)


def _secret_file_permissions() -> list[Warning | Error]:
    problems: list[Warning | Error] = []
    for path in _secret_files():
        if path.stat().st_mode & 0o077:
            problems.append(
                Warning(
                    f"Secret file {path.name} is readable by other users.",
                    hint=f"chmod 600 {path}",
                    id="tropa.W002",
                )
            )
    return problems


def _is_argon2(hasher_path: str) -> bool:
    from django.contrib.auth.hashers import Argon2PasswordHasher
    from django.utils.module_loading import import_string

    return issubclass(import_string(hasher_path), Argon2PasswordHasher)
