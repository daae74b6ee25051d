"""Atheris harness: bytes as the webhook receives them -> json -> parse_update.

Never an exception but the ones the webhook answers (not JSON, nested too deep);
a parsed update carries ids that fit a BIGINT and text that UTF-8 can encode.
"""

from __future__ import annotations

import json
import sys

import atheris
from _setup import django_setup

with atheris.instrument_imports(include=["tropa"]):
    django_setup()
    from tropa.intake.channels.telegram.services import MAX_TEXT, parse_update

INT64 = range(-(2**63), 2**63)


def TestOneInput(data: bytes) -> None:  # noqa: N802  (the name atheris looks for)
    try:
        update = json.loads(data)
    except (ValueError, RecursionError):
        return  # the webhook acknowledges these without parsing
    parsed = parse_update(update)
    if parsed is None:
        return
    for number in (parsed.update_id, parsed.chat_id, parsed.message_id or 0):
        assert type(number) is int and number in INT64, number
    inbound = parsed.inbound
    assert inbound.kind in {"start", "text", "choice", "file"}
    assert len(inbound.text) <= MAX_TEXT and len(inbound.choice or "") <= 64
    for text in (inbound.text, inbound.choice, inbound.file_ref, parsed.callback_id):
        if text is not None:
            text.encode("utf-8")


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
