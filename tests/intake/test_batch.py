"""Group commit: several chats' messages in one transaction (`intake_receive_batch`)
must leave exactly what handling them one at a time leaves, and a batch that
fails must leave nothing at all.

The conversations are the golden files' inputs (tests/intake/golden), every
one of them in its own chat, interleaved so that each batch holds one message
of every chat, and some chats twice in a row."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.db import connection

from tests.conftest import Organisation
from tropa.cases.models import Case, CaseEntry
from tropa.intake import flows
from tropa.intake import services as intake
from tropa.intake.models import Conversation, Delivery, OutboundMessage
from tropa.vault.crypto import VaultError

pytestmark = pytest.mark.django_db
GOLDEN = Path(__file__).with_name("golden")
# The clock-moving goldens need the engine's fixed clock; intake runs on the real one.
FILES = sorted(f for f in GOLDEN.glob("*.yaml") if "after_minutes" not in f.read_text())
CODENAME = re.compile(r"\b[A-Z][a-z]+-\d+\b|\b[А-ЯЁ][а-яё]+-\d+\b")


def _scripts() -> dict[str, list[dict[str, Any]]]:
    return {f.stem: [{"kind": "start"}, *yaml.safe_load(f.read_text())["steps"]] for f in FILES}


def _inbound(spec: dict[str, Any], buttons: list[list[str]]) -> flows.Inbound:
    if "press" in spec:
        wanted = str(spec["press"])
        matching = [value for value, _ in buttons if value.rpartition(":")[2] == wanted]
        return flows.Inbound("choice", choice=matching[-1] if matching else wanted)
    if "choice" in spec:
        return flows.Inbound("choice", choice=str(spec["choice"]))
    if "file" in spec:
        return flows.Inbound("file", text=spec.get("text", ""), file_ref=str(spec["file"]))
    if spec.get("kind") == "start":
        return flows.Inbound("start")
    return flows.Inbound("text", text=str(spec["text"]) * spec.get("repeat", 1))


def _said(received: intake.Received) -> tuple[list[str], list[list[str]]]:
    texts = [CODENAME.sub("<codename>", m.text) for m in received.outbound]
    buttons = [m.buttons for m in received.outbound if m.buttons]
    return texts, (buttons[-1] if buttons else [])


def _play(prefix: str, *, batched: bool) -> dict[str, list[list[str]]]:
    """Every script in its own chat; round by round, each chat's next message."""
    scripts = _scripts()
    position = dict.fromkeys(scripts, 0)
    buttons: dict[str, list[list[str]]] = {name: [] for name in scripts}
    transcript: dict[str, list[list[str]]] = {name: [] for name in scripts}
    rounds = 0
    doubled: set[str] = set()
    while any(position[name] < len(script) for name, script in scripts.items()):
        # Every third round, a chat sends two messages at once (a double tap).
        take = 2 if rounds % 3 == 2 else 1
        batch: list[tuple[str, str]] = []
        for name, script in scripts.items():
            for _ in range(take):
                if position[name] < len(script):
                    batch.append((name, script[position[name]]))
                    position[name] += 1
        rounds += 1
        if batched:
            # A press needs the buttons on screen: a chat's second message of the
            # round, if it is a press, goes into the next batch, as it would reach
            # a later getUpdates. Typed text can follow in the same batch.
            now: list[tuple[str, dict[str, Any]]] = []
            later: list[tuple[str, dict[str, Any]]] = []
            for name, spec in batch:
                seen = any(name == other for other, _ in now)
                (later if seen and "press" in spec else now).append((name, spec))
            for group in (now, later):
                messages = [(f"{prefix}{n}", _inbound(s, buttons[n])) for n, s in group]
                answers = intake.intake_receive_batch(channel="web", messages=messages)
                doubled.update(n for n, _ in group if sum(1 for m, _ in group if m == n) > 1)
                for (name, _), received in zip(group, answers, strict=True):
                    texts, buttons[name] = _said(received)
                    transcript[name].append(texts)
        else:
            for name, spec in batch:
                received = intake.intake_receive(
                    channel="web", address=f"{prefix}{name}", inbound=_inbound(spec, buttons[name])
                )
                texts, buttons[name] = _said(received)
                transcript[name].append(texts)
    assert not batched or doubled, "no batch held one chat twice"
    return transcript


def _stored(prefix: str) -> dict[str, Any]:
    """What the database holds for each chat: state, outbox, case and its entries."""
    found = {}
    for name in _scripts():
        conversation = intake.conversation_find(channel="web", chat_id=f"{prefix}{name}")
        assert conversation is not None
        outbox = [
            CODENAME.sub("<codename>", m.text)
            for m in conversation.outbox.filter(status=Delivery.QUEUED).order_by("created_at", "id")
        ]
        state = dict(conversation.state or {})
        state.pop("codename", None)
        case = conversation.case
        found[name] = {
            "state": {k: v for k, v in state.items() if k not in {"started_at", "updated_at"}},
            "transcript": len(conversation.transcript or []),
            "outbox": outbox,
            "case": None if case is None else (case.category, case.urgency, case.status),
            "entries": 0 if case is None else CaseEntry.objects.filter(case=case).count(),
            "duress": conversation.duress_index != "",
        }
    return found


def test_a_batch_leaves_what_one_message_at_a_time_leaves(org: Organisation) -> None:
    one_by_one = _play("single-", batched=False)
    batched = _play("batch-", batched=True)
    assert batched == one_by_one
    assert _stored("batch-") == _stored("single-")
    # The scripts seal cases, relay to them and set a duress PIN: the batch path ran them all.
    assert sum(1 for chat in _stored("batch-").values() if chat["case"]) >= 4
    assert any(chat["duress"] for chat in _stored("batch-").values())


def test_rows_written_by_the_batch_are_encrypted_and_bound_to_their_row(
    org: Organisation,
) -> None:
    messages = [(f"bound-{n}", flows.Inbound("start")) for n in range(3)]
    intake.intake_receive_batch(channel="web", messages=messages)
    rows = list(OutboundMessage.objects.filter(conversation__chat_index__isnull=False))
    assert len(rows) == 3 and all("language" in row.text.casefold() for row in rows)
    with connection.cursor() as cursor:
        cursor.execute("SELECT text, state FROM intake_outboundmessage, intake_conversation")
        stored = b"".join(bytes(col) for row in cursor.fetchall() for col in row if col)
    assert b"language" not in stored.lower() and "язык".encode() not in stored
    # Ciphertext copied to another row fails to open instead of showing the other text.
    first, second = rows[0], rows[1]
    OutboundMessage.objects.filter(pk=second.pk).update(text=bytes(first.__dict__["text"]))
    with pytest.raises(VaultError):
        _ = OutboundMessage.objects.get(pk=second.pk).text


def test_a_failing_message_rolls_back_the_whole_batch(
    org: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    intake.intake_receive(channel="web", address="fail-0", inbound=flows.Inbound("start"))
    before = (OutboundMessage.objects.count(), Conversation.objects.count(), Case.objects.count())
    real_step = intake.engine().step

    def step(state: flows.State, inbound: flows.Inbound) -> flows.Step:
        if inbound.text == "boom":
            raise RuntimeError("a bug in the engine")
        return real_step(state, inbound)

    monkeypatch.setattr(intake.engine(), "step", step)
    messages = [
        ("fail-0", flows.Inbound("choice", choice="language:en")),
        ("fail-1", flows.Inbound("start")),
        ("fail-0", flows.Inbound("text", text="boom")),
    ]
    with pytest.raises(RuntimeError):
        intake.intake_receive_batch(channel="web", messages=messages)
    after = (OutboundMessage.objects.count(), Conversation.objects.count(), Case.objects.count())
    assert after == before
    conversation = intake.conversation_find(channel="web", chat_id="fail-0")
    assert conversation is not None and conversation.state["node"] == "language"
