"""S10, the flow loader: a mutated flow document gives a runnable Flow or a list of
problems (FlowError), never another exception, and a flow that loads runs.

Mutations start from the shipped default.yaml: on the parsed document (a key
deleted, a value replaced by hostile JSON, a subtree moved elsewhere, an item
duplicated) and on the YAML text itself (bytes flipped, cut, inserted).
"""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import event, given
from hypothesis import strategies as st

from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.strategies import hostile_text, json_values, mutated
from tropa.intake.flows import (
    DEFAULT_FLOW_PATH,
    Engine,
    FixedClock,
    FixedIds,
    Flow,
    FlowError,
    Inbound,
    inspect_flow,
    load_flow,
    parse_flow,
    read_flow_document,
)

DEFAULT_TEXT = DEFAULT_FLOW_PATH.read_bytes()
DEFAULT_DOC = yaml.safe_load(DEFAULT_TEXT)


def _containers(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every dict and list in the document."""
    found = [path]
    items = doc.items() if isinstance(doc, dict) else enumerate(doc)
    for key, value in items:
        if isinstance(value, dict | list):
            found.extend(_containers(value, (*path, key)))
    return found


CONTAINERS = _containers(DEFAULT_DOC)


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _subtrees(doc: Any) -> list[Any]:
    return [_at(doc, path) for path in CONTAINERS]


@st.composite
def mutated_documents(draw: st.DrawFn) -> dict[str, Any]:
    doc = copy.deepcopy(DEFAULT_DOC)
    for _ in range(draw(st.integers(1, 4))):
        target = _at(doc, draw(st.sampled_from(_containers(doc))))
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        if not keys:
            continue
        key = draw(st.sampled_from(keys))
        how = draw(st.sampled_from(["delete", "replace", "transplant", "duplicate", "rename"]))
        if how == "delete":
            del target[key]
        elif how == "replace":
            target[key] = draw(json_values(10) | hostile_text)
        elif how == "transplant":  # a real piece of the flow, in the wrong place
            target[key] = copy.deepcopy(draw(st.sampled_from(_subtrees(DEFAULT_DOC))))
        elif how == "duplicate" and isinstance(target, list):
            target.insert(key, copy.deepcopy(target[key]))
        elif how == "rename" and isinstance(target, dict):
            target[draw(hostile_text | st.sampled_from(["next", "id", "text", "in"]))] = target.pop(
                key
            )
    return doc


def check_runs(flow: Flow, inbounds: list[Inbound]) -> None:
    """A loaded flow has no errors, so an engine takes it and answers anything."""
    engine = Engine(flow, clock=FixedClock(datetime(2024, 1, 1, tzinfo=UTC)), ids=FixedIds())
    step = engine.start()
    for inbound in inbounds:
        buttons = [b.value for message in step.outbound for b in message.buttons]
        if inbound.kind == "choice" and buttons:  # mostly press what is shown
            inbound = Inbound("choice", choice=buttons[len(inbound.choice or "") % len(buttons)])
        step = engine.step(step.state, inbound)
        assert all(message.text for message in step.outbound)


inbounds = st.lists(
    st.builds(Inbound, kind=st.sampled_from(["text", "choice", "start"]), text=hostile_text)
    | st.builds(Inbound, kind=st.just("choice"), choice=st.text(max_size=3)),
    max_size=15,
)


@fuzz_settings(100)
@given(mutated_documents(), inbounds)
def test_a_mutated_document_loads_or_lists_its_problems(
    doc: dict[str, Any], script: list[Inbound]
) -> None:
    try:
        flow = load_flow(doc)
    except FlowError as error:
        event("refused")
        assert str(error)
        try:
            inspect_flow(parse_flow(doc))  # the inspector also takes what the schema passes
            event("schema passed, inspector refused")
        except FlowError:
            pass
        return
    event("loaded")
    check_runs(flow, script)


@fuzz_settings(60)
@given(mutated(st.just(DEFAULT_TEXT), max_mutations=4), inbounds)
def test_a_mutated_yaml_file_loads_or_lists_its_problems(
    tmp_path_factory: Any, text: bytes, script: list[Inbound]
) -> None:
    path = Path(tmp_path_factory.mktemp("flow")) / "flow.yaml"
    path.write_bytes(text)
    try:
        flow = load_flow(path)
    except FlowError as error:
        event("refused")
        assert str(error)
        return
    event("loaded")
    check_runs(flow, script)


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_a_file_that_is_not_utf8_is_a_flow_error(tmp_path: Path) -> None:
    """Found by the fuzzer: read_flow_document raised UnicodeDecodeError."""
    path = _write(tmp_path, "flow.yaml", b"\x80" + DEFAULT_TEXT)
    with pytest.raises(FlowError, match="not UTF-8"):
        read_flow_document(path)


@pytest.mark.parametrize(
    ("name", "content"),
    [("deep.json", b"[" * 5_000), ("deep.yaml", b"[" * 5_000)],
)
def test_nesting_past_the_parsers_stack_is_a_flow_error(
    tmp_path: Path, name: str, content: bytes
) -> None:
    with pytest.raises(FlowError):
        load_flow(_write(tmp_path, name, content))


def _alias_bomb(levels: int) -> bytes:
    """A condition that is nine copies of a condition that is nine copies of..."""
    lines = ["x0: &a0 {answer: urgency, equals: days}"]
    lines += [f"x{n}: &a{n} {{all: [{', '.join([f'*a{n - 1}'] * 9)}]}}" for n in range(1, levels)]
    rule = f"    - {{when: *a{levels - 1}, add: 20}}\n"
    text = DEFAULT_TEXT.decode()
    text = text.replace("urgency:\n  base: 10", "\n".join(lines) + "\nurgency:\n  base: 10")
    return text.replace("  rules:\n", "  rules:\n" + rule).encode()


def test_yaml_aliases_that_expand_without_end_are_refused_quickly(tmp_path: Path) -> None:
    """Found by the fuzzer's seeds: 1 KB of aliases expanding to 9**9 conditions kept
    the schema validation busy for hours; a recursive alias raised RecursionError."""
    began = time.perf_counter()
    with pytest.raises(FlowError, match="more than"):
        load_flow(_write(tmp_path, "bomb.yaml", _alias_bomb(10)))
    with pytest.raises(FlowError, match="more than"):
        load_flow(_write(tmp_path, "loop.yaml", DEFAULT_TEXT + b"loop: &loop [*loop]\n"))
    assert time.perf_counter() - began < 5
