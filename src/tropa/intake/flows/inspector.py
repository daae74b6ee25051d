"""Static checks of a flow, run before it is loaded and by authors at will.

Errors stop `load_flow` (the engine could misbehave or show an item id to a
person in danger); warnings are untidiness (an unreachable node, a translation
nobody uses). Each check is a small generator so a new one is one function
added to CHECKS.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from tropa.intake.flows.model import (
    OPTIONAL_ITEMS,
    PLACEHOLDER,
    Condition,
    Exit,
    Flow,
    Message,
    Question,
    Router,
    flow_items,
    successors,
)

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    severity: Severity
    node_id: str | None  # None for flow-wide problems (translations, urgency)
    message: str
    code: str = ""  # stable name for tests and tooling, e.g. "unreachable"

    def __str__(self) -> str:
        where = f"[{self.node_id}] " if self.node_id else ""
        return f"{self.severity}: {where}{self.message} ({self.code})"


def _error(node_id: str | None, code: str, message: str) -> Problem:
    return Problem("error", node_id, message, code)


def _warning(node_id: str | None, code: str, message: str) -> Problem:
    return Problem("warning", node_id, message, code)


def _reachable(flow: Flow) -> list[str]:
    """Node ids reachable from start, breadth first (known ids only)."""
    if flow.start not in flow.node_map:
        return []
    seen = {flow.start: None}
    queue = deque([flow.start])
    while queue:
        for target in successors(flow.node_map[queue.popleft()]):
            if target in flow.node_map and target not in seen:
                seen[target] = None
                queue.append(target)
    return list(seen)


def _saved_before(flow: Flow) -> dict[str, frozenset[str]]:
    """For each reachable node, the answer keys saved on *every* path from start to it
    (a must-analysis: intersect over predecessors until nothing changes)."""
    reachable = _reachable(flow)
    preds: dict[str, list[str]] = {n: [] for n in reachable}
    for node_id in reachable:
        for target in successors(flow.node_map[node_id]):
            if target in preds:
                preds[target].append(node_id)
    everything = flow.answer_keys()
    before = {n: everything for n in reachable}
    if reachable:
        before[flow.start] = frozenset()

    def after(node_id: str) -> frozenset[str]:
        node = flow.node_map[node_id]
        return before[node_id] | {node.save_as} if isinstance(node, Question) else before[node_id]

    changed = True
    while changed:
        changed = False
        for node_id in reachable[1:]:
            new = frozenset.intersection(*(after(p) for p in preds[node_id]))
            if new != before[node_id]:
                before[node_id], changed = new, True
    return before


def check_duplicate_ids(flow: Flow) -> Iterator[Problem]:
    seen: set[str] = set()
    for node in flow.nodes:
        if node.id in seen:
            yield _error(node.id, "duplicate_id", f"node id {node.id!r} is used more than once")
        seen.add(node.id)


def check_references(flow: Flow) -> Iterator[Problem]:
    if flow.start not in flow.node_map:
        yield _error(None, "unknown_node", f"start points at unknown node {flow.start!r}")
    for node in flow.nodes:
        for target in successors(node):
            if target not in flow.node_map:
                yield _error(node.id, "unknown_node", f"leads to unknown node {target!r}")


def check_dead_ends(flow: Flow) -> Iterator[Problem]:
    for node in flow.nodes:
        if isinstance(node, Question | Message) and node.next is None:
            yield _error(node.id, "dead_end", "has no `next` and is not an exit")
        if isinstance(node, Router) and node.default is None:
            yield _error(node.id, "dead_end", "router has no `default` for when no case matches")


def check_unreachable(flow: Flow) -> Iterator[Problem]:
    reachable = set(_reachable(flow))
    for node in flow.nodes:
        if node.id not in reachable and flow.start in flow.node_map:
            yield _warning(node.id, "unreachable", "cannot be reached from the start node")


def check_automatic_loops(flow: Flow) -> Iterator[Problem]:
    """Messages and routers run without waiting for the person, so a cycle made only
    of them would never stop."""
    automatic = {n.id for n in flow.nodes if isinstance(n, Message | Router)}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node_id: str) -> str | None:
        state[node_id] = 1
        for target in successors(flow.node_map[node_id]):
            if target in automatic and state.get(target) == 1:
                return target
            if target in automatic and target not in state and (found := visit(target)):
                return found
        state[node_id] = 2
        return None

    for node_id in sorted(automatic):
        if node_id not in state and (found := visit(node_id)):
            yield _error(found, "loop", "messages/routers form a loop with no question in it")


def _check_leaf(flow: Flow, leaf: Condition, where: str | None) -> Iterator[Problem]:
    assert leaf.answer is not None  # leaves() yields only conditions that name an answer
    askers = [q for q in flow.questions() if q.save_as == leaf.answer]
    if not askers:
        yield _error(where, "unknown_answer", f"tests answer {leaf.answer!r}, never saved")
        return
    closed = all(q.kind in ("choice", "yes_no") for q in askers)
    possible = {v for q in askers for v in q.values()}
    for value in leaf.compared_values():
        if closed and value not in possible:
            yield _error(
                where,
                "impossible_value",
                f"{leaf.answer!r} is never {value!r} ({sorted(possible)})",
            )
    ranged = leaf.gte is not None or leaf.lte is not None
    if ranged and not any(q.kind == "number" for q in askers):
        yield _error(where, "not_a_number", f"compares {leaf.answer!r} as a number; it is not")


def check_conditions(flow: Flow) -> Iterator[Problem]:
    before = _saved_before(flow)
    for node in flow.nodes:
        if not isinstance(node, Router):
            continue
        for case in node.cases:
            for leaf in case.when.leaves():
                yield from _check_leaf(flow, leaf, node.id)
                known = leaf.answer in flow.answer_keys()
                if known and node.id in before and leaf.answer not in before[node.id]:
                    yield _error(
                        node.id,
                        "answer_not_before",
                        f"answer {leaf.answer!r} may not be given yet on some path to this router",
                    )
    for rule in flow.urgency.rules:
        for leaf in rule.when.leaves():
            yield from _check_leaf(flow, leaf, None)


def _has_text(flow: Flow, item: str) -> bool:
    return any(flow.translations.get(lang, {}).get(item, "").strip() for lang in flow.languages)


def check_choices(flow: Flow) -> Iterator[Problem]:
    for question in flow.questions():
        if question.kind == "choice" and not question.choices:
            yield _error(question.id, "no_choices", "a choice question without choices")
        if question.kind != "choice" and question.choices:
            yield _warning(question.id, "unused_choices", f"choices ignored for {question.kind}")
        values = [c.value for c in question.choices]
        values += [question.skip.value] if question.skip else []
        for value in sorted({v for v in values if values.count(v) > 1}):
            yield _error(question.id, "duplicate_choice", f"choice value {value!r} repeats")
        for choice in (*question.choices, *([question.skip] if question.skip else [])):
            if not _has_text(flow, choice.label):
                yield _error(
                    question.id,
                    "choice_without_label",
                    f"choice {choice.value!r} has no label text ({choice.label!r})",
                )


def check_language_question(flow: Flow) -> Iterator[Problem]:
    for question in flow.questions():
        if not question.sets_language:
            continue
        if question.kind != "choice":
            yield _error(question.id, "language_question", "sets_language needs a choice question")
        for choice in question.choices:
            if choice.value not in flow.languages:
                yield _error(
                    question.id,
                    "language_question",
                    f"choice {choice.value!r} is not one of the flow's languages",
                )


def check_patterns(flow: Flow) -> Iterator[Problem]:
    for question in flow.questions():
        if question.pattern is not None and question.regex is None:
            yield _error(question.id, "invalid_pattern", f"pattern {question.pattern!r} is invalid")
        if question.pattern is not None and question.kind != "text":
            yield _warning(question.id, "unused_pattern", "pattern applies to text questions only")


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def check_translations(flow: Flow) -> Iterator[Problem]:
    used = flow_items(flow)
    reference = flow.languages[0]
    for item, node_id in used.items():
        for language in flow.languages:
            text = flow.translations.get(language, {}).get(item, "")
            if not text.strip():
                yield _error(node_id, "missing_translation", f"{item!r} has no {language} text")
            elif _placeholders(text) != _placeholders(flow.text(item, reference)):
                yield _error(
                    node_id,
                    "placeholder_mismatch",
                    f"{item!r} in {language} has placeholders {sorted(_placeholders(text))}, "
                    f"{reference} has {sorted(_placeholders(flow.text(item, reference)))}",
                )
    yield from _unused_translations(flow, used)


def _unused_translations(flow: Flow, used: Mapping[str, str | None]) -> Iterator[Problem]:
    present: dict[str, None] = {}
    for language, items in flow.translations.items():
        if language not in flow.languages:
            yield _warning(
                None, "unlisted_language", f"translations for {language!r} not in languages"
            )
        present.update(dict.fromkeys(items))
    for item in present:
        if item not in used and item not in OPTIONAL_ITEMS:
            yield _warning(None, "unused_translation", f"{item!r} is not used by any node")


def check_completion(flow: Flow) -> Iterator[Problem]:
    reachable = [flow.node_map[n] for n in _reachable(flow)]
    if reachable and not any(isinstance(n, Exit) and n.complete for n in reachable):
        yield _error(None, "no_completion", "no reachable exit with `complete: true`")
    if flow.category_key not in flow.answer_keys():
        yield _error(
            None, "unknown_category_key", f"category_key {flow.category_key!r} is never saved"
        )


CHECKS: tuple[Callable[[Flow], Iterator[Problem]], ...] = (
    check_duplicate_ids,
    check_references,
    check_dead_ends,
    check_unreachable,
    check_automatic_loops,
    check_conditions,
    check_choices,
    check_language_question,
    check_patterns,
    check_translations,
    check_completion,
)


def inspect_flow(flow: Flow) -> list[Problem]:
    """Every problem found, errors and warnings, in check order."""
    return [problem for check in CHECKS for problem in check(flow)]
