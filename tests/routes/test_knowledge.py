"""Route knowledge YAML: the sample, exact round trips, and hostile documents refused whole."""

from __future__ import annotations

import copy
import time
from datetime import date, timedelta
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tropa.routes.knowledge import (
    MAX_BYTES,
    SAMPLE_PATH,
    KnowledgeError,
    dump_knowledge,
    knowledge_document,
    load_knowledge,
    load_sample,
)
from tropa.routes.planner import DOCUMENTS, MODES, RISK_PROBABILITY, Knowledge, Leg, Place

TODAY = date(2026, 11, 15)


def base() -> dict[str, Any]:
    return {
        "version": 1,
        "hostile_countries": ["BY"],
        "places": [
            {"id": "home", "name": "Home town", "country": "RU", "kind": "city"},
            {
                "id": "flat",
                "name": "Safe flat A",
                "country": "KZ",
                "kind": "safe_point",
                "safe": True,
            },
        ],
        "legs": [
            {
                "id": "L1",
                "origin": "home",
                "destination": "flat",
                "mode": "rail",
                "hours": 12.5,
                "documents": ["internal_passport"],
                "risk": "medium",
                "assessed_on": date(2026, 10, 1),
                "assessed_by": "evac-1",
                "note": "",
            }
        ],
    }


def problems_of(source: str | bytes | dict[str, Any]) -> list[str]:
    text = yaml.safe_dump(source) if isinstance(source, dict) else source
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(text, today=TODAY)
    return list(raised.value.problems) or [raised.value.summary]


def with_leg(**changes: Any) -> dict[str, Any]:
    doc = base()
    doc["legs"][0].update(changes)
    return doc


# -- the sample and round trips --------------------------------------------------------


def test_the_sample_loads_and_is_small_and_synthetic() -> None:
    sample = load_sample(today=TODAY)
    assert 12 <= len(sample.places) <= 20 and 25 <= len(sample.legs) <= 40
    assert sample.hostile_countries == {"BY"}
    assert {leg.mode for leg in sample.legs} == set(MODES)
    assert {p.country for p in sample.places if p.safe} >= {"AM", "KZ", "GE", "TR", "DE"}
    stale = [leg.id for leg in sample.legs if (TODAY - leg.assessed_on).days > 180]
    assert len(stale) >= 2
    assert "SYNTHETIC" in SAMPLE_PATH.read_text(encoding="utf-8")


def test_export_then_import_round_trips_exactly() -> None:
    sample = load_sample(today=TODAY)
    text = dump_knowledge(sample)
    again = load_knowledge(text, today=TODAY)
    assert again == sample
    assert dump_knowledge(again) == text


names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(
    str.strip
)
notes = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t"))
idents = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,10}", fullmatch=True)
countries = st.from_regex(r"[A-Z]{2}", fullmatch=True)


@st.composite
def knowledge(draw: st.DrawFn) -> Knowledge:
    ids = draw(st.lists(idents, min_size=2, max_size=6, unique=True))
    places = tuple(
        Place(
            ident,
            draw(names),
            draw(countries),
            draw(st.sampled_from(["city", "crossing", "safe_point"])),
            False,
        )
        for ident in ids
    )
    legs = []
    for number in range(draw(st.integers(0, 6))):
        origin, destination = draw(st.permutations(ids))[:2]
        legs.append(
            Leg(
                f"L{number}",
                origin,
                destination,
                MODES[number % len(MODES)],
                draw(st.floats(0.01, 720)),
                draw(st.frozensets(st.sampled_from(DOCUMENTS))),
                draw(st.sampled_from(list(RISK_PROBABILITY))),
                TODAY - timedelta(days=draw(st.integers(0, 3000))),
                draw(names),
                draw(notes.filter(lambda n: len(n) <= 2000)),
            )
        )
    hostile = draw(st.frozensets(countries, max_size=3))
    return Knowledge(places, tuple(legs), hostile)


@settings(max_examples=100, deadline=None, database=None)
@given(knowledge())
def test_any_valid_knowledge_round_trips(original: Knowledge) -> None:
    assert load_knowledge(dump_knowledge(original), today=TODAY) == original


def test_an_export_lists_documents_in_a_fixed_order() -> None:
    doc = knowledge_document(load_sample(today=TODAY))
    by_id = {leg["id"]: leg for leg in doc["legs"]}
    assert by_id["L15"]["documents"] == ["foreign_passport", "visa"]
    assert by_id["L03"]["documents"] == []


# -- hostile or broken documents -------------------------------------------------------


def test_a_leg_to_an_unknown_place_is_refused() -> None:
    assert problems_of(with_leg(destination="nowhere")) == [
        "legs[0] (id=L1): destination nowhere is not a place id"
    ]


def test_duplicate_ids_are_refused() -> None:
    doc = base()
    doc["places"].append(dict(copy.deepcopy(doc["places"][0]), name="Another"))
    doc["legs"].append(copy.deepcopy(doc["legs"][0]))
    assert problems_of(doc) == [
        "places[2] (id=home): duplicate place id home, first used at places[0] (id=home)",
        "legs[1] (id=L1): duplicate leg id L1, first used at legs[0] (id=L1)",
    ]


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (-2, "hours: must be a positive number of hours, not -2"),
        (0, "hours: must be a positive number of hours, not 0"),
        ("three", "hours: must be a number of hours, not text 'three'"),
        (True, "hours: must be a number of hours, not bool True"),
        (float("inf"), "hours: must be a positive number of hours, not inf"),
        (float("nan"), "hours: must be a positive number of hours, not nan"),
        (1000, "hours: 1000 is over the 720-hour limit for one leg"),
    ],
)
def test_bad_hours_are_refused(hours: object, expected: str) -> None:
    assert problems_of(with_leg(hours=hours)) == [f"legs[0] (id=L1): {expected}"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"mode": "boat"}, "mode: unknown value 'boat'; expected one of rail, road"),
        ({"documents": ["passport"]}, "documents: unknown document 'passport'"),
        ({"documents": "visa"}, "documents: must be a list ([] for none), not text"),
        ({"risk": "unknown"}, "risk: unknown value 'unknown'; expected one of low, medium"),
        ({"assessed_on": date(2027, 1, 1)}, "assessed_on: 2027-01-01 is in the future"),
        ({"assessed_on": "yesterday"}, "assessed_on: must be a date written YYYY-MM-DD"),
        ({"assessed_on": "2026-02-30"}, "assessed_on: must be a date written YYYY-MM-DD"),
        ({"assessed_by": 7}, "assessed_by: must be text, not a number 7"),
        ({"note": ["a", "list"]}, "note: must be text, not a list"),
        ({"hour": 3}, "unknown field 'hour'; expected one of id, origin"),
        ({"origin": "flat", "destination": "flat"}, "origin and destination are both flat"),
    ],
)
def test_bad_leg_fields_are_refused(change: dict[str, Any], expected: str) -> None:
    (problem,) = problems_of(with_leg(**change))
    assert problem.startswith(f"legs[0] (id=L1): {expected}"), problem


def test_a_missing_field_is_named() -> None:
    doc = base()
    del doc["legs"][0]["risk"]
    assert problems_of(doc) == ["legs[0] (id=L1): missing risk"]


def test_every_problem_is_reported_at_once() -> None:
    doc = with_leg(hours=-1, mode="boat", destination="nowhere")
    doc["places"][0]["kind"] = "village"
    doc["places"].append({"id": "bad id", "name": "", "country": "ru", "kind": "city"})
    problems = problems_of(doc)
    assert len(problems) == 7, problems
    assert "places[0] (id=home): kind: unknown value 'village'" in problems[0]
    assert any(p.startswith("places[2] (id=bad id): id: 'bad id' is not allowed") for p in problems)
    assert any(p.startswith("places[2] (id=bad id): name: must not be empty") for p in problems)
    assert any(
        "country: 'ru' is not allowed here (a two-letter country code" in p for p in problems
    )


def test_a_malformed_date_is_reported_with_its_line() -> None:
    text = yaml.safe_dump(base()).replace("2026-10-01", "2026-13-45")
    (problem,) = problems_of(text)
    assert problem.startswith("line ") and "2026-13-45 is not a valid date" in problem


def test_a_timestamp_is_not_a_date() -> None:
    text = yaml.safe_dump(base()).replace("2026-10-01", "2026-10-01 10:00:00")
    (problem,) = problems_of(text)
    assert problem.startswith("legs[0] (id=L1): assessed_on: must be a date written YYYY-MM-DD")


def test_wrong_types_are_refused() -> None:
    assert problems_of("- a\n- list\n") == [
        "the document must be a mapping with version, hostile_countries, places, legs"
    ]
    doc = base()
    doc["places"] = {"home": "town"}
    doc["legs"] = ["L1"]
    doc["version"] = 2
    assert problems_of(doc) == [
        "version must be 1, not 2",
        "places must be a list, not a mapping",
        "legs[0]: must be a mapping, not text",
    ]


def test_yaml_booleans_get_a_hint() -> None:
    text = yaml.safe_dump(base()).replace("country: KZ", "country: NO").replace("- BY", "- no")
    problems = problems_of(text)
    assert any("country: must be text, not False (YAML reads bare" in p for p in problems)
    assert any(p.startswith("hostile_countries[0]: False is not a two-letter") for p in problems)
    quoted = yaml.safe_dump(base()).replace("safe: true", "safe: 'yes'")
    assert problems_of(quoted) == ["places[1] (id=flat): safe: must be true or false, not 'yes'"]


def test_a_safe_place_in_a_hostile_country_is_refused() -> None:
    doc = base()
    doc["hostile_countries"] = ["KZ"]
    assert problems_of(doc) == ["places[1] (id=flat): marked safe, but KZ is a hostile country"]


def test_a_yaml_bomb_is_refused_before_it_expands() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9)
    )
    started = time.perf_counter()
    problems = problems_of(bomb)
    assert time.perf_counter() - started < 1
    assert problems[0] == "line 1: anchors (&a) are not allowed"
    assert "line 2: aliases (*a) are not allowed" in problems


def test_a_huge_document_is_refused_unread() -> None:
    huge = "# " + "x" * (10 * 1024 * 1024) + "\n"
    for source in (huge, huge.encode()):
        assert problems_of(source) == [
            f"the route knowledge is larger than the {MAX_BYTES:,}-byte limit"
        ]
    multibyte = "# " + "й" * (MAX_BYTES // 2 + 1)  # fewer characters than bytes
    assert "limit" in problems_of(multibyte)[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: " + "[" * 10 + "]" * 10, "line 1: nested deeper than 6 levels"),
        ("[" * 50_000, "nesting depth"),
        ("version: 1\nversion: 1\n", "line 2: duplicate key 'version'"),
        ("version: !!python/object:os.system 1\n", "line 1: tags (tag:yaml.org,2002:python/"),
        ("version: [1\n", "not valid YAML: line 2, column 1"),
        ("version: 1\n---\nversion: 1\n", "expected a single document"),
        (b"version: \xff\n", "not UTF-8 text (byte 9)"),
    ],
)
def test_malicious_or_broken_yaml_is_refused(text: str | bytes, expected: str) -> None:
    problems = problems_of(text)
    assert any(expected in p for p in problems), problems


def test_nothing_is_returned_when_one_leg_is_wrong() -> None:
    doc = base()
    doc["legs"] += [copy.deepcopy(doc["legs"][0]) for _ in range(3)]
    for number, leg in enumerate(doc["legs"]):
        leg["id"] = f"L{number}"
    doc["legs"][2]["hours"] = -1
    with pytest.raises(KnowledgeError, match=r"1 problem\(s\)"):
        load_knowledge(yaml.safe_dump(doc), today=TODAY)
