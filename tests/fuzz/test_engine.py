"""S10, the pure intake engine: any message sequence, any stored state, never a crash.

What tests/intake/test_engine.py does not already prove: everything the engine
hands back can be stored (UTF-8 JSON, no lone surrogates, no item ids shown to
a person), every message after completion is relayed exactly once with its
text intact or refused with nothing changed, and any JSON found in the state
column, however broken, gives a conversation that runs.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.strategies import hostile_text, json_values
from tropa.intake.flows import (
    Engine,
    FixedClock,
    FixedIds,
    Inbound,
    State,
    StateError,
    Step,
    default_flow,
    migrate_state,
    sanitise_text,
)

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
CLOCK = FixedClock(T0)
ENGINE = Engine(default_flow(), clock=CLOCK, ids=FixedIds("Birch-42"))
MAX_TEXT = 4000
# An item id ("error.choice", "relay.hint") reaching a person means a missing translation.
ITEM_ID = re.compile(r"[a-z_]+(\.[a-z_]+)+")

inbound_kinds = st.sampled_from(["start", "text", "choice", "file", "location", ""])
hostile_inbound = st.builds(
    Inbound,
    kind=inbound_kinds,
    text=hostile_text,
    choice=st.none() | hostile_text,
    file_ref=st.none() | hostile_text,
)


def storable(value: Any) -> None:
    """What the Django side does with it: JSON, then UTF-8, then encryption."""
    json.dumps(value, ensure_ascii=False).encode("utf-8")


def check_step(before: State | None, step: Step) -> None:
    stored = step.state.to_dict()
    storable(stored)
    assert State.from_dict(json.loads(json.dumps(stored))) == step.state
    if before is not None:
        assert step.state.message_count == before.message_count + 1
    for message in step.outbound:
        assert message.text and not ITEM_ID.fullmatch(message.text), message.text
        storable([message.text, [[b.value, b.label] for b in message.buttons]])
    for found in step.events:
        storable(dict(found.data))


def complete() -> Step:
    """The default flow, answered in English, to the codename."""
    CLOCK.current = T0
    step = ENGINE.start(language="en")
    answers = {"description": "Sent to the front next week.", "duress_pin": "4821"}
    for _ in range(30):
        if step.state.completed:
            return step
        buttons = [b for message in step.outbound for b in message.buttons]
        node = step.state.node
        pressed = [b.value for b in buttons if b.value.endswith((":en", ":yes"))] or [
            b.value for b in buttons
        ]
        inbound = (
            Inbound("choice", choice=pressed[0])
            if pressed
            else Inbound("text", text=answers.get(node, "07/2031"))
        )
        step = ENGINE.step(step.state, inbound)
    raise AssertionError(f"the default flow did not complete (at {step.state.node})")


COMPLETED = complete()


@fuzz_settings(150)
@given(st.sampled_from([None, "ru", "en", "zz"]), st.lists(hostile_inbound, max_size=12))
def test_hostile_messages_from_the_start_are_answered_and_storable(
    language: str | None, inbounds: list[Inbound]
) -> None:
    CLOCK.current = T0
    step = ENGINE.start(language=language)
    check_step(None, step)
    for inbound in inbounds:
        before = step.state
        step = ENGINE.step(before, inbound)
        check_step(before, step)


def _is_start(text: str) -> bool:
    folded = text.casefold()
    return folded == "/start" or folded.startswith(("/start ", "/start@"))


def _relay_expected(inbound: Inbound) -> str | None:
    """The text a relay must carry for this message, or None if it is not one to relay."""
    text = sanitise_text(inbound.text)
    if inbound.kind == "text":
        return text if text and not _is_start(text) else None
    ref = sanitise_text(inbound.file_ref or "")
    if inbound.kind == "file" and (text or 0 < len(ref) <= 512):
        return text  # a caption, maybe with no file: relayed all the same
    return None


@fuzz_settings(150)
@given(st.lists(hostile_inbound, min_size=1, max_size=12))
def test_every_message_after_completion_is_relayed_once_or_refused(
    inbounds: list[Inbound],
) -> None:
    """Nothing lost: a relayable message gives exactly one relay with its cleaned text;
    a refused one (too long) changes nothing and says why."""
    state = COMPLETED.state
    for inbound in inbounds:
        CLOCK.current += timedelta(days=3)  # a completed conversation never expires
        step = ENGINE.step(state, inbound)
        check_step(state, step)
        relays = [e for e in step.events if e.kind == "relay"]
        expected = _relay_expected(inbound)
        if [e.kind for e in step.events] == ["panic"]:
            event("panic word")
            assert not step.outbound
        elif expected is not None and len(expected) > MAX_TEXT:
            event("refused: too long")
            assert not relays and [e.data["reason"] for e in step.events] == ["too_long"]
            # Only the housekeeping moves (this message was counted); nothing else.
            kept = replace(
                step.state, updated_at=state.updated_at, message_count=state.message_count
            )
            assert kept == state and step.outbound
        elif expected is not None:
            event("relayed")
            assert [e.data["text"] for e in relays] == [expected]
            assert step.state.relayed == state.relayed + 1
        else:
            assert not relays
        assert step.state.completed and not step.state.answers
        state = step.state


@fuzz_settings(200)
@given(json_values(), hostile_inbound)
def test_any_stored_state_gives_a_conversation_that_runs(raw: Any, inbound: Inbound) -> None:
    """Whatever the state column holds (a bug, an old version, tampering)."""
    try:
        State.from_dict(raw)
    except StateError:
        event("state refused")
    state = migrate_state(raw if isinstance(raw, dict) else {}, ENGINE.flow)
    CLOCK.current = T0
    check_step(None, ENGINE.step(state, inbound))


@fuzz_settings(100)
@given(
    st.fixed_dictionaries(
        {
            "spec_version": st.sampled_from([1, 2, 3, -1, True, "2"]),
            "flow_id": st.sampled_from(["default", "other", ""]) | hostile_text,
            "flow_version": st.integers(-(2**70), 2**70) | st.booleans(),
            "node": st.sampled_from([q.id for q in default_flow().questions()]) | hostile_text,
            "language": st.sampled_from(["ru", "en", "lang"]) | hostile_text,
            "answers": st.dictionaries(hostile_text, json_values(5), max_size=4),
            "started_at": st.sampled_from(["2024-03-01T12:00:00+00:00", "yesterday", ""]),
            "updated_at": st.sampled_from(["2024-03-01T11:59:00", "9999-12-31T23:59:59", "x"]),
            "completed": st.booleans() | st.none(),
            "message_count": st.integers(-5, 2**63),
            "relayed": st.integers(-5, 2**63) | st.none(),
        }
    ),
    hostile_inbound,
)
def test_a_nearly_valid_state_gives_a_conversation_that_runs(
    raw: dict[str, Any], inbound: Inbound
) -> None:
    state = migrate_state(raw, ENGINE.flow)
    CLOCK.current = T0
    check_step(None, ENGINE.step(state, inbound))
