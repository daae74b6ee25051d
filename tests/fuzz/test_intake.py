"""S10 through the Django side of intake: `intake_receive` with arbitrary message sequences.

Each example is one applicant: a few hostile messages, then the flow answered
by pressing the buttons shown (with hostile messages mixed in, sometimes a
duress PIN), then hostile messages to the sealed case. After every message:
no exception, the stored conversation state reads back, and every queued reply
can be delivered. At the end the case is opened with a coordinator's keys:
every message that should reach it is there exactly once, in order, with its
cleaned text, and nothing refused (too long, a duress PIN, the panic word)
left a trace in it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from hypothesis import event, given
from hypothesis import strategies as st

from tests.conftest import Organisation, keychain_of
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.strategies import hostile_text
from tropa.cases.models import Case, EntryKind
from tropa.cases.services import case_unlock
from tropa.intake import flows
from tropa.intake.models import Conversation, OutboundMessage
from tropa.intake.services import Received, intake_receive

pytestmark = pytest.mark.django_db

PIN = "4821"
MAX_TEXT = 4000
SENSIBLE = {"docs_foreign_expiry": "07/2031", "description": "Sent to the front next week."}

hostile_inbound = st.one_of(
    st.builds(flows.Inbound, kind=st.just("text"), text=hostile_text),
    st.builds(flows.Inbound, kind=st.just("choice"), choice=hostile_text),
    st.builds(
        flows.Inbound,
        kind=st.just("choice"),
        choice=st.sampled_from(
            ["checkin:", "checkin:x", "language:xx", "who:", ":", "consent:yes"]
        ),
    ),
    st.builds(flows.Inbound, kind=st.just("file"), text=hostile_text, file_ref=hostile_text),
    st.builds(flows.Inbound, kind=st.sampled_from(["start", "location", ""]), text=hostile_text),
)


@dataclass
class Applicant:
    """One chat, and what the case should hold once it exists."""

    channel: str
    address: str = field(default_factory=lambda: secrets.token_hex(8))
    last: Received | None = None
    case_id: int | None = None
    expected: list[str] = field(default_factory=list)
    pin_set: bool = False

    def send(self, inbound: flows.Inbound) -> Received:
        had_case = self.case_id is not None
        received = intake_receive(channel=self.channel, address=self.address, inbound=inbound)
        check_conversation(received)
        if had_case:
            self._expect(inbound, received)
        if received.completed:
            assert not had_case, "a second case for one chat"
            self.case_id = received.conversation.case_id
        self.last = received
        return received

    def _expect(self, inbound: flows.Inbound, received: Received) -> None:
        """What this message after completion must add to the case (S10: nothing lost)."""
        text = flows.sanitise_text(inbound.text)
        if received.wiped:
            event("panic word after completion")
            assert _looks_like_panic(inbound.text)
        elif self.pin_set and inbound.text.strip() == PIN:
            event("duress PIN after completion")
        elif inbound.kind == "text" and text and not _is_start(text):
            if len(text) > MAX_TEXT:
                event("refused: too long")
                assert received.outbound, "a refusal must say why"
            else:
                self.expected.append(text)
        elif inbound.kind == "file":
            ref = flows.sanitise_text(inbound.file_ref or "")
            usable = 0 < len(ref) <= 512  # a longer one is no file reference at all
            if len(text) <= MAX_TEXT and (text or usable):
                self.expected.append(f"{text}\n[file: {self.channel}]".strip() if usable else text)

    def buttons(self) -> list[str]:
        outbound = self.last.outbound if self.last else []
        return [value for message in outbound for value, _ in message.buttons or []]

    def node(self) -> str:
        conversation = Conversation.objects.get(pk=self.last.conversation.pk) if self.last else None
        state = conversation.state if conversation else None
        return str(state.get("node", "")) if isinstance(state, dict) else ""


def _is_start(text: str) -> bool:
    folded = text.casefold()
    return folded == "/start" or folded.startswith(("/start ", "/start@"))


def _looks_like_panic(text: str) -> bool:
    folded = " ".join(text.casefold().split()).strip(" .!…")
    words = {"wipe", "стереть", *(w.casefold() for w in settings.INTAKE_PANIC_WORDS)}
    return any(word in folded for word in words)


def check_conversation(received: Received) -> None:
    """The row as stored: state and transcript decrypt, the state reads back strictly."""
    conversation = Conversation.objects.get(pk=received.conversation.pk)
    state = conversation.state
    assert isinstance(state, dict) and state
    flows.State.from_dict(state)
    assert isinstance(conversation.transcript, list)
    for message in OutboundMessage.objects.filter(pk__in=[m.pk for m in received.outbound]):
        assert isinstance(message.text, str) and message.text
        assert all(len(pair) == 2 for pair in message.buttons)


def next_answer(applicant: Applicant, choose: int, use_pin: bool) -> flows.Inbound:
    """What a person answering the flow sends: a button shown, or a sensible text."""
    buttons = applicant.buttons()
    node = applicant.node()
    if node == "duress_offer":
        return flows.Inbound("choice", choice=f"duress_offer:{'yes' if use_pin else 'no'}")
    if node == "consent":
        return flows.Inbound("choice", choice="consent:yes")
    if buttons:
        return flows.Inbound("choice", choice=buttons[choose % len(buttons)])
    if node == "duress_pin":
        applicant.pin_set = True
        return flows.Inbound("text", text=PIN)
    return flows.Inbound("text", text=SENSIBLE.get(node, "Please help"))


def case_messages(org: Organisation, case_id: int, keychains: dict[str, Any]) -> list[str]:
    keychain = keychains.setdefault("coordinator", keychain_of(org.coordinator))
    case = case_unlock(case=Case.objects.get(pk=case_id), keychain=keychain)
    entries = list(case.entries.filter(kind=EntryKind.MESSAGE_IN).order_by("created_at", "id"))
    for entry in entries:
        entry.case = case
    return [entry.body for entry in entries]


@fuzz_settings(25)
@given(data=st.data(), channel=st.sampled_from(["telegram", "web"]))
def test_any_message_sequence_completes_cleanly_and_loses_nothing(
    org: Organisation, data: st.DataObject, channel: str
) -> None:
    keychains: dict[str, Any] = {}
    applicant = Applicant(channel)
    for inbound in data.draw(st.lists(hostile_inbound, max_size=4), label="before"):
        applicant.send(inbound)
    applicant.send(flows.Inbound("start"))
    use_pin = data.draw(st.booleans(), label="duress PIN")
    for _ in range(40):
        if applicant.case_id is not None:
            break
        if data.draw(st.integers(0, 9), label="interrupt") == 0:
            interruption = data.draw(hostile_inbound, label="interruption")
            if not (interruption.kind == "start" or _looks_like_panic(interruption.text)):
                applicant.send(interruption)
                continue
        applicant.send(next_answer(applicant, data.draw(st.integers(0, 15)), use_pin))
    if applicant.case_id is None:
        event("intake not completed")
        return
    event("intake completed")
    for inbound in data.draw(st.lists(hostile_inbound, max_size=8), label="after"):
        applicant.send(inbound)
    if applicant.pin_set and data.draw(st.booleans(), label="types the PIN"):
        applicant.send(flows.Inbound("text", text=PIN))
        assert Case.objects.get(pk=applicant.case_id).compromised_reason == "duress_pin"
    assert case_messages(org, applicant.case_id, keychains) == applicant.expected


def complete_with_pin(channel: str) -> Applicant:
    applicant = Applicant(channel)
    applicant.send(flows.Inbound("start"))
    for _ in range(40):
        if applicant.case_id is not None:
            return applicant
        applicant.send(next_answer(applicant, 0, use_pin=True))
    raise AssertionError("the default flow did not complete")


def test_a_lone_surrogate_after_a_duress_pin_is_relayed_not_a_crash(org: Organisation) -> None:
    """Found by the fuzzer: the PIN check hashed the raw text, and "\\ud800" (which a
    Telegram update may carry as a JSON escape) cannot be encoded."""
    applicant = complete_with_pin("telegram")
    assert applicant.pin_set
    applicant.send(flows.Inbound("text", text="\ud800still here\udfff"))
    # The PIN with a bidi override and a NUL: cleaned, as the saved PIN was.
    applicant.send(flows.Inbound("text", text=f"\u202e{PIN}\x00 "))
    case = Case.objects.get(pk=applicant.case_id)
    assert case.compromised_reason == "duress_pin"
    assert case_messages(org, case.pk, {}) == ["still here"]


def test_a_failure_while_relaying_writes_nothing_and_the_retry_lands_once(
    org: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No partial write: if appending to the case fails, the conversation does not move
    on and nothing is queued, so the channel's retry (Telegram resends a webhook that
    failed) delivers the message once."""
    applicant = complete_with_pin("telegram")
    conversation = Conversation.objects.get(pk=applicant.last.conversation.pk)
    state, queued = conversation.state, OutboundMessage.objects.count()

    def broken(**_: Any) -> None:
        raise RuntimeError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr("tropa.intake.services.case_append_inbound", broken)
        with pytest.raises(RuntimeError):
            applicant.send(flows.Inbound("text", text="Are you there?"))
    assert Conversation.objects.get(pk=conversation.pk).state == state
    assert OutboundMessage.objects.count() == queued
    applicant.send(flows.Inbound("text", text="Are you there?"))
    assert case_messages(org, applicant.case_id, {}) == ["Are you there?"]
