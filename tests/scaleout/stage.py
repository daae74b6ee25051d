"""What the scale-out test does to the cluster's database outside the channels under test.

Run as a process of its own with the cluster's environment (production settings, the
cluster's PostgreSQL and Redis), as an operator's script would be:

    python -m tests.scaleout.stage seed
    python -m tests.scaleout.stage journey CODENAME LEAD_SECONDS
    python -m tests.scaleout.stage inspect CODENAME...

Each prints one JSON document. `seed` and `journey` arrange (staff, keys, route knowledge,
a verified case on the move); `inspect` reads back what a coordinator would see, with
the coordinator's own keys, plus the job schedule in Redis. Synthetic data only.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from datetime import timedelta
from typing import Any

USERNAME = "scaleout-coordinator"
ALIAS = "Oriole"
PASSWORD = "scale-out synthetic coordinator passphrase"  # noqa: S105  (synthetic)
GRACE_MINUTES = 1


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tropa.settings")
    import django

    django.setup()


def _keychain() -> Any:
    from tropa.accounts.models import Staff
    from tropa.vault import services as vault

    return vault.keychain_unlock(staff=Staff.objects.get(username=USERNAME), password=PASSWORD)


def seed() -> dict[str, Any]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tropa.accounts.services import staff_create, teams_ensure
    from tropa.routes.services import knowledge_load_sample
    from tropa.vault import services as vault

    teams_ensure()
    vault.organisation_key_init()  # the private half is dropped: nobody recovers here
    staff = staff_create(
        username=USERNAME, alias=ALIAS, role="coordinator", password=PASSWORD, teams=[]
    )
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    vault.team_keys_ensure()
    knowledge_load_sample(keychain=_keychain())
    return {"username": USERNAME, "password": PASSWORD, "totp_key": device.key}


def journey(codename: str, lead_seconds: float) -> dict[str, Any]:
    """Verify the case, plan its route and start the journey so that the first
    check-in's alarm falls `lead_seconds` from now (the person left long ago)."""
    from django.utils import timezone

    from tropa.cases.models import Case
    from tropa.cases.services import verification_decide
    from tropa.journeys.models import CheckIn
    from tropa.journeys.services import journey_start
    from tropa.routes.services import plan_create

    keychain = _keychain()
    case = Case.objects.get(codename=codename)
    verification_decide(case=case, keychain=keychain, verified=True, reason="scale-out test")
    Case.objects.filter(pk=case.pk).update(status="in_progress")
    case = Case.objects.get(pk=case.pk)
    route_plan = plan_create(
        case=case,
        keychain=keychain,
        start="north-city",
        documents=["internal_passport"],
        risk_aversion="balanced",
    )
    route_plan.case = case
    first_leg = float(route_plan.body["routes"][0]["legs"][0]["hours"])
    now = timezone.now()
    departed = (
        now
        + timedelta(seconds=lead_seconds)
        - timedelta(minutes=GRACE_MINUTES)
        - timedelta(hours=first_leg)
    )
    started = journey_start(
        route_plan=route_plan,
        keychain=keychain,
        route_index=0,
        departed_at=departed,
        grace_minutes=GRACE_MINUTES,
    )
    check_ins = CheckIn.objects.filter(journey=started).order_by("seq")
    return {
        "case_id": case.pk,
        "check_ins": [row.pk for row in check_ins],
        "alarm_in": (check_ins[0].alarm_at - timezone.now()).total_seconds(),
    }


def inspect(codenames: list[str]) -> dict[str, Any]:
    from huey.contrib.djhuey import HUEY

    from tropa.audit.models import AuditEvent
    from tropa.cases.models import Case
    from tropa.cases.selectors import case_timeline
    from tropa.cases.services import case_open
    from tropa.intake.models import OutboundMessage
    from tropa.journeys.models import CheckIn

    keychain = _keychain()
    cases = {}
    for codename in codenames:
        case = case_open(case=Case.objects.get(codename=codename), keychain=keychain)
        outbound = OutboundMessage.objects.filter(conversation__case=case)
        cases[codename] = {
            "id": case.pk,
            "timeline": [[entry.kind, entry.body] for entry in case_timeline(case)],
            "audit": dict(
                Counter(AuditEvent.objects.filter(case_id=case.pk).values_list("action", flat=True))
            ),
            "outbound": dict(Counter(outbound.values_list("status", flat=True))),
            "check_ins": [
                {
                    "id": row.pk,
                    "seq": row.seq,
                    "done": row.done_at is not None,
                    "missed": row.missed_at is not None,
                    "escalated": row.escalated_at is not None,
                }
                for row in CheckIn.objects.filter(journey__case=case).order_by("seq")
            ],
        }
    scheduled = [[task.name, list(task.args)] for task in HUEY.scheduled()]
    pending = [[task.name, list(task.args)] for task in HUEY.pending()]
    return {"cases": cases, "scheduled": scheduled, "pending": pending}


def main(argv: list[str]) -> int:
    _setup()
    command, args = argv[0], argv[1:]
    if command == "seed":
        result = seed()
    elif command == "journey":
        result = journey(args[0], float(args[1]))
    elif command == "inspect":
        result = inspect(args)
    else:
        raise SystemExit(f"unknown command {command}")
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
