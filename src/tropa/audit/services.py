from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tropa.audit.chain import GENESIS_MAC, chain_mac
from tropa.audit.models import Action, AuditEvent, AuditHead

logger = logging.getLogger(__name__)


def _key() -> bytes:
    return settings.AUDIT_HMAC_KEY.encode()


@transaction.atomic
def audit_record(
    *,
    action: str,
    actor_id: int | None = None,
    case_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one row to the chain. `detail` must hold ids and codes only."""
    if action not in Action.values:
        raise ValueError(f"unknown audit action {action!r}")
    # The UPDATE takes the write lock (a row lock on PostgreSQL, the database
    # lock on SQLite) before we read the tip, so concurrent appends queue up
    # and never fork the chain.
    if not AuditHead.objects.filter(pk=1).update(seq=F("seq") + 1):
        AuditHead.objects.create(pk=1, seq=1)
    head = AuditHead.objects.get(pk=1)
    event = AuditEvent(
        seq=head.seq,
        at=timezone.now(),
        action=action,
        actor_id=actor_id,
        case_id=case_id,
        detail=detail or {},
        prev_mac=head.mac,
    )
    event.mac = _mac_of(event)
    event.save()
    AuditHead.objects.filter(pk=1).update(mac=event.mac)
    logger.debug("audit %s seq=%s", action, event.seq)
    return event


def _mac_of(event: AuditEvent) -> str:
    return chain_mac(
        _key(),
        seq=event.seq,
        at=event.at,
        action=event.action,
        actor_id=event.actor_id,
        case_id=event.case_id,
        detail=event.detail,
        prev_mac=event.prev_mac,
    )


@dataclass(frozen=True)
class ChainReport:
    rows_checked: int
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def audit_verify() -> ChainReport:
    """Walk the chain from its first row; name the first row that does not fit."""
    expected_seq, expected_prev, checked = 1, GENESIS_MAC, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return ChainReport(
                checked, expected_seq, f"row {expected_seq} is missing (next row is {event.seq})"
            )
        if event.prev_mac != expected_prev:
            return ChainReport(
                checked, event.seq, f"row {event.seq} does not follow row {event.seq - 1}"
            )
        if event.mac != _mac_of(event):
            return ChainReport(checked, event.seq, f"row {event.seq} was altered")
        expected_seq, expected_prev, checked = expected_seq + 1, event.mac, checked + 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.mac) != (expected_seq - 1, expected_prev):
        return ChainReport(
            checked, expected_seq, f"rows after {expected_seq - 1} are missing (tip is {head.seq})"
        )
    return ChainReport(checked)
