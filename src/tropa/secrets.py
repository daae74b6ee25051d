"""`tropa secrets init`: create the server's random secrets as 0600 files.

Runs without Django settings, because the settings refuse to load without them.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
from pathlib import Path

SECRET_FILES = ("secret_key", "audit_key", "blind_index_key", "field_keys")


def _new_secret(name: str) -> str:
    if name == "field_keys":
        # Versioned, so a rotation can add version 2 while rows under 1 still open.
        return json.dumps({"1": base64.b64encode(secrets.token_bytes(32)).decode()})
    return secrets.token_urlsafe(48)


def secrets_init(directory: Path) -> list[Path]:
    """Create each missing secret file; never overwrite one (that would break the audit chain)."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    created = []
    for name in SECRET_FILES:
        path = directory / name
        if path.exists():
            continue
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(_new_secret(name) + "\n")
        created.append(path)
    return created


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tropa secrets")
    sub = parser.add_subparsers(dest="action", required=True)
    init = sub.add_parser("init", help="create missing secret files")
    init.add_argument(
        "--dir", type=Path, default=None, help="default: $TROPA_SECRETS_DIR or var/secrets"
    )
    args = parser.parse_args(argv)
    default = os.environ.get("TROPA_SECRETS_DIR") or str(
        Path(os.environ.get("TROPA_DATA_DIR", "var")) / "secrets"
    )
    directory = (args.dir or Path(default)).resolve()
    created = secrets_init(directory)
    for path in created:
        print(f"created {path}")
    if not created:
        print(f"secrets already present in {directory}")
    return 0
