"""The conversation engine: answers, re-prompts, restarts, completion, relay, state."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.intake import tiny_doc
from tropa.intake.flows import (
    Engine,
    Event,
    FixedClock,
    FixedIds,
    FlowError,
    Inbound,
    State,
    StateError,
    Step,
    default_flow,
    describe_answers,
    engine_steps_per_second,
    load_flow,
    migrate_state,
    sanitise_text,
)

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def make_engine(flow_doc: dict[str, Any] | None = None, **kwargs: Any) -> tuple[Engine, FixedClock]:
    clock = FixedClock(T0)
    flow = default_flow() if flow_doc is None else load_flow(flow_doc)
    return Engine(flow, clock=clock, ids=FixedIds("Birch-42"), **kwargs), clock


def text(value: str) -> Inbound:
    return Inbound("text", text=value)


def press(node: str, value: str) -> Inbound:
    return Inbound("choice", choice=f"{node}:{value}")


def kinds(step: Step) -> list[str]:
    return [event.kind for event in step.events]


def drive(engine: Engine, inbounds: Iterable[Inbound], *, language: str = "en") -> Step:
    step = engine.start(language=language)
    for inbound in inbounds:
        step = engine.step(step.state, inbound)
    return step


TO_DESCRIPTION = [
    press("language", "en"),
    press("who", "self"),
    press("category", "mobilised"),
    press("urgency", "days"),
    press("docs_internal", "yes"),
    press("docs_foreign", "no"),
    press("docs_military_id", "yes"),
    press("region", "war_zone"),
    press("help", "evacuation"),
]
TO_CONSENT = [*TO_DESCRIPTION, text("Sent to the front next week."), press("duress_offer", "no")]
COMPLETE = [*TO_CONSENT, press("consent", "yes")]


# -- sanitising ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  hello  ", "hello"),
        ("a\x00b\x1bc\x7fd\x85e", "abcde"),
        ("line one\r\nline two\rthree", "line one\nline two\nthree"),
        ("tab\there", "tab here"),
        ("evil\u202egnp.exe", "evilgnp.exe"),
        ("\u2066isolated\u2069", "isolated"),
        ("e\u0301", "\u00e9"),  # NFC
        ("lone \ud800 surrogate", "lone  surrogate"),
    ],
)
def test_sanitise_text(raw: str, clean: str) -> None:
    assert sanitise_text(raw) == clean


# -- starting and language -----------------------------------------------------------


def test_start_asks_for_the_language_in_the_default_language() -> None:
    engine, _ = make_engine()
    step = engine.start()
    assert step.state.language == "ru" and step.state.node == "language"
    assert [b.value for b in step.outbound[0].buttons] == ["language:ru", "language:en"]


def test_an_unknown_start_language_falls_back_to_the_first() -> None:
    engine, _ = make_engine()
    assert engine.start(language="xx").state.language == "ru"


def test_the_language_answer_switches_every_later_message() -> None:
    engine, _ = make_engine()
    step = engine.step(engine.start(language="ru").state, press("language", "en"))
    assert step.state.language == "en"
    assert step.outbound[0].text.startswith("We help people")
    assert step.outbound[1].text == "Who are you writing for?"
    assert step.path == ("language", "welcome", "who")


def test_placeholders_in_messages_are_filled() -> None:
    engine, _ = make_engine()
    step = engine.step(engine.start().state, press("language", "ru"))
    assert "«стереть»" in step.outbound[0].text


# -- answering choices ------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["For a relative or friend", "for a RELATIVE or friend.", "2"])
def test_choices_accept_the_typed_label_or_number(typed: str) -> None:
    engine, _ = make_engine()
    step = drive(engine, [press("language", "en"), text(typed)])
    assert step.events == (Event("answer", {"key": "who", "value": "relative", "secret": False}),)


def test_choices_accept_a_label_typed_in_the_other_language() -> None:
    engine, _ = make_engine()
    step = drive(engine, [press("language", "en"), text("Для себя")])
    assert step.state.answers["who"] == "self"


@pytest.mark.parametrize(
    ("typed", "value"), [("Да", "yes"), ("нет", "no"), ("Y", "yes"), ("1", "yes")]
)
def test_yes_no_accepts_words_in_both_languages(typed: str, value: str) -> None:
    engine, _ = make_engine()
    step = drive(engine, [*TO_DESCRIPTION[:4], text(typed)])
    assert step.state.answers["docs_internal"] == value


def test_an_unknown_choice_is_reprompted() -> None:
    engine, _ = make_engine()
    before = drive(engine, [press("language", "en")])
    step = engine.step(before.state, text("banana"))
    assert kinds(step) == ["invalid"] and step.events[0].data["reason"] == "unknown_choice"
    assert (
        step.outbound[0].text
        == "Please choose one of the options below.\n\nWho are you writing for?"
    )
    assert step.outbound[0].buttons == before.outbound[-1].buttons
    assert step.state == replace(before.state, message_count=2)


def test_a_stale_button_is_recognised_even_when_its_value_fits() -> None:
    engine, _ = make_engine()
    # docs_internal and docs_foreign both have yes/no buttons.
    step = drive(engine, [*TO_DESCRIPTION[:5], press("docs_internal", "yes")])
    assert step.events[0].data == {"node": "docs_foreign", "reason": "stale"}
    assert step.outbound[0].text.startswith("That button belongs to an earlier question.")
    assert "docs_foreign" not in step.state.answers


def test_a_bare_button_value_is_accepted() -> None:
    engine, _ = make_engine()
    step = drive(engine, [Inbound("choice", choice="en")])
    assert step.state.answers == {"language": "en"}


@pytest.mark.parametrize("inbound", [Inbound("file", file_ref="f1"), Inbound("sticker")])
def test_a_wrong_kind_of_message_is_reprompted(inbound: Inbound) -> None:
    engine, _ = make_engine()
    step = drive(engine, [press("language", "en"), inbound])
    assert step.events[0].data["reason"] == "wrong_kind"


# -- answering text ------------------------------------------------------------------


def test_text_is_sanitised_before_it_is_saved() -> None:
    engine, _ = make_engine()
    step = drive(engine, [*TO_DESCRIPTION, text("  Help\u202e me\x00\r\nplease ")])
    assert step.state.answers["description"] == "Help me\nplease"


def test_text_too_long_is_reprompted_with_the_limit() -> None:
    engine, _ = make_engine()
    step = drive(engine, [*TO_DESCRIPTION, text("x" * 4001)])
    assert step.events[0].data["reason"] == "too_long"
    assert step.outbound[0].text.startswith("That message is too long: please keep it under 4000")


def test_the_engine_limit_caps_the_flow_limit() -> None:
    engine, _ = make_engine(max_text_length=50)
    step = drive(engine, [*TO_DESCRIPTION, text("x" * 51)])
    assert "under 50 characters" in step.outbound[0].text


def test_empty_text_is_reprompted() -> None:
    engine, _ = make_engine()
    step = drive(engine, [*TO_DESCRIPTION, text("\u202e\x00  ")])
    assert step.events[0].data["reason"] == "empty"


def test_a_pattern_is_checked_with_the_nodes_own_error() -> None:
    engine, _ = make_engine()
    to_expiry = [*TO_DESCRIPTION[:5], press("docs_foreign", "yes")]
    bad = drive(engine, [*to_expiry, text("13/2031")])
    assert bad.outbound[0].text.startswith("Please write the month and year like this: 07/2031.")
    good = drive(engine, [*to_expiry, text("07/2031")])
    assert good.state.answers["docs_foreign_expiry"] == "07/2031"


@pytest.mark.parametrize("inbound", [press("docs_foreign_expiry", "unknown"), text("не знаю")])
def test_a_skip_button_saves_its_value(inbound: Inbound) -> None:
    engine, _ = make_engine()
    step = drive(engine, [*TO_DESCRIPTION[:5], press("docs_foreign", "yes"), inbound])
    assert step.state.answers["docs_foreign_expiry"] == "unknown"


def test_a_secret_answer_is_not_in_the_answer_event() -> None:
    engine, _ = make_engine()
    step = drive(engine, [*TO_CONSENT[:-1], press("duress_offer", "yes"), text("4821")])
    assert step.events == (Event("answer", {"key": "duress_pin", "value": "", "secret": True}),)


NUMBER_AND_FILE: dict[str, Any] = {
    "nodes": [
        {
            "id": "age",
            "type": "question",
            "kind": "number",
            "text": "age.prompt",
            "min": 16,
            "max": 70,
            "save_as": "age",
            "next": "photo",
        },
        {
            "id": "photo",
            "type": "question",
            "kind": "file",
            "text": "photo.prompt",
            "save_as": "photo",
            "next": "done",
        },
        {"id": "done", "type": "exit", "complete": True, "text": "done.text"},
    ],
    "start": "age",
    "category_key": "age",
}


def number_and_file_doc() -> dict[str, Any]:
    doc = tiny_doc() | NUMBER_AND_FILE
    en = doc["translations"]["en"]
    for item in ("ask.prompt", "ask.red", "ask.blue", "bye.text", "error.choice"):
        del en[item]
    en |= {"age.prompt": "Age?", "photo.prompt": "Photo?", "error.number": "A number, please."}
    en |= {"error.file": "A photo, please."}
    return doc


@pytest.mark.parametrize(
    ("typed", "saved"), [("18", 18), (" 42 ", 42), ("25,5", 25.5), ("1 6", 16)]
)
def test_numbers_are_parsed(typed: str, saved: float) -> None:
    engine, _ = make_engine(number_and_file_doc())
    assert drive(engine, [text(typed)]).state.answers == {"age": saved}


@pytest.mark.parametrize("typed", ["15", "71", "nan", "inf", "1e400", "twelve", "9" * 40])
def test_bad_numbers_are_reprompted(typed: str) -> None:
    engine, _ = make_engine(number_and_file_doc())
    step = drive(engine, [text(typed)])
    assert kinds(step) == ["invalid"]
    assert step.outbound[0].text.startswith("A number, please.")


def test_a_file_question_takes_the_file_reference() -> None:
    engine, _ = make_engine(number_and_file_doc())
    wrong = drive(engine, [text("30"), text("here it is")])
    assert wrong.outbound[0].text.startswith("A photo, please.")
    step = drive(engine, [text("30"), Inbound("file", text="caption", file_ref="tg:AgAD")])
    assert step.events[-1].data["answers"] == {"age": 30, "photo": "tg:AgAD"}


# -- completion -----------------------------------------------------------------------


def test_completion_reports_answers_urgency_and_codename() -> None:
    engine, _ = make_engine()
    step = drive(engine, [*TO_CONSENT[:-1], press("duress_offer", "yes"), text("4821")])
    step = engine.step(step.state, press("consent", "yes"))
    assert kinds(step) == ["answer", "completed"]
    data = step.events[-1].data
    assert data["codename"] == "Birch-42"
    assert data["urgency"] == 100  # 10 + 50 + 30 + 20 = 110, clamped
    assert data["category"] == "mobilised"
    assert data["language"] == "en"
    assert data["secrets"] == {"duress_pin": "4821"}
    assert "duress_pin" not in data["answers"]
    assert data["answers"]["description"] == "Sent to the front next week."
    assert step.outbound[-1].text.startswith("Thank you. Your request is registered under")
    assert "Birch-42" in step.outbound[-1].text
    assert step.outbound[-2].text.startswith("A few safety rules")


def test_answers_leave_the_state_on_completion() -> None:
    engine, _ = make_engine()
    state = drive(engine, COMPLETE).state
    assert state.completed and state.answers == {} and state.node == "done"


@pytest.mark.parametrize(
    ("category", "urgency", "region", "score"),
    [
        ("other", "not_urgent", "abroad", 10),
        ("summons", "weeks", "central", 45),
        ("awol", "weeks", "war_zone", 80),
    ],
)
def test_urgency_follows_the_flows_rules(
    category: str, urgency: str, region: str, score: int
) -> None:
    engine, _ = make_engine()
    script = list(COMPLETE)
    script[2], script[3] = press("category", category), press("urgency", urgency)
    script[7] = press("region", region)
    assert drive(engine, script).events[-1].data["urgency"] == score


def test_declining_keeps_nothing_and_a_new_message_starts_again() -> None:
    engine, _ = make_engine()
    step = drive(engine, [*TO_CONSENT, press("consent", "no")])
    assert kinds(step) == ["answer", "declined"]
    assert step.state.answers == {} and not step.state.completed
    assert step.outbound[-1].text.startswith("Understood. Your answers have not been kept.")
    again = engine.step(step.state, text("hello"))
    assert kinds(again) == ["restarted"] and again.state.node == "language"


# -- after completion: relay ----------------------------------------------------------


def test_messages_after_completion_are_relayed_and_acknowledged_once() -> None:
    engine, _ = make_engine()
    state = drive(engine, COMPLETE).state
    first = engine.step(state, text("Any news?\u202e"))
    assert first.events == (Event("relay", {"text": "Any news?"}),)
    assert [o.text for o in first.outbound] == [
        "Thank you, your message has been passed on. You will get an answer here."
    ]
    second = engine.step(first.state, Inbound("file", text="my passport", file_ref="tg:1"))
    assert second.events == (Event("relay", {"text": "my passport", "file_ref": "tg:1"}),)
    assert second.outbound == ()
    assert second.state.relayed == 2


@pytest.mark.parametrize(
    "inbound", [Inbound("start"), text("/start"), press("consent", "yes"), text("\x00")]
)
def test_after_completion_no_new_intake_starts(inbound: Inbound) -> None:
    engine, _ = make_engine()
    step = engine.step(drive(engine, COMPLETE).state, inbound)
    assert kinds(step) == ["ignored"]
    assert step.outbound[0].text.startswith("Your request is already with us.")
    assert step.state.completed


def test_a_huge_message_after_completion_is_refused() -> None:
    engine, _ = make_engine()
    step = engine.step(drive(engine, COMPLETE).state, text("x" * 100_000))
    assert kinds(step) == ["invalid"]


def test_completed_conversations_do_not_expire() -> None:
    engine, clock = make_engine()
    state = drive(engine, COMPLETE).state
    clock.advance(minutes=60 * 24 * 30)
    assert kinds(engine.step(state, text("still there?"))) == ["relay"]


# -- restarts, expiry, panic -------------------------------------------------------------


@pytest.mark.parametrize("inbound", [Inbound("start"), text("/start"), text("/START ref123")])
def test_start_restarts_politely(inbound: Inbound) -> None:
    engine, _ = make_engine()
    step = engine.step(drive(engine, TO_DESCRIPTION).state, inbound)
    assert kinds(step) == ["restarted"]
    assert step.state.answers == {} and step.state.node == "language"
    assert step.state.language == "en"
    assert step.outbound[0].text.startswith("Здравствуйте! Выберите язык.")


def test_a_late_message_restarts_with_an_explanation() -> None:
    engine, clock = make_engine()
    state = drive(engine, TO_DESCRIPTION).state
    clock.advance(minutes=1440)
    assert kinds(engine.step(state, text("still here"))) == ["answer"]
    clock.advance(minutes=1441)
    step = engine.step(state, text("still here"))
    assert kinds(step) == ["expired"]
    assert step.outbound[0].text.startswith("We have started over")
    assert step.outbound[1].text.startswith("Здравствуйте!")
    assert step.state.answers == {} and step.state.started_at == clock.now()


def test_the_panic_word_forgets_everything_and_says_nothing() -> None:
    engine, _ = make_engine()
    step = engine.step(drive(engine, TO_DESCRIPTION).state, text("  Стереть "))
    assert kinds(step) == ["panic"] and step.outbound == ()
    assert step.state.answers == {} and step.state.node == "language"


def test_the_panic_word_after_completion_keeps_the_case_link() -> None:
    engine, _ = make_engine()
    step = engine.step(drive(engine, COMPLETE).state, text("wipe"))
    assert kinds(step) == ["panic"] and step.state.completed


# -- state -----------------------------------------------------------------------------


def test_state_round_trips_through_json() -> None:
    engine, _ = make_engine()
    state = drive(engine, TO_CONSENT).state
    assert State.from_dict(json.loads(json.dumps(state.to_dict()))) == state


def test_the_engine_does_not_change_the_state_it_is_given() -> None:
    engine, _ = make_engine()
    state = drive(engine, TO_DESCRIPTION).state
    before = state.to_dict()
    engine.step(state, text("Help"))
    assert state.to_dict() == before


def test_the_same_inputs_give_the_same_conversation() -> None:
    first = drive(make_engine()[0], COMPLETE)
    second = drive(make_engine()[0], COMPLETE)
    assert first == second


def test_state_v1_is_upgraded() -> None:
    engine, _ = make_engine()
    stored = drive(engine, TO_DESCRIPTION).state.to_dict()
    stored["lang"] = stored.pop("language")
    del stored["relayed"]
    stored["spec_version"] = 1
    state = State.from_dict(stored)
    assert state.language == "en" and state.relayed == 0 and state.spec_version == 2


@pytest.mark.parametrize(
    "broken",
    [
        {},
        {"spec_version": 99},
        "not a dict",
        {"spec_version": 2, "flow_id": "default-intake", "answers": []},
    ],
)
def test_from_dict_refuses_malformed_states(broken: Any) -> None:
    with pytest.raises(StateError):
        State.from_dict(broken)


def test_migrate_state_restarts_at_start_when_the_node_is_gone() -> None:
    engine, _ = make_engine()
    stored = drive(engine, TO_DESCRIPTION).state.to_dict()
    stored |= {"node": "removed_question", "flow_version": 2}
    stored["answers"]["dropped_key"] = "x"
    state = migrate_state(stored, default_flow())
    assert state.node == "language" and state.flow_version == 3
    assert "dropped_key" not in state.answers and state.answers["who"] == "self"


def test_a_state_whose_node_is_gone_restarts_keeping_answers() -> None:
    engine, _ = make_engine()
    state = drive(engine, TO_DESCRIPTION).state
    moved = State(**{**state.__dict__, "node": "removed_question"})
    step = engine.step(moved, text("my description"))
    assert step.events == (Event("restarted", {"reason": "flow_changed"}),)
    assert step.state.answers == state.answers


def test_migrate_state_understands_the_sealed_marker() -> None:
    # After sealing a case the intake service keeps only {"completed": True}.
    engine, _ = make_engine()
    state = migrate_state({"completed": True}, default_flow())
    assert state.completed
    assert kinds(engine.step(state, text("hello"))) == ["relay"]


def test_migrate_state_turns_garbage_into_an_expired_conversation() -> None:
    engine, _ = make_engine()
    state = migrate_state({"node": 5, "answers": {"who": "self", "bad": [1]}}, default_flow())
    assert state.answers == {"who": "self"}
    assert kinds(engine.step(state, text("hi"))) == ["expired"]


# -- misc --------------------------------------------------------------------------------


def test_an_engine_refuses_a_flow_with_errors() -> None:
    from tropa.intake.flows import parse_flow

    doc = tiny_doc()
    doc["nodes"][0]["next"] = "nowhere"
    with pytest.raises(FlowError, match="cannot run"):
        Engine(parse_flow(doc), clock=FixedClock(T0), ids=FixedIds())


def test_describe_answers_gives_labelled_lines_without_secrets() -> None:
    answers = {"who": "self", "docs_internal": "no", "duress_pin": "4821", "description": "Hi"}
    assert describe_answers(default_flow(), answers, language="en") == [
        "who: For myself",
        "docs_internal: No",
        "description: Hi",
    ]


def test_the_benchmark_runs() -> None:
    assert engine_steps_per_second(200) > 0


# -- properties ---------------------------------------------------------------------------

ENGINE, CLOCK = make_engine()
BUTTON_VALUES = sorted(f"{q.id}:{v}" for q in default_flow().questions() for v in q.values())
nasty_text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(max_codepoint=0x20FF, exclude_categories=["Cs"]), max_size=40),
    st.sampled_from(["/start", "да", "no", "1", "07/2031", "4821", "wipe", "Mobilised", ""]),
    # Huge messages, and characters that must never reach a caseworker's screen.
    st.builds(
        lambda c, n: c * n,
        st.sampled_from(["x", "\u202e", "\x00", "e\u0301", "\ud800", "ab\u2067"]),
        st.integers(1, 100_000),
    ),
)
random_inbound = st.builds(
    Inbound,
    kind=st.sampled_from(["start", "text", "choice", "file", "location"]),
    text=nasty_text,
    choice=st.one_of(st.none(), st.sampled_from(BUTTON_VALUES), st.text(max_size=20)),
    file_ref=st.one_of(st.none(), st.text(max_size=20)),
)
UNSAFE = {chr(c) for c in [*range(0, 10), *range(11, 32), *range(0x7F, 0xA0)]}
UNSAFE |= set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_step(step: Step) -> None:
    relayish = {"relay", "expired", "panic"} & set(kinds(step))
    assert step.outbound or relayish
    stored = step.state.to_dict()
    assert State.from_dict(json.loads(json.dumps(stored))) == step.state
    for value in step.state.answers.values():
        assert not (isinstance(value, str) and UNSAFE & set(value))


PLAUSIBLE = ("07/2031", "4821", "Please help", "да")
SENSIBLE = {"docs_foreign_expiry": "07/2031", "duress_pin": "4821"}
# A move: press the n-th button on screen (or, with none, type a plausible answer), type a
# plausible answer, or send anything at all. Mostly what a person would send, so that
# conversations get deep; repeated branches weigh the choice.
press_move = st.integers(0, 15).map(lambda n: ("press", n))
typed_move = st.integers(0, len(PLAUSIBLE) - 1).map(lambda n: ("typed", n))
raw_move = random_inbound.map(lambda inbound: ("raw", inbound))
moves = st.lists(
    st.tuples(
        st.one_of(*[press_move] * 5, typed_move, typed_move, raw_move),
        st.sampled_from([0] * 38 + [1, 2000]),  # minutes before the move: rarely a day later
    ),
    # Every prefix is checked step by step, so long scripts lose no short cases.
    min_size=20,
    max_size=40,
)


def inbound_for(move: tuple[str, Any], step: Step) -> Inbound:
    kind, value = move
    buttons = [b for o in step.outbound for b in o.buttons]
    if kind == "raw":
        assert isinstance(value, Inbound)
        return value
    if kind == "press" and buttons:
        return Inbound("choice", choice=buttons[value % len(buttons)].value)
    if kind == "press":  # a text question: answer it sensibly
        return text(SENSIBLE.get(step.state.node, "Please help"))
    return text(PLAUSIBLE[value % len(PLAUSIBLE)])


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
@given(st.sampled_from([None, "ru", "en", "xx"]), moves)
def test_no_sequence_of_messages_breaks_the_engine(
    language: str | None, script: list[tuple[tuple[str, Any], int]]
) -> None:
    CLOCK.current = T0
    step = ENGINE.start(language=language)
    for move, minutes in script:
        CLOCK.current += timedelta(minutes=minutes)
        step = ENGINE.step(step.state, inbound_for(move, step))
        check_step(step)
        if step.state.completed:
            event("reached completion")
