"""Read a flow document (YAML or JSON), upgrade it, validate it and build a `Flow`.

Three gates, in order: `migrate` (older spec_versions upgraded by a registry of
one-step migrations), the JSON Schema (shape, with the JSON path of every error)
and the inspector (references, reachability, translations). `load_flow` passes
all three; `parse_flow` stops after the schema so the inspector can be shown
broken flows.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from tropa.intake.flows.inspector import inspect_flow
from tropa.intake.flows.model import (
    FLOW_SPEC_VERSION,
    Case,
    Choice,
    Condition,
    Exit,
    Flow,
    FlowError,
    Message,
    Node,
    Question,
    Router,
    Urgency,
    UrgencyRule,
)

SCHEMA_PATH = Path(__file__).with_name("schema.json")
DEFAULT_FLOW_PATH = Path(__file__).with_name("default.yaml")
MAX_SCHEMA_ERRORS = 20
# Values in a document, counted with every repetition: the default flow has 450.
# YAML aliases can make a 1 KB file expand to billions (validation then never
# ends) or refer to themselves; either is refused before validation.
MAX_DOCUMENT_VALUES = 20_000

FlowDoc = dict[str, Any]
Migration = Callable[[FlowDoc], FlowDoc]


def _v1_to_v2(doc: FlowDoc) -> FlowDoc:
    """v1 called a question's answers `options`; v2 calls them `choices`, the word
    the engine, the inspector and the translators' PO comments use."""
    doc = copy.deepcopy(doc)
    for node in doc.get("nodes", []):
        if isinstance(node, dict) and "options" in node:
            node["choices"] = node.pop("options")
    doc["spec_version"] = 2
    return doc


# spec_version N -> a function returning the same document at version N + 1.
MIGRATIONS: dict[int, Migration] = {1: _v1_to_v2}


def migrate(doc: Mapping[str, Any]) -> FlowDoc:
    """Upgrade a document to FLOW_SPEC_VERSION, one registered step at a time."""
    version = doc.get("spec_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise FlowError("spec_version: missing or not an integer")
    if version > FLOW_SPEC_VERSION:
        raise FlowError(
            f"spec_version {version} is newer than this Tropa understands ({FLOW_SPEC_VERSION})"
        )
    out = dict(doc)
    while version < FLOW_SPEC_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise FlowError(f"spec_version {version}: no migration to {version + 1}")
        out = step(out)
        if out.get("spec_version") != version + 1:
            raise FlowError(f"migration from spec_version {version} did not advance it")
        version += 1
    return out


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _json_path(doc: Mapping[str, Any], error: ValidationError) -> str:
    """`nodes[3](who).choices[0].label`: the node id helps more than its index."""
    parts = ["$"]
    nodes = doc.get("nodes")
    path = list(error.absolute_path)
    for position, part in enumerate(path):
        if not isinstance(part, int):
            parts.append(f".{part}")
            continue
        parts.append(f"[{part}]")
        if position == 1 and path[0] == "nodes" and isinstance(nodes, list):
            node = nodes[part]
            if isinstance(node, dict) and "id" in node:
                parts.append(f"(id={node['id']})")
    return "".join(parts)


def _describe(doc: Mapping[str, Any], error: ValidationError) -> str:
    # anyOf/oneOf failures carry the useful reason in their context.
    leaf = best_match(error.context) if error.context else error
    text = f"{_json_path(doc, leaf)}: {leaf.message}"
    if isinstance(leaf.instance, bool):
        text += " (YAML reads bare yes/no/on/off as true/false: put the value in quotes)"
    return text


def validate(doc: Mapping[str, Any]) -> None:
    """Raise FlowError listing every schema violation with its JSON path."""
    errors = sorted(_validator().iter_errors(doc), key=lambda e: [str(p) for p in e.path])
    if errors:
        details = [_describe(doc, e) for e in errors[:MAX_SCHEMA_ERRORS]]
        if len(errors) > MAX_SCHEMA_ERRORS:
            details.append(f"... and {len(errors) - MAX_SCHEMA_ERRORS} more")
        raise FlowError(f"flow {doc.get('id', '?')!s} does not match the schema", details)


def _condition(raw: Mapping[str, Any]) -> Condition:
    one_of = raw.get("in")
    return Condition(
        answer=raw.get("answer"),
        equals=raw.get("equals"),
        one_of=None if one_of is None else tuple(one_of),
        gte=raw.get("gte"),
        lte=raw.get("lte"),
        all_of=tuple(_condition(c) for c in raw.get("all", ())),
        any_of=tuple(_condition(c) for c in raw.get("any", ())),
    )


def _choice(raw: Mapping[str, Any]) -> Choice:
    return Choice(value=raw["value"], label=raw["label"])


def _compile(pattern: str | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error:
        return None  # reported by the inspector as invalid_pattern


def _question(raw: Mapping[str, Any]) -> Question:
    skip = raw.get("skip")
    return Question(
        id=raw["id"],
        kind=raw["kind"],
        text=raw["text"],
        save_as=raw["save_as"],
        next=raw.get("next"),
        choices=tuple(_choice(c) for c in raw.get("choices", ())),
        pattern=raw.get("pattern"),
        regex=_compile(raw.get("pattern")),
        error=raw.get("error"),
        max_length=raw.get("max_length"),
        minimum=raw.get("min"),
        maximum=raw.get("max"),
        skip=None if skip is None else _choice(skip),
        sets_language=raw.get("sets_language", False),
        secret=raw.get("secret", False),
    )


def _node(raw: Mapping[str, Any]) -> Node:
    kind = raw["type"]
    if kind == "question":
        return _question(raw)
    if kind == "message":
        return Message(id=raw["id"], text=raw["text"], next=raw.get("next"))
    if kind == "router":
        cases = tuple(Case(when=_condition(c["when"]), next=c["next"]) for c in raw["cases"])
        return Router(id=raw["id"], cases=cases, default=raw.get("default"))
    return Exit(id=raw["id"], text=raw["text"], complete=raw.get("complete", False))


def _urgency(raw: Mapping[str, Any] | None) -> Urgency:
    if raw is None:
        return Urgency()
    rules = tuple(UrgencyRule(when=_condition(r["when"]), add=r["add"]) for r in raw["rules"])
    return Urgency(
        base=raw.get("base", 0),
        rules=rules,
        minimum=raw.get("min", 0),
        maximum=raw.get("max", 100),
    )


def _build(doc: Mapping[str, Any]) -> Flow:
    return Flow(
        spec_version=doc["spec_version"],
        id=doc["id"],
        version=doc["version"],
        languages=tuple(doc["languages"]),
        start=doc["start"],
        timeout_minutes=doc.get("timeout_minutes", 1440),
        nodes=tuple(_node(n) for n in doc["nodes"]),
        translations={lang: dict(items) for lang, items in doc["translations"].items()},
        urgency=_urgency(doc.get("urgency")),
        category_key=doc.get("category_key", "category"),
        panic_word=doc.get("panic_word"),
    )


def _refuse_expansion(doc: Mapping[str, Any]) -> None:
    """Walk the document as validation would, but stop after MAX_DOCUMENT_VALUES."""
    pending: list[Any] = [doc]
    for _ in range(MAX_DOCUMENT_VALUES):
        if not pending:
            return
        value = pending.pop()
        if isinstance(value, Mapping):
            pending.extend(value.values())
        elif isinstance(value, list | tuple):
            pending.extend(value)
    if not pending:
        return
    raise FlowError(
        f"the document holds more than {MAX_DOCUMENT_VALUES:,} values "
        "(YAML aliases that repeat or contain themselves?)"
    )


def parse_flow(doc: Mapping[str, Any]) -> Flow:
    """Migrate, schema-validate and build, without the inspector's checks."""
    if not isinstance(doc, Mapping):
        raise FlowError("a flow document must be a mapping at the top level")
    _refuse_expansion(doc)
    current = migrate(doc)
    validate(current)
    return _build(current)


def read_flow_document(path: str | os.PathLike[str]) -> FlowDoc:
    """The raw document from a .yaml/.yml or .json file."""
    source = Path(path)
    try:
        text = source.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FlowError(f"{source.name}: not UTF-8 text", [str(exc)]) from exc
    try:
        doc = json.loads(text) if source.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError, RecursionError) as exc:
        # RecursionError: nesting deeper than either parser can follow.
        raise FlowError(
            f"{source.name}: not valid {source.suffix[1:].upper()}", [str(exc)]
        ) from exc
    if not isinstance(doc, dict):
        raise FlowError(f"{source.name}: the top level must be a mapping")
    return doc


def load_flow(source: str | os.PathLike[str] | Mapping[str, Any]) -> Flow:
    """A runnable flow from a file path or a document; FlowError lists what is wrong."""
    doc = source if isinstance(source, Mapping) else read_flow_document(source)
    flow = parse_flow(doc)
    _raise_for_errors(flow, (str(p) for p in inspect_flow(flow) if p.severity == "error"))
    return flow


def _raise_for_errors(flow: Flow, problems: Iterable[str]) -> None:
    details = list(problems)
    if details:
        raise FlowError(f"flow {flow.id} v{flow.version} has {len(details)} error(s)", details)


@cache
def default_flow() -> Flow:
    """The flow shipped with Tropa (default.yaml), loaded once per process."""
    return load_flow(DEFAULT_FLOW_PATH)


def dump_flow(doc: Mapping[str, Any]) -> str:
    """YAML for a document (e.g. after `import_po`), keeping key order and Cyrillic readable."""
    return str(yaml.safe_dump(dict(doc), allow_unicode=True, sort_keys=False, width=100))
