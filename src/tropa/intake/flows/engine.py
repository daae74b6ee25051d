"""The intake conversation as a pure function: (state, inbound) -> (state, outbound, events).

No I/O, no Django, no randomness and no wall clock: time comes from a `Clock`,
codenames from an `IdSource`, so a conversation replays identically in golden
tests and the caller decides where the state lives (it is a small JSON dict).

The engine never raises on what a person sends. Anything it cannot use becomes
an "invalid" event and a translated re-prompt; text is cleaned (control and
bidi-override characters removed, NFC) before it is saved, because it will be
shown to caseworkers later and must not be able to disguise itself there.
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from tropa.intake.flows.inspector import inspect_flow
from tropa.intake.flows.loader import default_flow
from tropa.intake.flows.model import (
    NO,
    PLACEHOLDER,
    YES,
    Answer,
    Exit,
    Flow,
    FlowError,
    Message,
    Question,
    Router,
)

INBOUND_KINDS = frozenset({"start", "text", "choice", "file"})
STATE_SPEC_VERSION = 2
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_FILE_REF = 512
# Typed answers to a choice are button labels or numbers; anything longer is not one.
MAX_TYPED_CHOICE = 200
DEFAULT_ERRORS = {
    "choice": "error.choice",
    "yes_no": "error.yes_no",
    "text": "error.text",
    "number": "error.number",
    "file": "error.file",
}

# C0 controls except newline (tab and CR are turned into space/newline first), DEL,
# C1 controls, bidi embeddings/overrides/isolates, and lone surrogates (which
# cannot be encoded as UTF-8 and would break storage later).
_UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def sanitise_text(text: str) -> str:
    """Text as it may be saved and shown to a caseworker."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _UNSAFE.sub("", text.replace("\t", " "))
    return unicodedata.normalize("NFC", text).strip()


def _fold(text: str) -> str:
    """Loose form for matching typed answers: case, spacing and final dots don't matter."""
    return " ".join(text.casefold().split()).rstrip(" .!…")


def _is_start_command(text: str) -> bool:
    # Telegram sends "/start", "/start <payload>" (deep links) or "/start@BotName" in groups.
    lowered = text.casefold()
    return lowered == "/start" or lowered.startswith(("/start ", "/start@"))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------
# Messages in and out


@dataclass(frozen=True, slots=True)
class Inbound:
    kind: str  # "start" | "text" | "choice" | "file"
    text: str = ""  # text typed, or the caption
    choice: str | None = None  # callback data of a pressed button (Button.value)
    file_ref: str | None = None  # opaque reference to an uploaded file


@dataclass(frozen=True, slots=True)
class Button:
    value: str  # callback data, "<node id>:<answer value>", so stale presses are recognised
    label: str


@dataclass(frozen=True, slots=True)
class Outbound:
    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Conversation state


class StateError(ValueError):
    """A stored state that cannot be read as it is (migrate_state recovers from it)."""


_T = TypeVar("_T")


def _field(data: Mapping[str, Any], key: str, kind: type[_T]) -> _T:
    value = data.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise StateError(f"state.{key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _moment(data: Mapping[str, Any], key: str) -> datetime:
    try:
        return _aware(datetime.fromisoformat(_field(data, key, str)))
    except ValueError as exc:
        raise StateError(f"state.{key}: not an ISO date-time") from exc


def _is_answer(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str | int) and not isinstance(value, bool)


def _answers(data: Mapping[str, Any]) -> dict[str, Answer]:
    raw = _field(data, "answers", dict)
    if not all(isinstance(k, str) and _is_answer(v) for k, v in raw.items()):
        raise StateError("state.answers: keys must be text, values text or numbers")
    return dict(raw)


def _state_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 named the language `lang` and had no `relayed` counter (the engine acknowledges
    only the first message relayed after completion, so it must count them)."""
    out = dict(data)
    if "lang" in out:
        out["language"] = out.pop("lang")
    out.setdefault("relayed", 0)
    out["spec_version"] = 2
    return out


# State spec_version N -> the same state at version N + 1.
STATE_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _state_v1_to_v2}


def _upgrade_state(data: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(data)
    version = out.get("spec_version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise StateError("state.spec_version: expected an integer")
    if version > STATE_SPEC_VERSION:
        raise StateError(f"state.spec_version {version} is newer than this engine")
    while version < STATE_SPEC_VERSION:
        migration = STATE_MIGRATIONS.get(version)
        if migration is None:
            raise StateError(f"state.spec_version {version}: no migration")
        out = migration(out)
        version += 1
    return out


@dataclass
class State:
    """Where one conversation stands. Store `to_dict()` (JSON); read with `migrate_state`."""

    flow_id: str
    flow_version: int
    node: str
    language: str
    answers: dict[str, Answer] = field(default_factory=dict)
    started_at: datetime = EPOCH
    updated_at: datetime = EPOCH
    completed: bool = False
    message_count: int = 0  # inbound messages handled
    relayed: int = 0  # messages relayed after completion
    spec_version: int = STATE_SPEC_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec_version": self.spec_version,
            "flow_id": self.flow_id,
            "flow_version": self.flow_version,
            "node": self.node,
            "language": self.language,
            "answers": dict(self.answers),
            "started_at": self.started_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "completed": self.completed,
            "message_count": self.message_count,
            "relayed": self.relayed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> State:
        """Strict reading (older spec_versions upgraded); StateError if malformed."""
        if not isinstance(data, Mapping):
            raise StateError("state must be a mapping")
        current = _upgrade_state(data)
        return cls(
            flow_id=_field(current, "flow_id", str),
            flow_version=_field(current, "flow_version", int),
            node=_field(current, "node", str),
            language=_field(current, "language", str),
            answers=_answers(current),
            started_at=_moment(current, "started_at"),
            updated_at=_moment(current, "updated_at"),
            completed=_field(current, "completed", bool),
            message_count=_field(current, "message_count", int),
            relayed=_field(current, "relayed", int),
        )


def fit_state(state: State, flow: Flow) -> State:
    """The state as `flow` (maybe a newer version) can run it: a node that no longer
    exists sends the person back to the start; answers whose keys the flow no longer
    asks are dropped, the rest kept."""
    keys = flow.answer_keys()
    same_flow = state.flow_id == flow.id
    return replace(
        state,
        flow_id=flow.id,
        flow_version=flow.version,
        node=state.node if same_flow and state.node in flow.node_map else flow.start,
        language=state.language if state.language in flow.languages else flow.languages[0],
        answers={k: v for k, v in state.answers.items() if k in keys},
        spec_version=STATE_SPEC_VERSION,
    )


def _salvage(data: object, flow: Flow) -> State:
    """What can be kept from a state that does not parse. Its timestamps are lost, so an
    unfinished conversation counts as expired and restarts politely."""
    raw: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    answers = raw.get("answers")
    kept = {
        k: v
        for k, v in (answers.items() if isinstance(answers, dict) else ())
        if isinstance(k, str) and _is_answer(v)
    }
    language = raw.get("language")
    return State(
        flow_id=flow.id,
        flow_version=flow.version,
        node=flow.start,
        language=language if isinstance(language, str) else flow.languages[0],
        answers=kept,
        completed=raw.get("completed") is True,
    )


def migrate_state(data: Mapping[str, Any], flow: Flow) -> State:
    """A stored state dict, upgraded and fitted to `flow`. Never raises."""
    try:
        state = State.from_dict(data)
    except StateError:
        state = _salvage(data, flow)
    return fit_state(state, flow)


@dataclass(frozen=True, slots=True)
class Step:
    state: State
    outbound: tuple[Outbound, ...]
    events: tuple[Event, ...]
    path: tuple[str, ...] = ()  # node ids passed through in this step, in order


# ---------------------------------------------------------------------------
# Time and codenames come from outside


class Clock(Protocol):
    def now(self) -> datetime: ...


class IdSource(Protocol):
    def codename(self) -> str: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock for tests and simulators: time moves only when told to."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    def advance(self, *, minutes: float = 0, seconds: float = 0) -> None:
        self.current += timedelta(minutes=minutes, seconds=seconds)


@dataclass(frozen=True)
class FixedIds:
    name: str = "Birch-42"

    def codename(self) -> str:
        return self.name


# ---------------------------------------------------------------------------
# The engine


@dataclass(frozen=True, slots=True)
class _Invalid:
    reason: str
    item: str
    values: Mapping[str, str] = field(default_factory=dict)


class Engine:
    def __init__(
        self, flow: Flow, *, clock: Clock, ids: IdSource, max_text_length: int = 4000
    ) -> None:
        # The engine trusts the flow's references; a flow with errors must not run.
        errors = [str(p) for p in inspect_flow(flow) if p.severity == "error"]
        if errors:
            raise FlowError(f"flow {flow.id} v{flow.version} cannot run", errors)
        self.flow = flow
        self._clock = clock
        self._ids = ids
        self._max_text = max_text_length
        self._timeout = timedelta(minutes=flow.timeout_minutes)
        self._nodes = flow.node_map
        self._hops = len(flow.nodes) + 1
        self._secret_keys = frozenset(q.save_as for q in flow.questions() if q.secret)
        self._values = {q.id: frozenset(q.values()) for q in flow.questions()}
        self._typed = {q.id: self._typed_answers(q) for q in flow.questions()}
        self._prompts = {
            (q.id, lang): self._prompt(q, lang) for q in flow.questions() for lang in flow.languages
        }
        panic = flow.panic_word
        self._panic = frozenset(
            _fold(flow.text(panic, lang)) for lang in flow.languages if panic is not None
        )
        self._ack = any("relay.ack" in flow.translations.get(lang, {}) for lang in flow.languages)

    # -- public API ---------------------------------------------------------

    def start(self, *, language: str | None = None) -> Step:
        now = _aware(self._clock.now())
        lang = language if language in self.flow.languages else self.flow.languages[0]
        state = State(self.flow.id, self.flow.version, self.flow.start, lang, {}, now, now)
        return self._advance(state, self.flow.start, [], [], [])

    def step(self, state: State, inbound: Inbound) -> Step:
        now = _aware(self._clock.now())
        kind = inbound.kind if inbound.kind in INBOUND_KINDS else "unknown"
        text = sanitise_text(inbound.text) if isinstance(inbound.text, str) else ""
        fitted, moved = self._fit(state)
        if kind == "text" and self._panic and _fold(text) in self._panic:
            return self._panic_step(fitted, now)
        if fitted.completed:
            return self._after_completion(self._touch(fitted, now), kind, text, inbound)
        if now - _aware(fitted.updated_at) > self._timeout:
            return self._restart(fitted, now, "expired")
        if kind == "start" or (kind == "text" and _is_start_command(text)):
            return self._restart(fitted, now, "restarted")
        if moved:
            return self._restart(fitted, now, "restarted", keep_answers=True)
        node = self._nodes[fitted.node]
        if isinstance(node, Question):
            return self._answer(self._touch(fitted, now), node, kind, text, inbound)
        if isinstance(node, Exit):
            # Only a declined conversation rests on an exit: any message starts again.
            return self._restart(fitted, now, "restarted")
        # A message or router is a resting place only after a flow change: carry on from it.
        return self._advance(self._touch(fitted, now), node.id, [], [], [])

    # -- state housekeeping -------------------------------------------------

    def _fit(self, state: State) -> tuple[State, bool]:
        flow = self.flow
        if (
            state.flow_id == flow.id
            and state.flow_version == flow.version
            and state.node in self._nodes
            and state.language in flow.languages
        ):
            return state, False
        fitted = fit_state(state, flow)
        return fitted, fitted.node != state.node

    def _touch(self, state: State, now: datetime) -> State:
        return replace(state, updated_at=now, message_count=state.message_count + 1)

    def _fresh(self, state: State, now: datetime, answers: dict[str, Answer]) -> State:
        return State(
            flow_id=self.flow.id,
            flow_version=self.flow.version,
            node=self.flow.start,
            language=state.language,
            answers=answers,
            started_at=now,
            updated_at=now,
            message_count=state.message_count + 1,
        )

    def _restart(
        self, state: State, now: datetime, kind: str, *, keep_answers: bool = False
    ) -> Step:
        fresh = self._fresh(state, now, dict(state.answers) if keep_answers else {})
        outbound = (
            [Outbound(self._say("system.expired", fresh.language))] if kind == "expired" else []
        )
        data = {"reason": "flow_changed"} if keep_answers else {}
        return self._advance(fresh, self.flow.start, outbound, [Event(kind, data)], [])

    def _panic_step(self, state: State, now: datetime) -> Step:
        # The caller wipes the chat; the engine forgets unfinished answers and says
        # nothing, so no fresh message appears on a phone someone is looking at.
        new = self._touch(state, now) if state.completed else self._fresh(state, now, {})
        return Step(new, (), (Event("panic", {}),), ())

    # -- texts --------------------------------------------------------------

    def _say(self, item: str, language: str, values: Mapping[str, str] | None = None) -> str:
        text = self.flow.text(item, language)
        if "{" not in text:
            return text
        known = dict(values or {})
        if self.flow.panic_word is not None:
            known.setdefault("panic_word", self.flow.text(self.flow.panic_word, language))
        # Only known placeholders are replaced: a stray brace in a translation stays as is.
        return PLACEHOLDER.sub(lambda m: known.get(m.group(1), m.group(0)), text)

    def _buttons(self, question: Question, language: str) -> tuple[Button, ...]:
        pairs = [(c.value, c.label) for c in question.choices] if question.kind == "choice" else []
        if question.kind == "yes_no":
            pairs = [(YES, "yes_no.yes"), (NO, "yes_no.no")]
        if question.skip is not None:
            pairs.append((question.skip.value, question.skip.label))
        return tuple(Button(f"{question.id}:{v}", self._say(label, language)) for v, label in pairs)

    def _prompt(self, question: Question, language: str) -> Outbound:
        return Outbound(self._say(question.text, language), self._buttons(question, language))

    def _typed_answers(self, question: Question) -> dict[str, str]:
        """Typed text -> answer value: 1-based numbers, then labels in every language
        (a person may type the label from a keyboard in a language he did not pick)."""
        labelled = (
            [(c.value, c.label) for c in question.choices] if question.kind == "choice" else []
        )
        if question.kind == "yes_no":
            labelled = [(YES, "yes_no.yes"), (NO, "yes_no.no")]
        table = {str(n): value for n, (value, _) in enumerate(labelled, start=1)}
        if question.skip is not None:
            labelled.append((question.skip.value, question.skip.label))
        words = [(YES, "yes_no.yes_words"), (NO, "yes_no.no_words")]
        for value, item in labelled + (words if question.kind == "yes_no" else []):
            for lang in self.flow.languages:
                text = self.flow.translations.get(lang, {}).get(item, "")
                # Word lists are comma-separated; a label is one answer even with commas.
                for word in text.split(",") if item.endswith("_words") else [text]:
                    if _fold(word):
                        table.setdefault(_fold(word), value)
        return table

    # -- answering a question -----------------------------------------------

    def _answer(self, state: State, node: Question, kind: str, text: str, inbound: Inbound) -> Step:
        outcome = self._interpret(node, kind, text, inbound)
        if isinstance(outcome, _Invalid):
            return self._reprompt(state, node, outcome)
        answers = dict(state.answers)
        answers[node.save_as] = outcome
        language = state.language
        if node.sets_language and outcome in self.flow.languages:
            language = str(outcome)
        # A secret (the duress PIN) leaves the engine only in the completed event's "secrets".
        shown = "" if node.secret else outcome
        event = Event("answer", {"key": node.save_as, "value": shown, "secret": node.secret})
        moved = replace(state, answers=answers, language=language)
        return self._advance(moved, self._next(node.next), [], [event], [node.id])

    def _interpret(
        self, node: Question, kind: str, text: str, inbound: Inbound
    ) -> Answer | _Invalid:
        if kind == "choice":
            return self._pressed(node, inbound.choice)
        if node.kind in ("choice", "yes_no"):
            return self._typed_choice(node, kind, text)
        if node.kind == "file":
            return self._file(node, kind, inbound.file_ref)
        if kind != "text":
            return _Invalid("wrong_kind", DEFAULT_ERRORS[node.kind])
        if node.skip is not None and len(text) <= MAX_TYPED_CHOICE:
            skipped = self._typed[node.id].get(_fold(text))
            if skipped is not None:
                return skipped
        if node.kind == "number":
            return self._number(node, text)
        return self._text(node, text)

    def _pressed(self, node: Question, choice: object) -> Answer | _Invalid:
        raw = choice if isinstance(choice, str) else ""
        owner, separator, value = raw.rpartition(":")
        if separator and owner != node.id:
            return _Invalid("stale", "error.stale")
        if value in self._values[node.id]:
            return value
        if separator:  # this question's own button, from an older version of the flow
            return _Invalid("stale", "error.stale")
        return _Invalid("unknown_choice", node.error or DEFAULT_ERRORS[node.kind])

    def _typed_choice(self, node: Question, kind: str, text: str) -> Answer | _Invalid:
        error = node.error or DEFAULT_ERRORS[node.kind]
        if kind != "text":
            return _Invalid("wrong_kind", error)
        found = self._typed[node.id].get(_fold(text)) if len(text) <= MAX_TYPED_CHOICE else None
        return found if found is not None else _Invalid("unknown_choice", error)

    def _text(self, node: Question, text: str) -> Answer | _Invalid:
        if not text:
            return _Invalid("empty", "error.text")
        limit = min(node.max_length or self._max_text, self._max_text)
        if len(text) > limit:
            return _Invalid("too_long", "error.too_long", {"max": str(limit)})
        if node.regex is not None and node.regex.fullmatch(text) is None:
            return _Invalid("pattern", node.error or "error.text")
        return text

    def _number(self, node: Question, text: str) -> Answer | _Invalid:
        error = _Invalid("not_a_number", node.error or "error.number")
        candidate = text.replace(" ", "").replace(",", ".")
        if not candidate or len(candidate) > 32:
            return error
        try:
            value = float(candidate)
        except ValueError:
            return error
        if not math.isfinite(value):
            return error
        too_small = node.minimum is not None and value < node.minimum
        if too_small or (node.maximum is not None and value > node.maximum):
            return _Invalid("out_of_range", node.error or "error.number")
        return int(value) if value.is_integer() and abs(value) < 2**53 else value

    def _file(self, node: Question, kind: str, file_ref: object) -> Answer | _Invalid:
        ref = sanitise_text(file_ref) if isinstance(file_ref, str) else ""
        if kind == "file" and 0 < len(ref) <= MAX_FILE_REF:
            return ref
        return _Invalid("wrong_kind", node.error or "error.file")

    def _reprompt(self, state: State, node: Question, invalid: _Invalid) -> Step:
        prompt = self._prompts[node.id, state.language]
        error = self._say(invalid.item, state.language, invalid.values)
        outbound = Outbound(f"{error}\n\n{prompt.text}", prompt.buttons)
        event = Event("invalid", {"node": node.id, "reason": invalid.reason})
        return Step(state, (outbound,), (event,), ())

    # -- moving through the flow --------------------------------------------

    def _next(self, node_id: str | None) -> str:
        # Validated flows have no dead ends (the inspector's dead_end error).
        return self.flow.start if node_id is None else node_id

    def _advance(
        self,
        state: State,
        node_id: str,
        outbound: list[Outbound],
        events: list[Event],
        path: list[str],
    ) -> Step:
        """Run messages and routers from `node_id` until a question waits or an exit ends."""
        for _ in range(self._hops):
            node = self._nodes[node_id]
            path.append(node_id)
            if isinstance(node, Question):
                outbound.append(self._prompts[node_id, state.language])
                return Step(
                    replace(state, node=node_id), tuple(outbound), tuple(events), tuple(path)
                )
            if isinstance(node, Exit):
                return self._finish(state, node, outbound, events, path)
            if isinstance(node, Message):
                outbound.append(Outbound(self._say(node.text, state.language)))
                node_id = self._next(node.next)
            elif isinstance(node, Router):
                node_id = self._next(node.route(state.answers))
        raise AssertionError("unreachable: the inspector rejects loops without a question")

    def _finish(
        self,
        state: State,
        node: Exit,
        outbound: list[Outbound],
        events: list[Event],
        path: list[str],
    ) -> Step:
        # Answers leave the state here: from now on they live only in the event the
        # caller seals into the case, not in the conversation row.
        if node.complete:
            codename = self._ids.codename()
            text = self._say(node.text, state.language, {"codename": codename})
            events.append(Event("completed", self._completion(state, codename)))
        else:
            text = self._say(node.text, state.language)
            events.append(Event("declined", {}))
        outbound.append(Outbound(text))
        final = replace(state, node=node.id, answers={}, completed=node.complete)
        return Step(final, tuple(outbound), tuple(events), tuple(path))

    def _completion(self, state: State, codename: str) -> dict[str, Any]:
        answers = state.answers
        return {
            "answers": {k: v for k, v in answers.items() if k not in self._secret_keys},
            "secrets": {k: v for k, v in answers.items() if k in self._secret_keys},
            "urgency": self.flow.urgency.score(answers),
            "codename": codename,
            "language": state.language,
            "category": answers.get(self.flow.category_key),
            "flow_id": self.flow.id,
            "flow_version": self.flow.version,
        }

    # -- after completion: the chat becomes a relay to the caseworker --------

    def _after_completion(self, state: State, kind: str, text: str, inbound: Inbound) -> Step:
        lang = state.language
        is_start = kind == "start" or (kind == "text" and _is_start_command(text))
        ref = sanitise_text(inbound.file_ref) if isinstance(inbound.file_ref, str) else ""
        ref = ref if kind == "file" and len(ref) <= MAX_FILE_REF else ""
        if kind in ("text", "file") and not is_start and (text or ref):
            if len(text) > self._max_text:
                error = self._say("error.too_long", lang, {"max": str(self._max_text)})
                event = Event("invalid", {"node": state.node, "reason": "too_long"})
                return Step(state, (Outbound(error),), (event,), ())
            data: dict[str, Any] = {"text": text}
            if ref:
                data["file_ref"] = ref
            # Acknowledge once: later messages are a chat with a person, not with the bot.
            ack = (
                (Outbound(self._say("relay.ack", lang)),) if self._ack and not state.relayed else ()
            )
            relayed = replace(state, relayed=state.relayed + 1)
            return Step(relayed, ack, (Event("relay", data),), ())
        # /start again, a stale button, an empty message: the case exists, say where to write.
        reason = "start" if is_start else kind
        hint = Outbound(self._say("relay.hint", lang))
        return Step(state, (hint,), (Event("ignored", {"reason": reason}),), ())


def describe_answers(flow: Flow, answers: Mapping[str, Answer], *, language: str) -> list[str]:
    """`key: label` lines in flow order for a case file (secrets left out)."""
    lines: list[str] = []
    seen: set[str] = set()
    for question in flow.questions():
        key = question.save_as
        if key in seen or key not in answers or question.secret:
            continue
        seen.add(key)
        value = answers[key]
        labels = {c.value: c.label for c in question.choices}
        if question.kind == "yes_no":
            labels = {YES: "yes_no.yes", NO: "yes_no.no"}
        if question.skip is not None:
            labels[question.skip.value] = question.skip.label
        label = labels.get(str(value))
        lines.append(f"{key}: {flow.text(label, language) if label else value}")
    return lines


# ---------------------------------------------------------------------------
# Micro-benchmark for `tropa bench` (a figure to report, not a test)

_BENCH_SCRIPT = (
    Inbound("choice", choice="language:en"),
    Inbound("choice", choice="who:self"),
    Inbound("text", text="Mobilised"),
    Inbound("choice", choice="urgency:days"),
    Inbound("text", text="yes"),
    Inbound("choice", choice="docs_foreign:yes"),
    Inbound("text", text="13/2031"),  # invalid on purpose: the re-prompt path
    Inbound("text", text="07/2031"),
    Inbound("choice", choice="docs_military_id:no"),
    Inbound("text", text="2"),
    Inbound("choice", choice="help:evacuation"),
    Inbound("text", text="They are sending me to the front next week.\u202e Please help."),
    Inbound("choice", choice="duress_offer:yes"),
    Inbound("text", text="4821"),
    Inbound("choice", choice="consent:yes"),
    Inbound("text", text="Are you there?"),
)


def engine_steps_per_second(n: int = 20_000) -> float:
    """Engine steps per second on one core, driving the default flow with a scripted
    English conversation (about 16 steps each, restarting as needed)."""
    clock = FixedClock(datetime(2024, 1, 1, tzinfo=UTC))
    engine = Engine(default_flow(), clock=clock, ids=FixedIds())
    done = 0
    # perf_counter measures the benchmark itself; the engine never reads time directly.
    began = time.perf_counter()
    while done < n:
        state = engine.start(language="en").state
        for inbound in _BENCH_SCRIPT[: n - done]:
            state = engine.step(state, inbound).state
        done += min(len(_BENCH_SCRIPT), n - done)
    elapsed = time.perf_counter() - began
    return done / elapsed if elapsed > 0 else math.inf
