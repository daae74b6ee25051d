"""Typed readers for settings that come from the environment.

Each reader fails loudly (ImproperlyConfigured) on a value it cannot parse,
so a typo in a deployment stops the process at start-up instead of silently
falling back to an insecure default.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"{name} must be set")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0/true/false/yes/no/on/off")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str, *, fallback_file: Path | None = None, min_length: int = 32) -> str:
    """A secret from NAME, from the file named by NAME_FILE, or from fallback_file.

    Secrets never have defaults: a missing or short secret stops start-up.
    """
    value = os.environ.get(name)
    source = name
    if value is None:
        path_text = os.environ.get(f"{name}_FILE")
        path = Path(path_text) if path_text else fallback_file
        if path is None or not path.is_file():
            raise ImproperlyConfigured(
                f"{name} (or {name}_FILE) must be set; `tropa secrets init` creates the files"
            )
        value = path.read_text().strip()
        source = str(path)
    if len(value) < min_length:
        raise ImproperlyConfigured(f"{source} must hold at least {min_length} characters")
    return value


def env_keyring(name: str, *, fallback_file: Path | None = None) -> dict[int, bytes]:
    """A versioned keyring, JSON {"1": "<base64 of 32 bytes>", ...}, from a secret."""
    raw = env_secret(name, fallback_file=fallback_file, min_length=10)
    try:
        parsed = json.loads(raw)
        keyring = {
            int(version): base64.b64decode(key, validate=True) for version, key in parsed.items()
        }
    except (ValueError, TypeError, AttributeError, binascii.Error):
        raise ImproperlyConfigured(f'{name} must be JSON like {{"1": "<base64 key>"}}') from None
    if not keyring or any(len(key) != 32 or version < 1 for version, key in keyring.items()):
        raise ImproperlyConfigured(f"{name} must hold 32-byte keys under versions 1, 2, ...")
    return keyring


def env_retention(name: str, default: dict[str, int]) -> dict[str, int]:
    """Days to keep closed cases, as "outcome=days,...,*=days"."""
    raw = os.environ.get(name)
    if raw is None:
        return dict(default)
    result: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        outcome, _, days = item.partition("=")
        if not days.strip().isdigit():
            raise ImproperlyConfigured(f"{name} must look like 'lost_contact=30,*=90'")
        result[outcome.strip()] = int(days)
    if "*" not in result:
        raise ImproperlyConfigured(f"{name} needs a '*=days' default")
    return result
