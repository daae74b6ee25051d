"""Intake tests. The flow and engine ones (test_flows, test_engine, test_golden) are plain
Python with no Django or database:

    python -m pytest -p no:django --noconftest tests/intake/test_flows.py \
        tests/intake/test_engine.py tests/intake/test_golden.py
"""

from __future__ import annotations

import copy
from typing import Any

_TINY: dict[str, Any] = {
    "spec_version": 2,
    "id": "tiny",
    "version": 1,
    "languages": ["en"],
    "start": "ask",
    "timeout_minutes": 60,
    "category_key": "colour",
    "nodes": [
        {
            "id": "ask",
            "type": "question",
            "kind": "choice",
            "text": "ask.prompt",
            "choices": [
                {"value": "red", "label": "ask.red"},
                {"value": "blue", "label": "ask.blue"},
            ],
            "save_as": "colour",
            "next": "route",
        },
        {
            "id": "route",
            "type": "router",
            "cases": [{"when": {"answer": "colour", "equals": "red"}, "next": "done"}],
            "default": "bye",
        },
        {"id": "done", "type": "exit", "complete": True, "text": "done.text"},
        {"id": "bye", "type": "exit", "text": "bye.text"},
    ],
    "translations": {
        "en": {
            "ask.prompt": "Colour?",
            "ask.red": "Red",
            "ask.blue": "Blue",
            "done.text": "Done, {codename}.",
            "bye.text": "Bye.",
            "system.expired": "Expired.",
            "error.stale": "Stale.",
            "error.too_long": "Too long ({max}).",
            "error.choice": "Choose.",
            "relay.hint": "Write here.",
        }
    },
}


def tiny_doc() -> dict[str, Any]:
    """A small valid flow document (one choice, one router, two exits) to break in tests."""
    return copy.deepcopy(_TINY)
