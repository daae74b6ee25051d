"""Atheris harness: a flow file's bytes -> load_flow -> a Flow that runs, or FlowError."""

from __future__ import annotations

import atexit
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import _setup  # noqa: F401
import atheris

with atheris.instrument_imports(include=["tropa"]):
    from tropa.intake.flows import Engine, FixedClock, FixedIds, FlowError, Inbound, load_flow

# One file, rewritten for each input: load_flow reads paths the way `tropa flows` does.
_HANDLE, _NAME = tempfile.mkstemp(prefix="tropa-fuzz-flow-", suffix=".yaml")
os.close(_HANDLE)
PATH = Path(_NAME)
atexit.register(PATH.unlink, missing_ok=True)
SCRIPT = (Inbound("start"), Inbound("text", text="1"), Inbound("text", text="yes"))


def TestOneInput(data: bytes) -> None:  # noqa: N802
    PATH.write_bytes(data)
    try:
        flow = load_flow(PATH)
    except FlowError as error:
        assert str(error)
        return
    engine = Engine(flow, clock=FixedClock(datetime(2024, 1, 1, tzinfo=UTC)), ids=FixedIds())
    step = engine.start()
    for inbound in SCRIPT:
        buttons = [b.value for message in step.outbound for b in message.buttons]
        if buttons:
            inbound = Inbound("choice", choice=buttons[0])
        step = engine.step(step.state, inbound)
        assert all(message.text for message in step.outbound)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
