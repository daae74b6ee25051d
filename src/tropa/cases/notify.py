"""How cases reach the applicant without importing a channel, and how a button
the applicant presses reaches the app it belongs to.

Intake registers the function that queues a message to the applicant's chat;
apps register handlers for button values with their own prefix (the journeys
app: "checkin:"), which intake calls instead of running the flow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tropa.cases.models import Case

Buttons = Sequence[tuple[str, str]]  # (value, label)
Notifier = Callable[["Case", str, Buttons], None]
# (case id, the value after the prefix) -> the answer to show the applicant
ActionHandler = Callable[[int, str], str]

# (case, channel, file reference) -> None: a file the applicant sent to his case
FileHandler = Callable[["Case", str, str], None]

_notifier: Notifier | None = None
_actions: dict[str, ActionHandler] = {}
_file_handlers: list[FileHandler] = []


def register_applicant_notifier(notifier: Notifier) -> None:
    global _notifier  # noqa: PLW0603  (one process-wide hook, set at start-up)
    _notifier = notifier


def applicant_notify(case: Case, text: str, buttons: Buttons = ()) -> None:
    if _notifier is not None:
        _notifier(case, text, buttons)


def register_applicant_action(prefix: str, handler: ActionHandler) -> None:
    """Button values "<prefix>:<value>" pressed in a chat that has a case go to `handler`."""
    _actions[prefix] = handler


def applicant_action(case_id: int, value: str) -> str | None:
    """Run the handler for a pressed button; None if no app claims the value."""
    prefix, sep, rest = value.partition(":")
    handler = _actions.get(prefix) if sep else None
    return None if handler is None else handler(case_id, rest)


def register_applicant_file_handler(handler: FileHandler) -> None:
    """The documents app fetches, cleans and stores files sent in a chat."""
    if handler not in _file_handlers:
        _file_handlers.append(handler)


def applicant_file(case: Case, channel: str, file_ref: str) -> None:
    for handler in _file_handlers:
        handler(case, channel, file_ref)
