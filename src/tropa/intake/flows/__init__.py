"""Intake flows as data and the pure conversation engine that runs them.

No Django here: the intake services call `Engine.start`/`Engine.step` and store
`State.to_dict()`. The PO tools are imported lazily because polib is needed
only by translators and tests, not by the running bot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tropa.intake.flows.engine import (
    STATE_MIGRATIONS,
    STATE_SPEC_VERSION,
    Button,
    Clock,
    Engine,
    Event,
    FixedClock,
    FixedIds,
    IdSource,
    Inbound,
    Outbound,
    State,
    StateError,
    Step,
    SystemClock,
    describe_answers,
    engine_steps_per_second,
    fit_state,
    migrate_state,
    sanitise_text,
)
from tropa.intake.flows.inspector import Problem, inspect_flow
from tropa.intake.flows.loader import (
    DEFAULT_FLOW_PATH,
    MIGRATIONS,
    default_flow,
    dump_flow,
    load_flow,
    migrate,
    parse_flow,
    read_flow_document,
    validate,
)
from tropa.intake.flows.model import FLOW_SPEC_VERSION, Answer, Flow, FlowError, flow_items

if TYPE_CHECKING:
    from tropa.intake.flows.po import ImportReport, export_po, import_po

__all__ = [
    "DEFAULT_FLOW_PATH",
    "FLOW_SPEC_VERSION",
    "MIGRATIONS",
    "STATE_MIGRATIONS",
    "STATE_SPEC_VERSION",
    "Answer",
    "Button",
    "Clock",
    "Engine",
    "Event",
    "FixedClock",
    "FixedIds",
    "Flow",
    "FlowError",
    "IdSource",
    "ImportReport",
    "Inbound",
    "Outbound",
    "Problem",
    "State",
    "StateError",
    "Step",
    "SystemClock",
    "default_flow",
    "describe_answers",
    "dump_flow",
    "engine_steps_per_second",
    "export_po",
    "fit_state",
    "flow_items",
    "import_po",
    "inspect_flow",
    "load_flow",
    "migrate",
    "migrate_state",
    "parse_flow",
    "read_flow_document",
    "sanitise_text",
    "validate",
]

_LAZY_PO = frozenset({"ImportReport", "export_po", "import_po"})


def __getattr__(name: str) -> Any:
    if name in _LAZY_PO:
        from tropa.intake.flows import po

        return getattr(po, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
