"""The typed, immutable form of a flow: what the loader builds and the engine runs.

Nothing here reads files or knows about Django. The engine, the inspector and
the PO tools share these definitions, so "which item ids does a flow use" has
one answer (`flow_items`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

FLOW_SPEC_VERSION = 2

# An answer as stored in the conversation state: a choice value, text, a number
# or a file reference. Kept JSON-native so the state serialises without help.
Answer: TypeAlias = str | int | float
Scalar: TypeAlias = str | int | float

QUESTION_KINDS = ("text", "choice", "yes_no", "number", "file")
YES, NO = "yes", "no"

# Item ids the engine uses whatever the flow says, so every flow must translate them.
ALWAYS_ITEMS = ("system.expired", "error.stale", "error.too_long", "relay.hint")
KIND_ITEMS: Mapping[str, tuple[str, ...]] = {
    "choice": ("error.choice",),
    "yes_no": ("error.yes_no", "yes_no.yes", "yes_no.no"),
    "text": ("error.text",),
    "number": ("error.number",),
    "file": ("error.file",),
}
# Used when present, harmless when absent (the engine then stays silent or
# accepts fewer typed words).
OPTIONAL_ITEMS = ("relay.ack", "yes_no.yes_words", "yes_no.no_words")

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class FlowError(ValueError):
    """A flow document that cannot be run; `details` lists every problem found."""

    def __init__(self, summary: str, details: Sequence[str] = ()) -> None:
        self.summary = summary
        self.details = tuple(details)
        super().__init__("\n  ".join([summary, *self.details]))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(answer: Answer, expected: Scalar) -> bool:
    # 3 and 3.0 are the same answer; "3" typed as text is not the number 3.
    if _is_number(answer) and _is_number(expected):
        return float(answer) == float(expected)
    return answer == expected


@dataclass(frozen=True, slots=True)
class Condition:
    """A test on the answers so far: a leaf (`answer` + one or more tests) or all/any."""

    answer: str | None = None
    equals: Scalar | None = None
    one_of: tuple[Scalar, ...] | None = None  # `in:` in the document
    gte: float | None = None
    lte: float | None = None
    all_of: tuple[Condition, ...] = ()
    any_of: tuple[Condition, ...] = ()

    def matches(self, answers: Mapping[str, Answer]) -> bool:
        if self.all_of and not all(c.matches(answers) for c in self.all_of):
            return False
        if self.any_of and not any(c.matches(answers) for c in self.any_of):
            return False
        if self.answer is None:
            return bool(self.all_of or self.any_of)
        value = answers.get(self.answer)
        return value is not None and self._leaf_matches(value)

    def _leaf_matches(self, value: Answer) -> bool:
        if self.equals is not None and not _same(value, self.equals):
            return False
        if self.one_of is not None and not any(_same(value, v) for v in self.one_of):
            return False
        if self.gte is not None or self.lte is not None:
            if not _is_number(value):
                return False
            if self.gte is not None and float(value) < self.gte:
                return False
            if self.lte is not None and float(value) > self.lte:
                return False
        return True

    def leaves(self) -> Iterator[Condition]:
        """Every condition in the tree that names an answer."""
        if self.answer is not None:
            yield self
        for child in (*self.all_of, *self.any_of):
            yield from child.leaves()

    def compared_values(self) -> tuple[Scalar, ...]:
        """Values a leaf compares with for equality (not ranges)."""
        found: tuple[Scalar, ...] = () if self.equals is None else (self.equals,)
        return found + (self.one_of or ())


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str  # item id


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    kind: str
    text: str
    save_as: str
    next: str | None
    choices: tuple[Choice, ...] = ()
    pattern: str | None = None
    # None when there is no pattern, or when it does not compile (the inspector says so).
    regex: re.Pattern[str] | None = field(default=None, compare=False)
    error: str | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    skip: Choice | None = None
    sets_language: bool = False
    secret: bool = False

    def values(self) -> tuple[str, ...]:
        """Every value this question can save, when that set is closed."""
        if self.kind == "yes_no":
            return (YES, NO)
        found = tuple(c.value for c in self.choices)
        return found + ((self.skip.value,) if self.skip else ())


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    text: str
    next: str | None


@dataclass(frozen=True, slots=True)
class Case:
    when: Condition
    next: str


@dataclass(frozen=True, slots=True)
class Router:
    id: str
    cases: tuple[Case, ...]
    default: str | None

    def route(self, answers: Mapping[str, Answer]) -> str | None:
        for case in self.cases:
            if case.when.matches(answers):
                return case.next
        return self.default


@dataclass(frozen=True, slots=True)
class Exit:
    id: str
    text: str
    complete: bool = False


Node: TypeAlias = Question | Message | Router | Exit


@dataclass(frozen=True, slots=True)
class UrgencyRule:
    when: Condition
    add: int


@dataclass(frozen=True, slots=True)
class Urgency:
    base: int = 0
    rules: tuple[UrgencyRule, ...] = ()
    minimum: int = 0
    maximum: int = 100

    def score(self, answers: Mapping[str, Answer]) -> int:
        total = self.base + sum(r.add for r in self.rules if r.when.matches(answers))
        return max(self.minimum, min(self.maximum, total))


@dataclass(frozen=True)
class Flow:
    spec_version: int
    id: str
    version: int
    languages: tuple[str, ...]
    start: str
    timeout_minutes: int
    nodes: tuple[Node, ...]
    translations: Mapping[str, Mapping[str, str]]
    urgency: Urgency = Urgency()
    category_key: str = "category"
    panic_word: str | None = None  # item id of the word that wipes the chat
    # With duplicate ids (which the inspector reports) the first node wins.
    node_map: Mapping[str, Node] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Node] = {}
        for node in self.nodes:
            index.setdefault(node.id, node)
        object.__setattr__(self, "node_map", index)

    def text(self, item: str, language: str) -> str:
        """The item in `language`, else in the flow's first language that has it, else the id."""
        found = self.translations.get(language, {}).get(item)
        if found:
            return found
        for other in self.languages:
            found = self.translations.get(other, {}).get(item)
            if found:
                return found
        return item

    def questions(self) -> Iterator[Question]:
        return (n for n in self.nodes if isinstance(n, Question))

    def answer_keys(self) -> frozenset[str]:
        return frozenset(q.save_as for q in self.questions())


def successors(node: Node) -> tuple[str, ...]:
    """Node ids this node can lead to (unknown ids included, for the inspector)."""
    if isinstance(node, Question | Message):
        return () if node.next is None else (node.next,)
    if isinstance(node, Router):
        targets = [case.next for case in node.cases]
        if node.default is not None:
            targets.append(node.default)
        return tuple(dict.fromkeys(targets))
    return ()


def node_items(node: Node) -> tuple[str, ...]:
    """Item ids a node shows to the applicant."""
    if isinstance(node, Question):
        items = [node.text, *(c.label for c in node.choices)]
        if node.skip is not None:
            items.append(node.skip.label)
        if node.error is not None:
            items.append(node.error)
        return tuple(items)
    if isinstance(node, Message | Exit):
        return (node.text,)
    return ()


def flow_items(flow: Flow) -> dict[str, str | None]:
    """Every item id the engine may show for this flow, in order of first use, mapped
    to the node that uses it first (None for the engine's own messages)."""
    items: dict[str, str | None] = {}
    for node in flow.nodes:
        for item in node_items(node):
            items.setdefault(item, node.id)
    kinds = {q.kind for q in flow.questions()}
    for item in ALWAYS_ITEMS:
        items.setdefault(item, None)
    for kind in QUESTION_KINDS:
        if kind in kinds:
            for item in KIND_ITEMS[kind]:
                items.setdefault(item, None)
    if flow.panic_word is not None:
        items.setdefault(flow.panic_word, None)
    return items
