"""The one place Django meets the pure intake engine: which flow, which clock, which ids."""

from __future__ import annotations

import functools
from datetime import datetime

from django.utils import timezone

from tropa.cases.codenames import codename_generate
from tropa.cases.models import Case
from tropa.intake import flows


class DjangoClock:
    def now(self) -> datetime:
        return timezone.now()


class CaseCodenames:
    """Codenames not yet used by any case (the applicant hears it before the case exists)."""

    def codename(self) -> str:
        for attempt in range(25):
            name = codename_generate(attempt=attempt)
            if not Case.objects.filter(codename=name).exists():
                return name
        raise RuntimeError("no free codename")


@functools.cache
def engine() -> flows.Engine:
    """Built once per process: building checks the flow and prepares every prompt."""
    return flows.Engine(flows.default_flow(), clock=DjangoClock(), ids=CaseCodenames())
