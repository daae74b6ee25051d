"""A verified case with a chat, the synthetic route knowledge, and an evacuation caseworker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Organisation, Persona, keychain_of, make_persona

CHAT = "web-journey-chat"


@dataclass
class Evacuation:
    org: Organisation
    caseworker: Persona
    case: Any


def verified_case(org: Organisation, *, chat: str | None = CHAT, language: str = "en") -> Any:
    from django.utils import timezone

    from tropa.cases.models import Case
    from tropa.cases.services import IntakeKeys, case_seal, service_add
    from tropa.intake.services import conversation_for_chat

    case = case_seal(
        keys=IntakeKeys.load(),
        identity={"name": "Synthetic Traveller"},
        answers=["I need to leave"],
        urgency=80,
        language=language,
        region="volga",
        category="mobilised",
        channel="web",
    )
    Case.objects.filter(pk=case.pk).update(verified_at=timezone.now(), status="in_progress")
    service_add(case=case, kind="evacuation", keychain=keychain_of(org.coordinator))
    if chat:
        conversation = conversation_for_chat(channel="web", chat_id=chat)
        conversation.case = case
        conversation.expires_at = None
        conversation.save()
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def evacuation(org: Organisation) -> Evacuation:
    from tropa.accounts.models import Team
    from tropa.routes.services import knowledge_load_sample
    from tropa.vault import services as vault

    falcon = make_persona("falcon", "Falcon", "caseworker", ["evacuation"])
    vault.team_holder_add(
        team=Team.objects.get(kind="evacuation"),
        staff=falcon.staff,
        by=keychain_of(org.coordinator),
    )
    knowledge_load_sample(keychain=keychain_of(org.coordinator))
    return Evacuation(org=org, caseworker=falcon, case=verified_case(org))
