"""Translations of a flow as gettext PO files, one per language.

Translators use the tools they know (Poedit, Weblate) instead of editing YAML.
Each entry's msgctxt is the item id, so two items with the same English text
stay separate; msgid is the English text as the source to translate from.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polib

from tropa.intake.flows.loader import migrate, parse_flow
from tropa.intake.flows.model import PLACEHOLDER, Flow, flow_items

SOURCE_LANGUAGE = "en"


def _all_items(flow: Flow) -> dict[str, str | None]:
    """Used items first (in flow order), then any other item some language translates."""
    items = flow_items(flow)
    for translations in flow.translations.values():
        for item in translations:
            items.setdefault(item, None)
    return items


def _comment(item: str, node_id: str | None, source: str) -> str:
    where = f"Node {node_id}." if node_id else "Shown by the engine itself."
    kept = sorted(set(PLACEHOLDER.findall(source)))
    if kept:
        where += " Keep " + ", ".join("{" + name + "}" for name in kept) + " as is."
    return where


def export_po(flow: Flow, language: str) -> polib.POFile:
    """A PO file for `language`: msgctxt = item id, msgid = English (or the item id)."""
    po = polib.POFile(wrapwidth=0)
    po.metadata = {
        "Project-Id-Version": f"{flow.id} {flow.version}",
        "Language": language,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
    }
    source = flow.translations.get(SOURCE_LANGUAGE, {})
    target = flow.translations.get(language, {})
    for item, node_id in _all_items(flow).items():
        msgid = source.get(item) or item
        po.append(
            polib.POEntry(
                msgctxt=item,
                msgid=msgid,
                msgstr=target.get(item, ""),
                comment=_comment(item, node_id, msgid),
            )
        )
    return po


@dataclass(frozen=True)
class ImportReport:
    """What `import_po` did with each entry (item ids)."""

    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    unknown: tuple[str, ...]  # msgctxt the flow does not know (or entries without one)
    fuzzy: tuple[str, ...]  # skipped: a translator marked them as needing review
    empty: tuple[str, ...]  # skipped: no translation yet
    missing: tuple[str, ...]  # items the flow uses that still have no text in this language

    @property
    def clean(self) -> bool:
        return not (self.unknown or self.fuzzy or self.empty or self.missing)


def import_po(
    flow_dict: Mapping[str, Any], language: str, po: polib.POFile
) -> tuple[dict[str, Any], ImportReport]:
    """A copy of the flow document with `language` translations taken from `po`.

    Fuzzy and empty entries are skipped, never written over a good translation.
    `languages` is left alone: add a new language there once the report is clean.
    """
    doc = copy.deepcopy(migrate(flow_dict))
    flow = parse_flow(doc)
    known = _all_items(flow)
    texts: dict[str, str] = doc["translations"].setdefault(language, {})
    found: dict[str, list[str]] = {k: [] for k in ("updated", "unchanged", "unknown")}
    found |= {"fuzzy": [], "empty": []}
    for entry in po:
        if entry.obsolete:
            continue
        item = entry.msgctxt
        if item is None or item not in known:
            found["unknown"].append(item or entry.msgid)
        elif entry.fuzzy:
            found["fuzzy"].append(item)
        elif not entry.msgstr.strip():
            found["empty"].append(item)
        else:
            found["unchanged" if texts.get(item) == entry.msgstr else "updated"].append(item)
            texts[item] = entry.msgstr
    used = flow_items(flow)
    missing = tuple(i for i in used if not texts.get(i, "").strip())
    report = ImportReport(**{k: tuple(v) for k, v in found.items()}, missing=missing)
    return doc, report
