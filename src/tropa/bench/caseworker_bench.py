"""Caseworker benchmarks: P4 (the queue at 100,000 cases, 400 staff) and P5 (opening a case file).

What is real and what is bulk:

- One case is sealed through the real services (`case_seal`, `case_append_inbound`,
  `relay_reply`, `case_note_add`, `case_assign`): ~30 identity fields and 200
  timeline entries. P5 opens it.
- The other cases are inserted with `bulk_create`. The queue reads only clear
  metadata, so they get realistic, varied metadata and copies of the real
  case's ciphertext (bound to the real case's uid, so it opens nowhere else).
  Each gets the wraps a sealed case has (coordinators' team, recovery key);
  some are assigned to a service team, ~250 (with the real case) to legal.
- Three staff are real (`staff_create`, confirmed TOTP device, key pairs): a
  coordinator, a caseworker in legal, a caseworker in visa. The others are
  bulk rows with unusable passwords and team memberships.

Requests go through django.test.Client with a signed-in, OTP-verified session
whose vault half sits in the session and whose key half sits in the cookie,
exactly as after a real login. Each figure is a p95 of server time, measured
interleaved with the p95 of the login page (anonymous, same process, same
middleware stack) as the same-run reference.
"""

from __future__ import annotations

import base64
import random
import secrets
import statistics
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from unittest import mock

from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tropa.bench.runner import Result, verdict

TARGET_MS = 50.0
BATCH = 5_000
WARMUP = 5
PASSWORD = secrets.token_urlsafe(24)  # the bench staff never log in by hand
CASEWORKER_CASES = 250
IDENTITY_FIELDS = 30
TIMELINE_ENTRIES = 200
REFERENCE_PATH = "/accounts/login/"
REFERENCE_WHAT = f"GET {REFERENCE_PATH} p95, same client and stack"

# Workflow mix of a queue two months into a busy period (weights).
STATUS_MIX = {
    "new": 8,
    "triage": 10,
    "verification": 8,
    "in_progress": 16,
    "on_the_move": 5,
    "safe": 6,
    "hidden": 4,
    "legal": 3,
    "lost_contact": 4,
    "closed": 36,
}
VERIFIED_STATUSES = {"in_progress", "on_the_move", "safe", "hidden", "legal"}
SERVICE_TEAMS = ("psychological", "evacuation", "documents", "visa")


@dataclass(frozen=True)
class _Person:
    staff: Any
    device: Any
    keychain: Any


@dataclass(frozen=True)
class _Org:
    coordinator: _Person
    caseworker: _Person
    teams: dict[str, Any]


def _console() -> Console:
    return Console(stderr=True)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


# ------------------------------------------------------------------- staff


def _organisation_ready() -> None:
    from tropa.accounts.services import teams_ensure
    from tropa.vault import services as vault
    from tropa.vault.models import OrganisationKey

    teams_ensure()
    if not OrganisationKey.objects.filter(pk=1).exists():
        vault.organisation_key_init()  # the private half is not needed by the bench


def _team_keys_ready() -> None:
    """Team keys that the staff created here hold.

    `bench.main._prepare` makes the team keys before any staff exists and drops
    the recovery private half, so nobody can ever open those keys and no one
    can be made a holder. On such a throwaway database, keys without a single
    staff holder are replaced by fresh ones wrapped for the current holders.
    """
    from tropa.vault import services as vault
    from tropa.vault.models import TeamKey

    TeamKey.objects.exclude(wraps__staff__isnull=False).delete()
    vault.team_keys_ensure()


def _real_person(username: str, alias: str, role: str, teams: list[str]) -> tuple[Any, Any]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tropa.accounts.services import staff_create

    staff = staff_create(username=username, alias=alias, role=role, password=PASSWORD, teams=teams)
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    return staff, device


def _staff_create(count: int, rng: random.Random, console: Console) -> _Org:
    from django.contrib.auth.hashers import make_password

    from tropa.accounts.models import Role, Staff, Team
    from tropa.vault import services as vault

    _organisation_ready()
    coordinator = _real_person("bench-coordinator", "Bench Oriole", Role.COORDINATOR, [])
    caseworker = _real_person("bench-caseworker", "Bench Lynx", Role.CASEWORKER, ["legal"])
    _real_person("bench-caseworker-visa", "Bench Marten", Role.CASEWORKER, ["visa"])
    _team_keys_ready()

    unusable = make_password(None)  # one value for all: no 397 hashing runs
    Staff.objects.bulk_create(
        [
            Staff(
                username=f"bench-volunteer-{n:04d}",
                alias=f"Volunteer {n:04d}",
                role=Role.COORDINATOR if n % 25 == 0 else Role.CASEWORKER,
                password=unusable,
            )
            for n in range(count - 3)
        ],
        batch_size=BATCH,
    )
    teams = {team.kind: team for team in Team.objects.all()}
    service = [team for kind, team in teams.items() if kind != "coordinators"]
    volunteers = Staff.objects.filter(username__startswith="bench-volunteer-")
    Staff.teams.through.objects.bulk_create(
        [
            Staff.teams.through(staff_id=pk, team_id=team.pk)
            for pk in volunteers.values_list("pk", flat=True)
            for team in rng.sample(service, rng.choice((1, 1, 1, 2)))
        ],
        batch_size=BATCH,
    )
    console.print(f"bench: {Staff.objects.count():,} staff (3 with keys and TOTP)")

    def unlocked(pair: tuple[Any, Any]) -> _Person:
        staff, device = pair
        return _Person(staff, device, vault.keychain_unlock(staff=staff, password=PASSWORD))

    return _Org(unlocked(coordinator), unlocked(caseworker), teams)


# ------------------------------------------------------------- the case file


def _identity() -> dict[str, str]:
    fields = {
        "name": "Pavel Obraztsov (synthetic)",
        "name_latin": "Pavel Obraztsov",
        "birth_date": "1994-03-17",
        "birth_place": "Kazan",
        "phone": "+7 900 555-01-02",
        "telegram_id": "812345678",
        "telegram_username": "@synthetic_person",
        "email": "synthetic@example.org",
        "passport_number": "9204 123456",
        "passport_issued": "2014-04-02",
        "passport_authority": "Department of Internal Affairs (synthetic)",
        "foreign_passport_number": "75 1234567",
        "foreign_passport_expiry": "2029-08-30",
        "military_id": "AB 1234567",
        "military_registration_office": "District office No. 3 (synthetic)",
        "military_specialty": "driver",
        "rank": "private",
        "unit": "military unit 00000 (synthetic)",
        "registered_address": "Synthetic street 1, flat 2",
        "current_address": "near the station",
        "region_detail": "a village two hours from the city",
        "family": "wife, one child",
        "emergency_contact": "+7 900 555-03-04 (sister)",
        "health": "knee injury in 2023",
        "documents_held": "internal passport, foreign passport",
        "summons_date": "2025-10-01",
        "contract_signed": "no",
        "languages": "ru, tt, some en",
        "preferred_contact": "telegram, evenings",
        "notes": "asked not to be called at work",
    }
    return fields


def _case_file(org: _Org, console: Console) -> Any:
    """The case P5 opens, made and filled through the real services."""
    from tropa.cases.services import (
        IntakeKeys,
        case_append_inbound,
        case_assign,
        case_note_add,
        case_seal,
    )
    from tropa.intake.services import relay_reply

    answers = [
        "Mobilised",
        "Within days",
        "Internal passport and foreign passport",
        "Legal help",
        "I received the summons at work and the hearing is next week. " * 4,
        "Central region",
        "Telegram",
        "Evenings",
        "No",
        "My wife knows that I am writing to you.",
    ]
    case = case_seal(
        keys=IntakeKeys.load(),
        identity=_identity(),
        answers=answers,
        category="mobilised",
        urgency=85,
        language="ru",
        region="central",
        channel="telegram",
    )
    case_assign(case=case, keychain=org.coordinator.keychain, team=org.teams["legal"])
    keychain = org.caseworker.keychain
    remaining = TIMELINE_ENTRIES - case.entries.count()  # answers, and any the services added
    for n in range(remaining):
        if n % 19 in (0, 7, 13, 17):  # about one in five: an internal note
            case_note_add(case=case, keychain=keychain, text=f"Note {n}: called back, see above.")
        elif n % 19 in (2, 5, 9, 11, 15):  # about a quarter: a reply to the applicant
            with transaction.atomic():  # it locks the conversation row
                relay_reply(case=case, keychain=keychain, text=f"Reply {n}: we are on it.")
        else:  # the rest: the applicant writes, sealed to the case public key like intake
            case_append_inbound(case=case, text=f"Message {n}: they came to my flat again today.")
    console.print(
        f"bench: case file {case.codename}: {IDENTITY_FIELDS} identity fields, "
        f"{case.entries.count()} timeline entries"
    )
    return case


# ----------------------------------------------------------------- bulk rows


def _bulk_cases(count: int, template: Any, rng: random.Random) -> Iterator[list[Any]]:
    """Batches of unsaved cases with varied metadata and the template's ciphertext."""
    from tropa.cases.demo_data import CATEGORIES, REGIONS
    from tropa.cases.models import Case
    from tropa.vault.fields import Ciphertext

    identity, private_key, public_key = (
        Case.objects.filter(pk=template.pk).values_list("identity", "private_key", "public_key")
    ).get()
    identity, private_key, public_key = (
        Ciphertext(bytes(identity)),
        Ciphertext(bytes(private_key)),
        bytes(public_key),
    )
    statuses, weights = list(STATUS_MIX), list(STATUS_MIX.values())
    now = timezone.now()
    sla = timedelta(minutes=settings.CASE_FIRST_REPLY_SLA_MINUTES)
    batch = []
    for n in range(count):
        status = rng.choices(statuses, weights)[0]
        category, base = rng.choice(CATEGORIES)
        created = now - timedelta(seconds=rng.uniform(0, 60 * 86_400))
        age = now - created
        replied = None
        if status != "new" or rng.random() < 0.3:
            replied = created + min(age, sla * rng.uniform(0.05, 2.5))
        verified = status in VERIFIED_STATUSES or (status == "closed" and rng.random() < 0.5)
        case = Case(
            uid=uuid.uuid4(),
            codename=f"Bench-{n:06d}",
            status=status,
            category=category,
            urgency=max(0, min(100, base + rng.randint(-20, 15))),
            language=rng.choices(("ru", "en", "uk", "ky", "tt"), (70, 10, 8, 6, 6))[0],
            region=rng.choice(REGIONS),
            channel=rng.choices(("telegram", "web"), (80, 20))[0],
            created_at=created,
            closed_at=created + age * rng.uniform(0.2, 1) if status == "closed" else None,
            outcome=rng.choice(("safe", "legal", "declined", "lost_contact"))
            if status == "closed"
            else "",
            compromised_at=created + age * rng.random() if rng.random() < 0.01 else None,
            verified_at=created + age * rng.uniform(0.05, 0.3) if verified else None,
            first_reply_at=replied,
            last_inbound_at=created + age * rng.random() if rng.random() < 0.7 else None,
            public_key=public_key,
            private_key=private_key,
            identity=identity,
        )
        if case.compromised_at:
            case.compromised_reason = rng.choice(("duress_pin", "duplicate_documents"))
        batch.append(case)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _populate(count: int, template: Any, org: _Org, rng: random.Random, console: Console) -> None:
    from tropa.cases.models import Case
    from tropa.vault.models import CaseKeyWrap

    wraps = {
        (row.team_id, row.staff_id): bytes(row.wrapped)
        for row in CaseKeyWrap.objects.filter(case=template)
    }
    legal, coordinators = org.teams["legal"], org.teams["coordinators"]
    sealed_for = {
        coordinators.pk: wraps[(coordinators.pk, None)],
        None: wraps[(None, None)],  # the recovery key
    }
    legal_wrap = wraps[(legal.pk, None)]
    others = [org.teams[kind] for kind in SERVICE_TEAMS]
    created_at = Case._meta.get_field("created_at")
    with _progress(console) as progress:
        task = progress.add_task(f"bench: {count:,} queue rows", total=count)
        # auto_now_add would stamp every row "now"; the queue needs 60 days of history.
        with mock.patch.object(created_at, "auto_now_add", False):
            for batch in _bulk_cases(count, template, rng):
                with transaction.atomic():
                    Case.objects.bulk_create(batch)
                progress.advance(task, len(batch))
        ids = list(
            Case.objects.filter(codename__startswith="Bench-")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        legal_ids = set(rng.sample(ids, min(len(ids), CASEWORKER_CASES - 1)))
        task = progress.add_task("bench: key wraps", total=len(ids))
        for start in range(0, len(ids), BATCH):
            rows = []
            for case_id in ids[start : start + BATCH]:
                rows += [
                    CaseKeyWrap(case_id=case_id, team_id=team_id, wrapped=blob)
                    for team_id, blob in sealed_for.items()
                ]
                if case_id in legal_ids:
                    rows.append(
                        CaseKeyWrap(
                            case_id=case_id,
                            team_id=legal.pk,
                            wrapped=legal_wrap,
                            assigned_by=org.coordinator.staff,
                        )
                    )
                elif rng.random() < 0.3:
                    rows.append(
                        CaseKeyWrap(
                            case_id=case_id,
                            team_id=rng.choice(others).pk,
                            wrapped=legal_wrap,
                            assigned_by=org.coordinator.staff,
                        )
                    )
            with transaction.atomic():
                CaseKeyWrap.objects.bulk_create(rows)
            progress.advance(task, len(ids[start : start + BATCH]))
    if connection.vendor == "postgresql":
        # A live database has had autovacuum through it (statistics, visibility
        # map for index-only scans); a fresh bulk load has not. VACUUM cannot run
        # inside a transaction (as in a test), where ANALYZE is what can be done.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")


# ------------------------------------------------------------------ requests


def _signed_in(person: _Person) -> Client:
    """A session as after the real two-step login: OTP-verified, vault split in two."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from tropa.accounts.services import session_register
    from tropa.vault import crypto
    from tropa.vault.session import SESSION_BLOB

    client = Client()
    client.force_login(person.staff)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = person.device.persistent_id
    session_key = crypto.session_key_generate()
    blob = crypto.session_protect(
        session_key, person.keychain.private_key, session_id=f"staff:{person.staff.pk}"
    )
    session[SESSION_BLOB] = base64.b64encode(blob).decode()
    session.save()
    client.cookies[settings.VAULT_COOKIE_NAME] = base64.urlsafe_b64encode(session_key).decode()
    session_register(staff=person.staff, session_key=session.session_key)
    return client


def _get(client: Client, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path, secure=True)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}, not 200")
    return elapsed


def _p95_ms(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[18] * 1000


def _measure(client: Client, path: str, requests: int) -> tuple[float, float]:
    """p95 (ms) of `path` and of the reference page, interleaved request by request."""
    anonymous = Client()
    for _ in range(WARMUP):
        _get(anonymous, REFERENCE_PATH)
        _get(client, path)
    values, references = [], []
    for _ in range(requests):
        references.append(_get(anonymous, REFERENCE_PATH))
        values.append(_get(client, path))
    return _p95_ms(values), _p95_ms(references)


def _result(id_: str, what: str, value: float, reference: float) -> Result:
    return Result(
        id_,
        what,
        value,
        "ms",
        reference,
        REFERENCE_WHAT,
        value / reference,
        f"p95 < {TARGET_MS:.0f} ms",
        verdict(value < TARGET_MS),
    )


def bench_p4_p5(*, cases: int, staff: int, requests: int) -> list[Result]:
    """P4 (queue as coordinator and as caseworker) and P5 (open the real case file)."""
    from tropa.cases import selectors
    from tropa.cases.models import Case

    if cases < CASEWORKER_CASES or staff < 3 or requests < 2:
        raise ValueError(f"need cases >= {CASEWORKER_CASES}, staff >= 3, requests >= 2")
    console = _console()
    rng = random.Random(2026)  # noqa: S311  (synthetic data, not secrets)
    start = time.perf_counter()
    org = _staff_create(staff, rng, console)
    case_file = _case_file(org, console)
    _populate(cases - 1, case_file, org, rng, console)
    console.print(f"bench: populated in {time.perf_counter() - start:,.1f} s")

    visible = selectors.cases_visible_to(org.caseworker.keychain).count()
    in_queue = selectors.queue(
        staff=org.coordinator.staff,
        keychain=org.coordinator.keychain,
        filters=selectors.QueueFilters(),
    ).count()
    total = Case.objects.count()
    vendor = connection.vendor
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    with override_settings(ALLOWED_HOSTS=hosts):
        coordinator = _signed_in(org.coordinator)
        caseworker = _signed_in(org.caseworker)
        p4, p4_ref = _measure(coordinator, "/cases/", requests)
        p4c, p4c_ref = _measure(caseworker, "/cases/", requests)
        p5, p5_ref = _measure(caseworker, f"/cases/{case_file.pk}/", requests)
    return [
        _result(
            "P4",
            f"queue GET /cases/ as coordinator ({total:,} cases, {in_queue:,} in the queue, "
            f"{staff} staff, {vendor})",
            p4,
            p4_ref,
        ),
        _result(
            "P4-caseworker",
            f"queue GET /cases/ as caseworker via team ({visible} of {total:,} cases, {vendor})",
            p4c,
            p4c_ref,
        ),
        _result(
            "P5",
            f"open case file GET /cases/<id>/ ({IDENTITY_FIELDS} identity fields, "
            f"{TIMELINE_ENTRIES} timeline entries, {vendor})",
            p5,
            p5_ref,
        ),
    ]
