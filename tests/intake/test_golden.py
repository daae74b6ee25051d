"""Golden conversations: tests/intake/golden/*.yaml replayed against the default flow.

A file is a transcript: the language passed to `Engine.start`, what the bot
says first, then each message the person sends and what must come back.

    language: en
    start: {expect: [{contains: "choose a language"}], buttons: [ru, en]}
    steps:
      - press: en                  # a button on screen, by its answer value
        expect: ["exact text", {contains: "part of a text"}]   # every outbound, in order
        events: [{answer: {key: language, value: en}}, restarted]  # kind, or kind: data subset
        buttons: [self, relative]  # values of the buttons on the last outbound
        node: who                  # where the conversation rests afterwards

Inputs: `press: v`, `text: s` (with `repeat: n` for long text), `choice: raw callback
data` (stale buttons), `file: ref` (caption in `text`), `kind: start`. `after_minutes: n`
moves the clock first. The clock starts at a fixed time; codenames are "Birch-42".
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tropa.intake.flows import (
    Engine,
    FixedClock,
    FixedIds,
    Inbound,
    State,
    Step,
    default_flow,
)
from tropa.intake.flows.model import successors

GOLDEN = Path(__file__).with_name("golden")
FILES = sorted(GOLDEN.glob("*.yaml"))
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def inbound_for(spec: dict[str, Any], screen: Step) -> Inbound:
    if "press" in spec:
        wanted = str(spec["press"])
        shown = [b.value for o in screen.outbound for b in o.buttons]
        matching = [v for v in shown if v.rpartition(":")[2] == wanted]
        assert matching, f"no button {wanted!r} on screen (shown: {shown})"
        return Inbound("choice", choice=matching[-1])
    if "choice" in spec:
        return Inbound("choice", choice=str(spec["choice"]))
    if "file" in spec:
        return Inbound("file", text=spec.get("text", ""), file_ref=str(spec["file"]))
    if spec.get("kind") == "start":
        return Inbound("start")
    return Inbound("text", text=str(spec["text"]) * spec.get("repeat", 1))


def check_outbound(step: Step, expected: list[Any], where: str) -> None:
    texts = [o.text for o in step.outbound]
    assert len(texts) == len(expected), f"{where}: bot said {texts}"
    for said, want in zip(texts, expected, strict=True):
        if isinstance(want, dict):
            assert want["contains"] in said, f"{where}: {want['contains']!r} not in {said!r}"
        else:
            assert said == want, where


def check_events(step: Step, expected: list[Any], where: str) -> None:
    got = [e.kind for e in step.events]
    wanted = [e if isinstance(e, str) else next(iter(e)) for e in expected]
    assert got == wanted, f"{where}: events {got}"
    for event, want in zip(step.events, expected, strict=True):
        if isinstance(want, dict):
            subset = want[event.kind] or {}
            assert {k: event.data.get(k) for k in subset} == subset, f"{where}: {event.data}"


def check_step(step: Step, spec: dict[str, Any], where: str) -> None:
    check_outbound(step, spec.get("expect", []), where)
    check_events(step, spec.get("events", []), where)
    if "buttons" in spec:
        last = step.outbound[-1].buttons if step.outbound else ()
        assert [b.value.rpartition(":")[2] for b in last] == spec["buttons"], where
    if "node" in spec:
        assert step.state.node == spec["node"], where
    # Whatever the conversation, the state must survive storage.
    assert State.from_dict(step.state.to_dict()) == step.state


def replay(path: Path) -> dict[str, set[tuple[str, str]]]:
    """Run one golden file; return the flow edges it walked, by language."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    clock = FixedClock(T0)
    engine = Engine(default_flow(), clock=clock, ids=FixedIds("Birch-42"))
    step = engine.start(language=doc.get("language"))
    check_step(step, doc["start"], f"{path.name} start")
    walked: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for number, spec in enumerate(doc["steps"], start=1):
        clock.advance(minutes=spec.get("after_minutes", 0))
        step = engine.step(step.state, inbound_for(spec, step))
        check_step(step, spec, f"{path.name} step {number}")
        walked[step.state.language].update(zip(step.path, step.path[1:], strict=False))
    return walked


def test_there_are_golden_files() -> None:
    assert len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_golden_conversation(path: Path) -> None:
    replay(path)


def test_golden_files_walk_every_branch_in_every_language() -> None:
    flow = default_flow()
    every_edge = {(n.id, target) for n in flow.nodes for target in successors(n)}
    walked: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for path in FILES:
        for language, edges in replay(path).items():
            walked[language] |= edges
    for language in flow.languages:
        missing = sorted(every_edge - walked[language])
        assert not missing, f"{language}: no golden file walks {missing}"
