from __future__ import annotations

import pytest

from tropa.cases.models import Case
from tropa.cases.services import IntakeKeys, case_append_inbound, case_seal

IDENTITY = {
    "name": "Fyodor Testov",
    "phone": "+7 900 000-00-01",
    "passport_number": "4500 000001",
    "telegram_id": "100000001",
}


@pytest.fixture
def sealed_case(org) -> Case:  # noqa: ANN001
    """A case as intake leaves it: sealed for the coordinators and the recovery key."""
    case = case_seal(
        keys=IntakeKeys.load(),
        identity=dict(IDENTITY),
        answers=["Mobilised in October", "Unit leaves for the front on Friday"],
        category="mobilised",
        urgency=90,
        language="ru",
        region="volga",
        channel="telegram",
    )
    case_append_inbound(case=case, text="Can you help me today?")
    return Case.objects.get(pk=case.pk)
