"""Synthetic demo cases: invented people, sealed through the intake path."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from tropa.accounts.models import Team
from tropa.cases import workflow
from tropa.cases.models import Case, Outcome, Status
from tropa.cases.services import (
    IntakeKeys,
    case_append_inbound,
    case_assign,
    case_seal,
    service_add,
)
from tropa.vault import services as vault

CATEGORIES = [
    ("not_called_up", 20),
    ("summons", 50),
    ("conscript", 60),
    ("mobilised", 85),
    ("contract_before", 70),
    ("contract_after", 75),
    ("wounded", 80),
    ("awol", 90),
    ("prison_recruit", 85),
    ("foreign_contract", 80),
]
# The intake flow's coarse regions (flows/default.yaml).
REGIONS = ["central", "northwest", "south", "volga", "urals", "siberia_far_east", "war_zone"]
FIRST = ["Ivan", "Pavel", "Sergei", "Artem", "Denis", "Oleg", "Maxim", "Nikita", "Roman", "Ilya"]
LAST = ["Testov", "Primerov", "Demov", "Obraztsov", "Vymyslov"]
STORIES = [
    "Received a summons at work, the hearing is next week.",
    "My unit is being sent to the front within days.",
    "I am in hospital after being wounded and they want me back.",
    "I signed a contract before the invasion and want to leave.",
]


def demo_cases_load(*, assigner: vault.Keychain | None, count: int = 36, seed: int = 2026) -> int:
    """Create `count` cases unless cases exist; returns how many were made.

    With a coordinator's keychain, every third case is assigned to a team so
    that the demo caseworkers have something to open.
    """
    if Case.objects.exists():
        return 0
    rng = random.Random(seed)  # noqa: S311  (synthetic data, not secrets)
    keys = IntakeKeys.load()
    statuses = list(Status)
    for n in range(count):
        category, urgency = rng.choice(CATEGORIES)
        case = case_seal(
            keys=keys,
            identity={
                "name": f"{rng.choice(FIRST)} {rng.choice(LAST)} (synthetic)",
                "phone": f"+7 900 {n:03d}-00-00",
                "telegram_id": str(900_000_000 + n),
            },
            answers=[rng.choice(STORIES)],
            category=category,
            urgency=min(100, urgency + rng.randint(-10, 10)),
            language=rng.choice(["ru", "ru", "en"]),
            region=rng.choice(REGIONS),
            channel=rng.choice(["telegram", "web"]),
        )
        case_append_inbound(case=case, text="Hello, is anyone there?")
        status = statuses[n % len(statuses)]
        closed = status == Status.CLOSED
        Case.objects.filter(pk=case.pk).update(
            status=status,
            outcome=rng.choice(Outcome.values) if closed else "",
            closed_at=timezone.now() - timedelta(days=rng.randint(1, 60)) if closed else None,
        )
    if assigner is not None:
        teams = list(Team.objects.exclude(kind="coordinators"))
        for index, case in enumerate(Case.objects.order_by("pk")[: count // 3]):
            case_assign(case=case, keychain=assigner, team=teams[index % len(teams)])
        # Open cases ask for a service, which waits for the matcher to find a volunteer.
        kinds = ["evacuation", "evacuation", "legal", "legal", "psychological", "documents", "visa"]
        for case in Case.objects.filter(status__in=[s.value for s in workflow.OPEN]):
            for kind in set(rng.sample(kinds, k=rng.choice([1, 1, 2]))):
                service_add(case=case, kind=kind, keychain=assigner)
        # Cases in progress were verified and need evacuation: routes can be planned for them.
        for case in Case.objects.filter(status=Status.IN_PROGRESS):
            Case.objects.filter(pk=case.pk).update(verified_at=timezone.now())
            service_add(case=case, kind="evacuation", keychain=assigner)
    return count


def demo_history_load(*, count: int = 900, days: int = 200, seed: int = 2027) -> int:
    """Earlier, mostly closed synthetic cases spread over `days`, so the statistics
    have something to count (unless history exists). Metadata only: each has an
    invented identity like the others, sealed the same way."""
    from tropa.cases.workflow import OPEN

    if Case.objects.filter(created_at__lt=timezone.now() - timedelta(days=14)).exists():
        return 0
    rng = random.Random(seed)  # noqa: S311  (synthetic data, not secrets)
    keys = IntakeKeys.load()
    now = timezone.now()
    open_states = [state.value for state in OPEN]
    weights = [18, 10, 16, 22, 6, 12, 8, 8]  # outcomes, in Outcome's order
    for n in range(count):
        category, urgency = rng.choice(CATEGORIES)
        case = case_seal(
            keys=keys,
            identity={"name": f"History {n} (synthetic)"},
            answers=[rng.choice(STORIES)],
            category=category,
            urgency=urgency,
            language=rng.choice(["ru", "ru", "ru", "en"]),
            region=rng.choice(REGIONS),
            channel=rng.choice(["telegram", "telegram", "web"]),
        )
        created = now - timedelta(days=rng.uniform(1, days))
        replied = created + timedelta(hours=rng.expovariate(1 / 6))
        closed = created + timedelta(days=rng.uniform(3, 90))
        still_open = closed > now
        Case.objects.filter(pk=case.pk).update(
            created_at=created,
            first_reply_at=replied if replied < now else None,
            status=rng.choice(open_states) if still_open else Status.CLOSED,
            closed_at=None if still_open else closed,
            outcome="" if still_open else rng.choices(Outcome.values, weights=weights)[0],
        )
    return count
