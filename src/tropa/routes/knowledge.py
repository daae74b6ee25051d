"""Route knowledge as YAML: import with validation, and export.

`load_knowledge` either returns a whole, valid `Knowledge` or raises
`KnowledgeError` listing every problem found, each naming the place or leg
and what is wrong; nothing is ever partly imported. `dump_knowledge` writes
the same schema, so `load_knowledge(dump_knowledge(k), today=...) == k`.

Schema (version 1)::

    version: 1
    hostile_countries: [BY]          # ISO 3166 alpha-2 codes; [] if none
    places:
      - id: steppe-town              # letters, digits, . _ : -; at most 64
        name: Steppe border town     # at most 200 characters
        country: KZ                  # quote NO (Norway): YAML reads it as false
        kind: city                   # city | crossing | safe_point
        safe: false                  # optional, default false: a destination
    legs:
      - id: L16                      # one-way; the way back is its own leg
        origin: steppe-crossing      # place ids
        destination: steppe-town
        mode: foot                   # rail | road | air | foot | ferry
        hours: 3.0                   # 0 < hours <= 720
        documents: [internal_passport]   # any of internal_passport,
                                         # foreign_passport, visa; [] for none
        risk: high                   # low | medium | high | critical
        assessed_on: 2026-10-10      # YYYY-MM-DD, not after today
        assessed_by: evac-3          # the assessor's staff alias
        note: Pedestrian lane.       # optional, at most 2,000 characters

Hostile input: documents over MAX_BYTES (2 MiB; real knowledge is tens of
kilobytes) are refused before parsing; anchors, aliases (the "billion laughs"
bomb), explicit tags, duplicate keys and nesting deeper than MAX_DEPTH are
refused by a streaming pre-scan, before anything is built.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import yaml

from tropa.routes.planner import (
    DOCUMENTS,
    MODES,
    PLACE_KINDS,
    RISK_PROBABILITY,
    Knowledge,
    Leg,
    Place,
)

SPEC_VERSION: Final = 1
MAX_BYTES: Final = 2 * 1024 * 1024
MAX_DEPTH: Final = 6  # the schema itself needs 4
MAX_HOURS: Final = 720.0  # a month: longer is a journey, not a leg
MAX_PROBLEMS_SHOWN: Final = 50
SAMPLE_PATH: Final = Path(__file__).with_name("sample.yaml")

ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
COUNTRY = re.compile(r"[A-Z]{2}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TOP_KEYS: Final = ("version", "hostile_countries", "places", "legs")
PLACE_KEYS: Final = ("id", "name", "country", "kind", "safe")
LEG_KEYS: Final = (
    "id",
    "origin",
    "destination",
    "mode",
    "hours",
    "documents",
    "risk",
    "assessed_on",
    "assessed_by",
    "note",
)
BOOL_HINT: Final = " (YAML reads bare yes/no/on/off/NO as true/false: put the value in quotes)"


class KnowledgeError(ValueError):
    """Route knowledge that cannot be imported; `problems` lists every problem found."""

    def __init__(self, summary: str, problems: Sequence[str] = ()) -> None:
        self.summary = summary
        self.problems = tuple(problems)
        shown = list(self.problems[:MAX_PROBLEMS_SHOWN])
        if len(self.problems) > MAX_PROBLEMS_SHOWN:
            shown.append(f"... and {len(self.problems) - MAX_PROBLEMS_SHOWN} more")
        super().__init__("\n  ".join([summary, *shown]))


# -- the streaming pre-scan ------------------------------------------------------------


@dataclass
class _Frame:
    mapping: bool
    expect_key: bool = True
    keys: set[str] = field(default_factory=set)


def _node_done(stack: list[_Frame]) -> None:
    if stack and stack[-1].mapping:
        stack[-1].expect_key = not stack[-1].expect_key


def _scan_event(event: Any, stack: list[_Frame], problems: list[str]) -> None:
    line = event.start_mark.line + 1
    if isinstance(event, yaml.AliasEvent):
        problems.append(f"line {line}: aliases (*{event.anchor}) are not allowed")
    elif event.anchor is not None:
        problems.append(f"line {line}: anchors (&{event.anchor}) are not allowed")
    if getattr(event, "tag", None) is not None:
        problems.append(f"line {line}: tags ({event.tag}) are not allowed")
    top = stack[-1] if stack else None
    if top is not None and top.mapping and top.expect_key:
        if not isinstance(event, yaml.ScalarEvent):
            problems.append(f"line {line}: a key must be plain text")
        elif event.value in top.keys:
            problems.append(f"line {line}: duplicate key {event.value!r}")
        else:
            top.keys.add(event.value)
    if isinstance(event, yaml.ScalarEvent):
        # Safe loading turns a plain 2026-13-45 into an error with no position.
        plain = event.implicit[0]
        if plain and ISO_DATE.fullmatch(event.value) and not _is_date(event.value):
            problems.append(f"line {line}: {event.value} is not a valid date (YYYY-MM-DD)")
    if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
        if len(stack) >= MAX_DEPTH:
            raise KnowledgeError(
                "the route knowledge was refused",
                [f"line {line}: nested deeper than {MAX_DEPTH} levels"],
            )
        stack.append(_Frame(mapping=isinstance(event, yaml.MappingStartEvent)))
    else:
        _node_done(stack)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _prescan(text: str) -> None:
    """Refuse anchors, aliases, tags, duplicate keys and deep nesting, without building."""
    problems: list[str] = []
    stack: list[_Frame] = []
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                stack.pop()
                _node_done(stack)
            elif isinstance(event, yaml.NodeEvent):
                _scan_event(event, stack, problems)
            if len(problems) >= MAX_PROBLEMS_SHOWN:
                break
    except yaml.YAMLError as error:
        problems.append(f"not valid YAML: {_yaml_error(error)}")
    if problems:
        raise KnowledgeError("the route knowledge was refused", problems)


def _yaml_error(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    parts = [getattr(error, "context", None), getattr(error, "problem", None)]
    problem = ", ".join(str(part) for part in parts if part) or str(error)
    if mark is None:
        return problem
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def _parse(source: str | bytes) -> object:
    if len(source) > MAX_BYTES:
        raise KnowledgeError(f"the route knowledge is larger than the {MAX_BYTES:,}-byte limit")
    if isinstance(source, bytes):
        try:
            text = source.decode("utf-8")
        except UnicodeDecodeError as error:
            raise KnowledgeError(f"not UTF-8 text (byte {error.start})") from None
    else:
        text = source
        if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
            raise KnowledgeError(f"the route knowledge is larger than the {MAX_BYTES:,}-byte limit")
    _prescan(text)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise KnowledgeError("not valid YAML", [_yaml_error(error)]) from None
    except (ValueError, OverflowError) as error:  # e.g. a 5,000-digit number
        raise KnowledgeError("a value could not be read", [str(error)]) from None


# -- field checks: each appends a problem and returns None when the value is wrong ------


class _Checker:
    def __init__(self, where: str, raw: Mapping[str, Any], problems: list[str]) -> None:
        self.where, self.raw, self.problems = where, raw, problems

    def problem(self, text: str) -> None:
        self.problems.append(f"{self.where}: {text}")

    def keys(self, allowed: Sequence[str], required: Sequence[str]) -> None:
        for key in self.raw:
            if key not in allowed:
                self.problem(f"unknown field {key!r}; expected one of {', '.join(allowed)}")
        for key in required:
            if key not in self.raw:
                self.problem(f"missing {key}")

    def text(
        self,
        key: str,
        *,
        pattern: re.Pattern[str] | None = None,
        max_length: int = 200,
        default: str | None = None,
        free_text: bool = False,
    ) -> str | None:
        """Text; `free_text` (notes) may be empty and span lines."""
        if key not in self.raw:
            return default  # reported by keys() when required
        value = self.raw[key]
        if isinstance(value, bool):
            self._wrong(key, f"must be text, not {value}{BOOL_HINT}")
            return None
        if not isinstance(value, str):
            self._wrong(key, f"must be text, not {_kind(value)} {value!r:.40}")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self._wrong(key, f"{value!r:.80} is not allowed here ({_rule(pattern)})")
            return None
        if pattern is None and not free_text and not value.strip():
            self._wrong(key, "must not be empty")
            return None
        if len(value) > max_length:
            self._wrong(key, f"is {len(value)} characters; the limit is {max_length}")
            return None
        allowed = "\n\t" if free_text else ""
        if any(_is_control(char) and char not in allowed for char in value):
            self._wrong(key, "contains control characters")
            return None
        return value

    def choice(self, key: str, choices: Sequence[str]) -> str | None:
        value = self.text(key, max_length=40)
        if value is not None and value not in choices:
            self._wrong(key, f"unknown value {value!r}; expected one of {', '.join(choices)}")
            return None
        return value

    def flag(self, key: str) -> bool | None:
        value = self.raw.get(key, False)
        if not isinstance(value, bool):
            self._wrong(key, f"must be true or false, not {value!r:.40}")
            return None
        return value

    def hours(self, key: str) -> float | None:
        if key not in self.raw:
            return None
        value = self.raw[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            hint = " (YAML reads 1e3 as text: write 1000.0)" if _numeric(value) else ""
            self._wrong(key, f"must be a number of hours, not {_kind(value)} {value!r:.40}{hint}")
            return None
        if not math.isfinite(value) or value <= 0:
            self._wrong(key, f"must be a positive number of hours, not {value}")
            return None
        if value > MAX_HOURS:
            self._wrong(key, f"{value} is over the {MAX_HOURS:g}-hour limit for one leg")
            return None
        return float(value)

    def documents(self, key: str) -> frozenset[str] | None:
        if key not in self.raw:
            return None
        value = self.raw[key]
        if not isinstance(value, list):
            self._wrong(key, f"must be a list ([] for none), not {_kind(value)}")
            return None
        found: set[str] = set()
        for item in value:
            if not isinstance(item, str) or item not in DOCUMENTS:
                self._wrong(
                    key, f"unknown document {item!r:.40}; expected any of {', '.join(DOCUMENTS)}"
                )
                return None
            if item in found:
                self._wrong(key, f"{item} is listed twice")
                return None
            found.add(item)
        return frozenset(found)

    def day(self, key: str, today: date) -> date | None:
        if key not in self.raw:
            return None
        value = self.raw[key]
        if isinstance(value, str) and ISO_DATE.fullmatch(value) and _is_date(value):
            value = date.fromisoformat(value)
        if not isinstance(value, date) or hasattr(value, "hour"):
            self._wrong(key, f"must be a date written YYYY-MM-DD, not {value!r:.40}")
            return None
        if value > today:
            self._wrong(key, f"{value} is in the future (today is {today})")
            return None
        return value

    def _wrong(self, key: str, text: str) -> None:
        self.problem(f"{key}: {text}")


def _numeric(value: object) -> bool:
    try:
        return isinstance(value, str) and math.isfinite(float(value))
    except ValueError:
        return False


def _is_control(char: str) -> bool:
    return ord(char) < 32 or 127 <= ord(char) < 160


def _kind(value: object) -> str:
    names = {dict: "a mapping", list: "a list", str: "text", int: "a number", float: "a number"}
    return names.get(type(value), "null" if value is None else type(value).__name__)


def _rule(pattern: re.Pattern[str]) -> str:
    if pattern is COUNTRY:
        return "a two-letter country code in capitals, e.g. KZ"
    return "letters, digits and . _ : - only, at most 64, starting with a letter or digit"


# -- the document ------------------------------------------------------------------------


def _label(section: str, index: int, raw: object) -> str:
    ident = raw.get("id") if isinstance(raw, dict) else None
    return f"{section}[{index}] (id={ident})" if isinstance(ident, str) else f"{section}[{index}]"


def _items(doc: Mapping[str, Any], key: str, problems: list[str]) -> list[tuple[str, Any]]:
    value = doc.get(key)
    if not isinstance(value, list):
        if key in doc:
            problems.append(f"{key} must be a list, not {_kind(value)}")
        return []
    out = []
    for index, raw in enumerate(value):
        where = _label(key, index, raw)
        if isinstance(raw, dict):
            out.append((where, raw))
        else:
            problems.append(f"{where}: must be a mapping, not {_kind(raw)}")
    return out


def _place(where: str, raw: Mapping[str, Any], problems: list[str]) -> Place | None:
    check = _Checker(where, raw, problems)
    check.keys(PLACE_KEYS, PLACE_KEYS[:4])
    values = (
        check.text("id", pattern=ID),
        check.text("name"),
        check.text("country", pattern=COUNTRY),
        check.choice("kind", PLACE_KINDS),
        check.flag("safe"),
    )
    ident, name, country, kind, safe = values
    if ident is None or name is None or country is None or kind is None or safe is None:
        return None
    return Place(id=ident, name=name, country=country, kind=kind, safe=safe)


def _leg(where: str, raw: Mapping[str, Any], today: date, problems: list[str]) -> Leg | None:
    check = _Checker(where, raw, problems)
    check.keys(LEG_KEYS, LEG_KEYS[:-1])
    ident = check.text("id", pattern=ID)
    origin = check.text("origin", pattern=ID)
    destination = check.text("destination", pattern=ID)
    mode = check.choice("mode", MODES)
    hours = check.hours("hours")
    documents = check.documents("documents")
    risk = check.choice("risk", tuple(RISK_PROBABILITY))
    assessed_on = check.day("assessed_on", today)
    assessed_by = check.text("assessed_by", max_length=100)
    note = check.text("note", max_length=2000, default="", free_text=True)
    if origin is not None and origin == destination:
        check.problem(f"origin and destination are both {origin}")
        return None
    if (
        ident is None
        or origin is None
        or destination is None
        or mode is None
        or hours is None
        or documents is None
        or risk is None
        or assessed_on is None
        or assessed_by is None
        or note is None
    ):
        return None
    return Leg(
        id=ident,
        origin=origin,
        destination=destination,
        mode=mode,
        hours=hours,
        documents=documents,
        risk=risk,
        assessed_on=assessed_on,
        assessed_by=assessed_by,
        note=note,
    )


def _unique(
    items: Sequence[tuple[str, Mapping[str, Any]]], kind: str, problems: list[str]
) -> set[str]:
    """The ids used (even by otherwise broken items, so one problem does not hide others)."""
    first: dict[str, str] = {}
    for where, raw in items:
        ident = raw.get("id")
        if not isinstance(ident, str):
            continue
        if ident in first:
            problems.append(f"{where}: duplicate {kind} id {ident}, first used at {first[ident]}")
        else:
            first[ident] = where
    return set(first)


def _hostile(doc: Mapping[str, Any], problems: list[str]) -> frozenset[str]:
    value = doc.get("hostile_countries")
    if not isinstance(value, list):
        if "hostile_countries" in doc:
            problems.append(f"hostile_countries must be a list ([] if none), not {_kind(value)}")
        return frozenset()
    for index, item in enumerate(value):
        if not isinstance(item, str) or not COUNTRY.fullmatch(item):
            hint = BOOL_HINT if isinstance(item, bool) else ""
            problems.append(
                f"hostile_countries[{index}]: {item!r:.40} is not a two-letter country code{hint}"
            )
    codes = [item for item in value if isinstance(item, str)]
    if len(set(codes)) != len(codes):
        problems.append("hostile_countries: a country is listed twice")
    return frozenset(codes)


def _top(doc: object, problems: list[str]) -> Mapping[str, Any]:
    if not isinstance(doc, dict):
        problems.append("the document must be a mapping with " + ", ".join(TOP_KEYS))
        return {}
    for key in doc:
        if key not in TOP_KEYS:
            problems.append(f"unknown top-level field {key!r}; expected {', '.join(TOP_KEYS)}")
    for key in TOP_KEYS:
        if key not in doc:
            problems.append(f"missing {key}")
    version = doc.get("version")
    if "version" in doc and (type(version) is not int or version != SPEC_VERSION):
        problems.append(f"version must be {SPEC_VERSION}, not {version!r:.40}")
    return doc


def build_knowledge(doc: object, *, today: date) -> Knowledge:
    """Validate a parsed document (e.g. JSON from a form) and build the knowledge."""
    problems: list[str] = []
    top = _top(doc, problems)
    hostile = _hostile(top, problems)
    raw_places = _items(top, "places", problems)
    raw_legs = _items(top, "legs", problems)
    places = [(w, p) for w, raw in raw_places if (p := _place(w, raw, problems))]
    legs = [(w, g) for w, raw in raw_legs if (g := _leg(w, raw, today, problems))]
    known = _unique(raw_places, "place", problems)
    _unique(raw_legs, "leg", problems)
    for where, place in places:
        if place.safe and place.country in hostile:
            problems.append(f"{where}: marked safe, but {place.country} is a hostile country")
    for where, raw in raw_legs:
        for end in ("origin", "destination"):
            value = raw.get(end)
            if isinstance(value, str) and ID.fullmatch(value) and value not in known:
                problems.append(f"{where}: {end} {value} is not a place id")
    if problems:
        raise KnowledgeError(f"the route knowledge has {len(problems)} problem(s)", problems)
    return Knowledge(
        places=tuple(p for _, p in places),
        legs=tuple(g for _, g in legs),
        hostile_countries=hostile,
    )


def load_knowledge(source: str | bytes, *, today: date) -> Knowledge:
    """Parse, validate and build; raise KnowledgeError listing every problem."""
    return build_knowledge(_parse(source), today=today)


def load_sample(*, today: date) -> Knowledge:
    return load_knowledge(SAMPLE_PATH.read_bytes(), today=today)


# -- export ------------------------------------------------------------------------------

HEADER: Final = "# Tropa route knowledge (schema: tropa.routes.knowledge, version 1).\n"


def knowledge_document(knowledge: Knowledge) -> dict[str, Any]:
    """The plain, JSON-friendly document (dates as date objects) that `dump_knowledge` writes."""
    return {
        "version": SPEC_VERSION,
        "hostile_countries": sorted(knowledge.hostile_countries),
        "places": [
            {"id": p.id, "name": p.name, "country": p.country, "kind": p.kind, "safe": p.safe}
            for p in knowledge.places
        ],
        "legs": [_leg_document(leg) for leg in knowledge.legs],
    }


def _leg_document(leg: Leg) -> dict[str, Any]:
    return {
        "id": leg.id,
        "origin": leg.origin,
        "destination": leg.destination,
        "mode": leg.mode,
        "hours": leg.hours,
        "documents": [doc for doc in DOCUMENTS if doc in leg.documents],
        "risk": leg.risk,
        "assessed_on": leg.assessed_on,
        "assessed_by": leg.assessed_by,
        "note": leg.note,
    }


def dump_knowledge(knowledge: Knowledge) -> str:
    body: str = yaml.safe_dump(
        knowledge_document(knowledge), sort_keys=False, allow_unicode=True, width=100
    )
    return HEADER + body
