"""A small volunteer network on top of the personas: cases waiting for services."""

from __future__ import annotations

from typing import Any

from tests.conftest import Organisation, Persona, keychain_of


def sealed_case(*, language: str = "ru", region: str = "volga", urgency: int = 50) -> Any:
    from tropa.cases.services import IntakeKeys, case_seal

    return case_seal(
        keys=IntakeKeys.load(),
        identity={"name": "Synthetic Applicant"},
        answers=["hello"],
        urgency=urgency,
        language=language,
        region=region,
        category="summons",
        channel="web",
    )


def waiting_service(org: Organisation, kind: str = "legal", **case: Any) -> Any:
    from tropa.cases.services import service_add

    return service_add(case=sealed_case(**case), kind=kind, keychain=keychain_of(org.coordinator))


def active_volunteer(
    org: Organisation,
    persona: Persona,
    *,
    languages: list[str] | None = None,
    regions: list[str] | None = None,
    capacity: int = 3,
) -> Any:
    """A profile for an existing persona, already in its teams, made active."""
    from tropa.volunteers.models import VettingStatus, VolunteerProfile
    from tropa.volunteers.services import ProfileChange, profile_create, profile_update

    profile = profile_create(staff=persona.staff)
    profile_update(
        profile=profile,
        keychain=keychain_of(org.coordinator),
        change=ProfileChange(
            languages=languages or ["ru"],
            regions=regions or [],
            skills=[],
            capacity=capacity,
            time_zone="UTC",
            personal={"name": f"Real name of {persona.staff.alias}"},
        ),
    )
    VolunteerProfile.objects.filter(pk=profile.pk).update(status=VettingStatus.ACTIVE)
    return VolunteerProfile.objects.get(pk=profile.pk)
