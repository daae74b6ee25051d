"""Flow documents: loading, schema errors, migrations, the inspector's checks, PO files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polib
import pytest
import yaml
from jsonschema import Draft202012Validator

from tests.intake import tiny_doc
from tropa.intake.flows import (
    DEFAULT_FLOW_PATH,
    FLOW_SPEC_VERSION,
    MIGRATIONS,
    FlowError,
    Problem,
    default_flow,
    dump_flow,
    flow_items,
    inspect_flow,
    load_flow,
    migrate,
    parse_flow,
    read_flow_document,
)
from tropa.intake.flows.loader import SCHEMA_PATH
from tropa.intake.flows.po import export_po, import_po


def codes(doc: dict[str, Any]) -> set[tuple[str, str, str | None]]:
    """(severity, code, node) for every problem the inspector finds in `doc`."""
    return {(p.severity, p.code, p.node_id) for p in inspect_flow(parse_flow(doc))}


def node(doc: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in doc["nodes"] if n["id"] == node_id)


# -- the default flow ---------------------------------------------------------


def test_default_flow_inspects_clean() -> None:
    assert inspect_flow(default_flow()) == []


def test_default_flow_ids_and_languages() -> None:
    flow = default_flow()
    assert flow.id == "default-intake"
    assert flow.languages == ("ru", "en")
    assert flow.start == "language"
    assert flow.timeout_minutes == 1440
    assert [n.id for n in flow.nodes][:3] == ["language", "welcome", "who"]


def test_default_flow_never_asks_for_a_name_or_document_number() -> None:
    # The bot warns against these; it must not ask for them by accident.
    flow = default_flow()
    for q in flow.questions():
        assert not {"name", "passport_number", "phone"} & {q.save_as}


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_it_loads_json_and_yaml_files_alike(tmp_path: Path) -> None:
    doc = read_flow_document(DEFAULT_FLOW_PATH)
    as_json = tmp_path / "flow.json"
    as_json.write_text(json.dumps(doc, ensure_ascii=False))
    assert load_flow(as_json) == default_flow()


def test_dump_flow_round_trips() -> None:
    doc = read_flow_document(DEFAULT_FLOW_PATH)
    assert load_flow(yaml.safe_load(dump_flow(doc))) == default_flow()


# -- schema errors --------------------------------------------------------------


def test_schema_error_names_the_json_path_and_node() -> None:
    doc = tiny_doc()
    node(doc, "ask")["kind"] = "essay"
    with pytest.raises(FlowError) as caught:
        load_flow(doc)
    assert "$.nodes[0](id=ask).kind" in str(caught.value)
    assert "essay" in str(caught.value)


def test_schema_lists_every_error() -> None:
    doc = tiny_doc()
    del node(doc, "ask")["text"]
    node(doc, "done")["colour"] = "green"
    with pytest.raises(FlowError) as caught:
        load_flow(doc)
    assert len(caught.value.details) == 2


def test_bare_yaml_yes_gets_a_hint() -> None:
    doc = tiny_doc()
    doc["nodes"][1]["cases"][0]["when"]["equals"] = True  # what `equals: yes` becomes
    with pytest.raises(FlowError, match="put the value in quotes"):
        load_flow(doc)


def test_broken_yaml_is_a_flow_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("nodes: [unclosed\n")
    with pytest.raises(FlowError, match="not valid YAML"):
        load_flow(path)


def test_load_flow_refuses_inspector_errors() -> None:
    doc = tiny_doc()
    node(doc, "ask")["next"] = "nowhere"
    with pytest.raises(FlowError, match="unknown node 'nowhere'"):
        load_flow(doc)


# -- migrations -------------------------------------------------------------------

V1_FIXTURE = """
spec_version: 1
id: old
version: 7
languages: [en]
start: ask
category_key: colour
nodes:
  - id: ask
    type: question
    kind: choice
    text: ask.prompt
    options:
      - {value: red, label: ask.red}
    save_as: colour
    next: done
  - {id: done, type: exit, complete: true, text: done.text}
translations:
  en:
    ask.prompt: Colour?
    ask.red: Red
    done.text: "Done, {codename}."
    system.expired: Expired.
    error.stale: Stale.
    error.too_long: "Too long ({max})."
    error.choice: Choose.
    relay.hint: Write here.
"""


def test_v1_document_with_options_is_migrated_to_choices() -> None:
    flow = load_flow(yaml.safe_load(V1_FIXTURE))
    assert flow.spec_version == FLOW_SPEC_VERSION
    question = next(flow.questions())
    assert [c.value for c in question.choices] == ["red"]


def test_migration_registry_covers_every_older_version() -> None:
    assert set(MIGRATIONS) == set(range(1, FLOW_SPEC_VERSION))


def test_migrate_does_not_touch_its_input() -> None:
    doc = yaml.safe_load(V1_FIXTURE)
    migrate(doc)
    assert "options" in doc["nodes"][0]


@pytest.mark.parametrize(
    ("version", "message"),
    [(FLOW_SPEC_VERSION + 1, "newer"), (None, "missing"), ("2", "missing"), (0, "no migration")],
)
def test_unknown_spec_versions_are_refused(version: object, message: str) -> None:
    doc = tiny_doc()
    doc["spec_version"] = version
    with pytest.raises(FlowError, match=message):
        load_flow(doc)


# -- inspector: one small broken flow per check --------------------------------------


def test_tiny_flow_is_clean() -> None:
    assert codes(tiny_doc()) == set()


def test_it_reports_unreachable_nodes_as_warnings() -> None:
    doc = tiny_doc()
    doc["nodes"].append({"id": "orphan", "type": "exit", "text": "bye.text"})
    assert codes(doc) == {("warning", "unreachable", "orphan")}


def test_it_reports_dead_ends() -> None:
    doc = tiny_doc()
    del node(doc, "ask")["next"]
    del node(doc, "route")["default"]
    found = codes(doc)
    assert ("error", "dead_end", "ask") in found
    assert ("error", "dead_end", "route") in found


def test_it_reports_unknown_nodes() -> None:
    doc = tiny_doc()
    node(doc, "route")["default"] = "nowhere"
    doc["start"] = "missing"
    found = codes(doc)
    assert ("error", "unknown_node", "route") in found
    assert ("error", "unknown_node", None) in found


def test_it_reports_duplicate_ids() -> None:
    doc = tiny_doc()
    doc["nodes"].append({"id": "bye", "type": "exit", "text": "bye.text"})
    assert ("error", "duplicate_id", "bye") in codes(doc)


def test_it_reports_missing_translations_per_language() -> None:
    doc = tiny_doc()
    doc["languages"] = ["en", "de"]
    doc["translations"]["de"] = dict(doc["translations"]["en"])
    del doc["translations"]["de"]["bye.text"]
    doc["translations"]["de"]["ask.prompt"] = "  "
    problems = [p for p in inspect_flow(parse_flow(doc)) if p.code == "missing_translation"]
    assert {(p.node_id, "de" in p.message) for p in problems} == {("bye", True), ("ask", True)}


def test_it_warns_about_unused_translations() -> None:
    doc = tiny_doc()
    doc["translations"]["en"]["stray.item"] = "Nobody shows this."
    doc["translations"]["en"]["relay.ack"] = "Optional items are not stray."
    assert codes(doc) == {("warning", "unused_translation", None)}


def test_it_warns_about_translations_for_unlisted_languages() -> None:
    doc = tiny_doc()
    doc["translations"]["de"] = dict(doc["translations"]["en"])
    assert codes(doc) == {("warning", "unlisted_language", None)}


def test_it_reports_router_rules_on_answers_never_saved() -> None:
    doc = tiny_doc()
    node(doc, "route")["cases"][0]["when"] = {"answer": "size", "equals": "big"}
    assert ("error", "unknown_answer", "route") in codes(doc)


def test_it_reports_router_rules_before_the_answer_is_given() -> None:
    doc = tiny_doc()
    doc["start"] = "route"
    node(doc, "route")["default"] = "ask"
    node(doc, "ask")["next"] = "done"
    assert ("error", "answer_not_before", "route") in codes(doc)


def test_it_reports_router_values_no_answer_can_have() -> None:
    doc = tiny_doc()
    node(doc, "route")["cases"][0]["when"] = {"answer": "colour", "in": ["red", "green"]}
    problems = [p for p in inspect_flow(parse_flow(doc)) if p.code == "impossible_value"]
    assert len(problems) == 1 and "'green'" in problems[0].message


def test_it_reports_number_comparisons_on_non_numbers() -> None:
    doc = tiny_doc()
    node(doc, "route")["cases"][0]["when"] = {"answer": "colour", "gte": 3}
    assert ("error", "not_a_number", "route") in codes(doc)


def test_it_checks_urgency_rules_too() -> None:
    doc = tiny_doc()
    doc["urgency"] = {"rules": [{"when": {"answer": "size", "equals": "big"}, "add": 5}]}
    assert codes(doc) == {("error", "unknown_answer", None)}


def test_it_reports_choices_without_labels() -> None:
    doc = tiny_doc()
    doc["translations"]["en"]["ask.blue"] = ""
    found = codes(doc)
    assert ("error", "choice_without_label", "ask") in found


def test_it_reports_duplicate_choice_values() -> None:
    doc = tiny_doc()
    node(doc, "ask")["choices"][1]["value"] = "red"
    assert ("error", "duplicate_choice", "ask") in codes(doc)


def test_it_reports_invalid_patterns() -> None:
    doc = tiny_doc()
    doc["nodes"][0] = {
        "id": "ask",
        "type": "question",
        "kind": "text",
        "text": "ask.prompt",
        "pattern": "([a-z",
        "save_as": "colour",
        "next": "done",
    }
    doc["nodes"] = [n for n in doc["nodes"] if n["id"] != "route"]
    doc["translations"]["en"]["error.text"] = "Text, please."
    doc["translations"]["en"].pop("ask.red")
    doc["translations"]["en"].pop("ask.blue")
    doc["translations"]["en"].pop("error.choice")
    found = codes(doc)
    assert ("error", "invalid_pattern", "ask") in found
    assert ("warning", "unreachable", "bye") in found
    with pytest.raises(FlowError, match="invalid"):
        load_flow(doc)


def test_it_reports_loops_without_a_question() -> None:
    doc = tiny_doc()
    doc["nodes"].append({"id": "note", "type": "message", "text": "bye.text", "next": "route"})
    node(doc, "route")["default"] = "note"
    assert ("error", "loop", "note") in codes(doc) or ("error", "loop", "route") in codes(doc)


def test_it_reports_placeholders_lost_in_translation() -> None:
    doc = tiny_doc()
    doc["languages"] = ["en", "de"]
    doc["translations"]["de"] = dict(doc["translations"]["en"])
    doc["translations"]["de"]["done.text"] = "Fertig."
    assert codes(doc) == {("error", "placeholder_mismatch", "done")}


def test_it_reports_language_choices_that_are_not_flow_languages() -> None:
    doc = tiny_doc()
    node(doc, "ask")["sets_language"] = True
    assert ("error", "language_question", "ask") in codes(doc)


def test_it_reports_a_flow_that_never_completes() -> None:
    doc = tiny_doc()
    node(doc, "done")["complete"] = False
    assert ("error", "no_completion", None) in codes(doc)


def test_it_reports_an_unknown_category_key() -> None:
    doc = tiny_doc()
    doc["category_key"] = "size"
    assert codes(doc) == {("error", "unknown_category_key", None)}


def test_problems_read_well() -> None:
    problem = Problem("error", "ask", "has no `next` and is not an exit", "dead_end")
    assert str(problem) == "error: [ask] has no `next` and is not an exit (dead_end)"


# -- PO files ------------------------------------------------------------------------


def test_export_po_uses_item_ids_as_context_and_english_as_source() -> None:
    flow = default_flow()
    po = export_po(flow, "ru")
    entry = po.find("Who are you writing for?", msgctxt="who.prompt")
    assert entry is not None and entry.msgstr == "Для кого вы пишете?"
    assert len(po) == len(flow_items(flow)) + 3  # + the optional relay.ack and yes/no words
    assert po.metadata["Language"] == "ru"


def test_export_po_tells_translators_which_placeholders_to_keep() -> None:
    entry = export_po(default_flow(), "ru").find("done.text", by="msgctxt")
    assert entry is not None and "Keep {codename} as is." in entry.comment


def test_po_round_trip_keeps_every_translation() -> None:
    doc = read_flow_document(DEFAULT_FLOW_PATH)
    for language in ("ru", "en"):
        po = polib.pofile(str(export_po(default_flow(), language)))
        new_doc, report = import_po(doc, language, po)
        assert new_doc == doc
        assert report.clean and report.updated == ()


def test_import_po_reports_unknown_fuzzy_and_empty_entries() -> None:
    doc = read_flow_document(DEFAULT_FLOW_PATH)
    po = export_po(default_flow(), "ru")
    po.find("who.prompt", by="msgctxt").msgstr = "Для кого вы пишете сейчас?"
    fuzzy = po.find("who.self", by="msgctxt")
    fuzzy.msgstr, fuzzy.flags = "Для меня", ["fuzzy"]
    po.find("who.relative", by="msgctxt").msgstr = ""
    po.append(polib.POEntry(msgctxt="gone.item", msgid="Gone", msgstr="Нет"))
    new_doc, report = import_po(doc, "ru", po)
    assert report.updated == ("who.prompt",)
    assert report.fuzzy == ("who.self",)
    assert report.empty == ("who.relative",)
    assert report.unknown == ("gone.item",)
    ru = new_doc["translations"]["ru"]
    assert ru["who.prompt"] == "Для кого вы пишете сейчас?"
    assert ru["who.self"] == "Для себя"  # a fuzzy entry never overwrites
    assert "gone.item" not in ru
    assert doc["translations"]["ru"]["who.prompt"] == "Для кого вы пишете?"  # input untouched


def test_a_new_language_starts_with_everything_missing() -> None:
    doc = read_flow_document(DEFAULT_FLOW_PATH)
    po = export_po(default_flow(), "uk")
    assert all(entry.msgstr == "" for entry in po)
    _, report = import_po(doc, "uk", po)
    assert set(report.missing) == set(flow_items(default_flow()))
    assert not report.clean
