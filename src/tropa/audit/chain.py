"""The audit chain's MAC, as a pure function (no Django), so it is easy to test."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_MAC = "0" * 64


def chain_mac(
    key: bytes,
    *,
    seq: int,
    at: datetime,
    action: str,
    actor_id: int | None,
    case_id: int | None,
    detail: dict[str, Any],
    prev_mac: str,
) -> str:
    message = json.dumps(
        [seq, at.astimezone(UTC).isoformat(), action, actor_id, case_id, detail, prev_mac],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
