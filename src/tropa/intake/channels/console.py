"""The console simulator: the intake engine on stdin/stdout against the local database.

Same path as the bot and the web chat (intake_receive, sealing, the outbox);
the "chat" is the terminal. Buttons are numbered; type a number or the label.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TextIO

from django.utils import timezone

from tropa.intake import flows
from tropa.intake.models import Delivery, OutboundMessage
from tropa.intake.services import intake_receive

CHANNEL = "console"


def _deliver(received_outbound: list[OutboundMessage], out: TextIO) -> list[list[str]]:
    buttons: list[list[str]] = []
    for message in received_outbound:
        out.write(f"\nTropa: {message.text}\n")
        buttons = message.buttons or []
        for number, (_value, label) in enumerate(buttons, start=1):
            out.write(f"  [{number}] {label}\n")
        OutboundMessage.objects.filter(idempotency_key=message.idempotency_key).update(
            status=Delivery.SENT, sent_at=timezone.now()
        )
    out.flush()
    return buttons


def _inbound(line: str, buttons: list[list[str]]) -> flows.Inbound:
    text = line.rstrip("\n")
    if text.strip().isdigit() and buttons and 1 <= int(text.strip()) <= len(buttons):
        return flows.Inbound(kind="choice", choice=buttons[int(text.strip()) - 1][0])
    if text.strip() == "/start":
        return flows.Inbound(kind="start")
    return flows.Inbound(kind="text", text=text)


def chat_run(
    *, read: Callable[[], str], out: TextIO, chat_id: str | None = None, language: str | None = None
) -> str:
    """Talk until end of input; returns the chat id (to continue later)."""
    chat_id = chat_id or f"console-{secrets.token_hex(8)}"
    start = flows.Inbound(kind="start")
    received = intake_receive(channel=CHANNEL, address=chat_id, inbound=start, language=language)
    buttons = _deliver(received.outbound, out)
    while True:
        out.write("> ")
        out.flush()
        line = read()
        if not line:
            break
        received = intake_receive(channel=CHANNEL, address=chat_id, inbound=_inbound(line, buttons))
        if received.wiped:
            out.write("\n(chat wiped)\n")
            break
        buttons = _deliver(received.outbound, out) or buttons
        if received.completed:
            out.write(f"\n(case sealed: {received.conversation.case.codename})\n")
    return chat_id
