"""Atheris harness: the default flow driven by a message sequence decoded from bytes.

Each step must give a state that survives JSON and UTF-8 (it is stored encrypted)
and reads back equal, with non-empty replies.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

import _setup  # noqa: F401
import atheris

with atheris.instrument_imports(include=["tropa"]):
    from tropa.intake.flows import Engine, FixedClock, FixedIds, Inbound, State, default_flow

CLOCK = FixedClock(datetime(2024, 1, 1, tzinfo=UTC))
ENGINE = Engine(default_flow(), clock=CLOCK, ids=FixedIds())
KINDS = ("text", "choice", "file", "start", "location")


def _inbound(fdp: atheris.FuzzedDataProvider, buttons: list[str]) -> Inbound:
    kind = KINDS[fdp.ConsumeIntInRange(0, len(KINDS) - 1)]
    if kind == "choice" and buttons and fdp.ConsumeBool():
        return Inbound("choice", choice=buttons[fdp.ConsumeIntInRange(0, len(buttons) - 1)])
    text = fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 64))
    return Inbound(kind, text=text, choice=text if kind == "choice" else None, file_ref=text)


def TestOneInput(data: bytes) -> None:  # noqa: N802
    fdp = atheris.FuzzedDataProvider(data)
    CLOCK.current = datetime(2024, 1, 1, tzinfo=UTC)
    step = ENGINE.start(language="en" if fdp.ConsumeBool() else "ru")
    for _ in range(fdp.ConsumeIntInRange(0, 40)):
        CLOCK.current += timedelta(minutes=fdp.ConsumeIntInRange(0, 3000) // 100)
        buttons = [b.value for message in step.outbound for b in message.buttons]
        step = ENGINE.step(step.state, _inbound(fdp, buttons))
        stored = json.dumps(step.state.to_dict(), ensure_ascii=False).encode("utf-8")
        assert State.from_dict(json.loads(stored)) == step.state
        assert all(message.text for message in step.outbound)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
