"""Synthetic volunteers for the demo: invented aliases, languages and regions.

Made through the same services as real ones (account with key pair, profile
under its own key, vetting that wraps team keys, activation), so the matcher
and the workload view have a network to work with.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from tropa.accounts.models import Role, Staff
from tropa.accounts.services import staff_create
from tropa.vault import services as vault
from tropa.volunteers.models import VettingStatus, VolunteerProfile
from tropa.volunteers.services import (
    SERVICE_TEAMS,
    ProfileChange,
    away_add,
    profile_create,
    profile_update,
    volunteer_status_set,
    volunteer_vet,
)

ANIMALS = [
    "Badger", "Beaver", "Bison", "Crane", "Egret", "Ermine", "Finch", "Fox", "Gull", "Hare",
    "Ibis", "Jay", "Kestrel", "Lark", "Magpie", "Marmot", "Owl", "Plover", "Raven", "Robin",
    "Sable", "Stork", "Swift", "Teal", "Vole", "Wren",
]  # fmt: skip
REGIONS = ["central", "northwest", "south", "volga", "urals", "siberia_far_east", "war_zone"]


def demo_volunteers_load(
    *, coordinator: Staff, keychain: vault.Keychain, count: int = 24, seed: int = 7
) -> int:
    """`count` active volunteers (a few paused or away) unless profiles exist."""
    if VolunteerProfile.objects.filter(staff__role=Role.CASEWORKER).count() > 6:
        return 0
    rng = random.Random(seed)  # noqa: S311  (synthetic data, not secrets)
    made = 0
    for index in range(count):
        alias = ANIMALS[index % len(ANIMALS)]
        username = f"volunteer-{alias.lower()}"
        if Staff.objects.filter(username=username).exists():
            continue
        staff = staff_create(
            username=username,
            alias=alias,
            role=Role.CASEWORKER,
            password=f"tropa-demo-{username}",
            created_by=coordinator,
        )
        profile = profile_create(staff=staff)
        teams = rng.sample(SERVICE_TEAMS, k=rng.choice([1, 1, 2]))
        profile_fill(profile, keychain=keychain, rng=rng, index=index)
        volunteer_vet(profile=profile, keychain=keychain, teams=teams)
        profile = VolunteerProfile.objects.get(pk=profile.pk)
        if index % 8 == 7:
            volunteer_status_set(profile=profile, status=VettingStatus.PAUSED, by=coordinator)
            continue
        volunteer_status_set(profile=profile, status=VettingStatus.ACTIVE, by=coordinator)
        if index % 9 == 4:
            today = timezone.localdate()
            away_add(profile=profile, starts_on=today, ends_on=today + timedelta(days=10))
        made += 1
    return made


def profile_fill(
    profile: VolunteerProfile, *, keychain: vault.Keychain, rng: random.Random, index: int
) -> None:
    languages = ["ru"] + rng.sample(["en", "uk", "kk", "hy", "de"], k=rng.choice([0, 1, 1, 2]))
    profile_update(
        profile=profile,
        keychain=keychain,
        change=ProfileChange(
            languages=languages,
            regions=rng.sample(REGIONS, k=rng.choice([1, 2, 3])),
            skills=[],
            capacity=rng.choice([2, 3, 3, 4, 5]),
            time_zone=rng.choice(["Europe/Berlin", "Asia/Tbilisi", "Asia/Almaty", "Europe/Riga"]),
            personal={"name": f"Volunteer {index} (synthetic)", "contact": "", "notes": ""},
        ),
    )


def demo_profiles_for_staff(*, keychain: vault.Keychain, coordinator: Staff) -> None:
    """The printed demo caseworkers get active profiles too."""
    rng = random.Random(3)  # noqa: S311
    for index, staff in enumerate(
        Staff.objects.filter(role=Role.CASEWORKER, profile__isnull=True, revoked_at=None)
    ):
        profile = profile_create(staff=staff)
        profile_fill(profile, keychain=keychain, rng=rng, index=100 + index)
        VolunteerProfile.objects.filter(pk=profile.pk).update(
            status=VettingStatus.ACTIVE, vetted_at=timezone.now(), vetted_by=coordinator
        )
