"""How cases reach the applicant without importing a channel: intake registers
the function that queues a message to the applicant's chat."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tropa.cases.models import Case

_notifier: Callable[[Case, str], None] | None = None


def register_applicant_notifier(notifier: Callable[[Case, str], None]) -> None:
    global _notifier  # noqa: PLW0603  (one process-wide hook, set at start-up)
    _notifier = notifier


def applicant_notify(case: Case, text: str) -> None:
    if _notifier is not None:
        _notifier(case, text)
