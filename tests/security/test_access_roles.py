"""S2 for every role: each URL pattern (the classification of test_access_matrix),
GET and POST, for each role, against objects inside and outside that role's
assignment, checked against the table below; then the same compartments with
the database and each person's password, without the web application.

The world: case IN needs the evacuation and visa services (both teams hold its
key), Heron holds the visa service (and so a wrap of his own); case OUT needs
only the psychological service, held by Dora. Both have a document, an
application, a route plan, a journey with check-ins. Every request runs in a
savepoint that is rolled back, so each one meets the same world and its effect
on the data is measured alone.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from enum import Enum
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from PIL import Image

from tests.conftest import Organisation, Persona, keychain_of, make_persona, sign_in
from tests.security.test_access_matrix import PUBLIC, _routes, _url

# The outsider sweep's body (a valid note or reply), plus what makes a flag and a
# document's kind valid too, so that more POSTs would write if they got through.
PAYLOAD = {"text": "x", "status": "active", "confirm": "on", "kind": "other"}


class Gate(Enum):
    """What lets a person through to a page."""

    SIGNED_IN = "any signed-in staff member"
    PROFILE = "a staff member with a volunteer profile (their own)"
    COORDINATOR = "coordinators"
    ROUTES = "coordinators and the evacuation team"
    SELF = "the profile's owner or a coordinator"
    CASE = "whoever holds the case key (directly or through a team)"
    CASE_VISA = "holds the case key and is a coordinator or in the visa team"
    CASE_EVACUATION = "holds the case key and is a coordinator or in the evacuation team"


@dataclass(frozen=True)
class Rule:
    """What a person let through gets: status for GET and for POST (PAYLOAD),
    and whether that POST changes data. GET never changes data."""

    gate: Gate
    get: int
    post: int
    post_writes: bool = False


# ------------------------------------------------------------------ the table
# Everyone not let through gets 404 (no hint the object exists), or 405 for a
# GET on a POST-only view (the same for every id); anonymous visitors and
# revoked accounts are sent to the login page. A caseworker of a team that
# holds a case reads it without being assigned in person: S2 gives access
# "directly or through its team".
RULES: dict[str, Rule] = {
    "accounts:home": Rule(Gate.SIGNED_IN, 200, 200),
    "accounts:staff_list": Rule(Gate.SIGNED_IN, 302, 302),  # to the directory
    "cases:list": Rule(Gate.SIGNED_IN, 200, 200),
    "cases:quick_replies": Rule(Gate.COORDINATOR, 200, 200),  # form refused, nothing saved
    "cases:detail": Rule(Gate.CASE, 200, 200),
    "cases:reply": Rule(Gate.CASE, 405, 302, post_writes=True),
    "cases:note": Rule(Gate.CASE, 405, 302, post_writes=True),
    "cases:status": Rule(Gate.CASE, 405, 302),  # no target: refused
    "cases:verification": Rule(Gate.CASE, 405, 302, post_writes=True),
    "cases:decision": Rule(Gate.CASE, 405, 302),
    "cases:flag": Rule(Gate.CASE, 405, 302, post_writes=True),  # flagged as compromised
    "cases:service_add": Rule(Gate.CASE, 405, 302),
    "cases:service_update": Rule(Gate.CASE, 405, 302),
    "cases:session": Rule(Gate.CASE, 405, 302),
    "documents:case": Rule(Gate.CASE, 200, 200),
    "documents:upload": Rule(Gate.CASE, 405, 302),  # no file
    "documents:image": Rule(Gate.CASE, 200, 200),
    "documents:mrz": Rule(Gate.CASE, 405, 302),  # "x" is no MRZ
    "documents:kind": Rule(Gate.CASE, 405, 302, post_writes=True),
    "applications:case": Rule(Gate.CASE_VISA, 200, 200),
    "applications:add": Rule(Gate.CASE_VISA, 405, 302),
    "applications:update": Rule(Gate.CASE_VISA, 405, 302),
    "journeys:case": Rule(Gate.CASE_EVACUATION, 200, 200),  # no start place: nothing planned
    "journeys:plan": Rule(Gate.CASE_EVACUATION, 200, 200),
    "journeys:start": Rule(Gate.CASE_EVACUATION, 405, 302),
    "journeys:switch": Rule(Gate.CASE_EVACUATION, 405, 302),
    "journeys:end": Rule(Gate.CASE_EVACUATION, 405, 302, post_writes=True),
    "journeys:acknowledge": Rule(Gate.CASE_EVACUATION, 405, 302, post_writes=True),
    "routes:knowledge": Rule(Gate.ROUTES, 200, 200),
    "routes:edit": Rule(Gate.ROUTES, 200, 400),
    "routes:export": Rule(Gate.ROUTES, 200, 200),
    "routes:reassess": Rule(Gate.ROUTES, 405, 302),
    "matching:home": Rule(Gate.COORDINATOR, 200, 302, post_writes=True),  # runs the matcher
    "matching:proposal": Rule(Gate.COORDINATOR, 200, 200),
    "matching:accept": Rule(Gate.COORDINATOR, 405, 302, post_writes=True),
    "reports:dashboard": Rule(Gate.COORDINATOR, 200, 200),
    "reports:public": Rule(Gate.COORDINATOR, 200, 200),
    "volunteers:directory": Rule(Gate.COORDINATOR, 200, 200),
    "volunteers:invite": Rule(Gate.COORDINATOR, 200, 400),
    "volunteers:me": Rule(Gate.PROFILE, 200, 400),
    "volunteers:workload": Rule(Gate.COORDINATOR, 200, 200),
    "volunteers:profile": Rule(Gate.COORDINATOR, 200, 400),
    "volunteers:away_add": Rule(Gate.SELF, 405, 302),  # no dates
    "volunteers:away_remove": Rule(Gate.SELF, 405, 302, post_writes=True),
    "volunteers:vet": Rule(Gate.COORDINATOR, 405, 302),  # no teams
    "volunteers:status": Rule(Gate.COORDINATOR, 405, 302),  # active already
    "volunteers:revoke": Rule(Gate.COORDINATOR, 405, 302, post_writes=True),
}

# URL parameters naming something inside a case or a profile: in the "mixed"
# object they belong to a different case (or person) than the one in the URL.
SUB_OBJECTS = {"document_id", "application_id", "plan_id", "journey_id", "check_in_id", "away_id"}


class Place(Enum):
    INSIDE = "inside"  # case IN, the person's own profile
    OUTSIDE = "outside"  # case OUT, Dora's profile
    MIXED = "mixed"  # case IN (or own profile) in the URL, OUT's (Dora's) object after it


@dataclass(frozen=True)
class Role:
    name: str
    coordinator: bool = False
    teams: frozenset[str] = frozenset()
    holds_in: bool = False  # a wrap of case IN reaches them
    has_profile: bool = False
    signed_in: bool = True  # False: anonymous, or a revoked account's dead session


ROLES = [
    Role("coordinator", coordinator=True, holds_in=True),
    Role("assigned", teams=frozenset({"evacuation", "visa"}), holds_in=True, has_profile=True),
    Role("team_member", teams=frozenset({"evacuation", "visa"}), holds_in=True, has_profile=True),
    Role("other_team", teams=frozenset({"legal"}), has_profile=True),
    Role("unvetted", has_profile=True),
    Role("revoked", signed_in=False),
    Role("anonymous", signed_in=False),
]


def _opens_case_in(place: Place, params: set[str]) -> bool:
    """Whether the case this URL opens is IN: the case id's case, or for a URL
    with only a document id, the document's (OUT's in MIXED)."""
    if "case_id" in params:
        return place is not Place.OUTSIDE
    return place is Place.INSIDE


def _let_through(role: Role, rule: Rule, place: Place, params: set[str]) -> bool:
    """The table's reading of each gate for this role and object."""
    # The coordinators' team key opens every case; anyone else holds only IN.
    holds = role.coordinator or (role.holds_in and _opens_case_in(place, params))
    return {
        Gate.SIGNED_IN: True,
        Gate.PROFILE: role.has_profile,
        Gate.COORDINATOR: role.coordinator,
        Gate.ROUTES: role.coordinator or "evacuation" in role.teams,
        Gate.SELF: role.coordinator or (role.has_profile and place is not Place.OUTSIDE),
        Gate.CASE: holds,
        Gate.CASE_VISA: holds and (role.coordinator or "visa" in role.teams),
        Gate.CASE_EVACUATION: holds and (role.coordinator or "evacuation" in role.teams),
    }[rule.gate]


@dataclass(frozen=True)
class Expected:
    status: int
    writes: bool = False
    location: str | None = None  # a prefix of the redirect target, when it matters


def expected(role: Role, name: str, params: set[str], method: str, place: Place) -> Expected:
    rule = RULES[name]
    post_only = rule.get == 405
    if method == "get" and post_only:
        return Expected(405)
    if not role.signed_in:
        if name == "accounts:staff_list":
            return Expected(302, location="/volunteers/")
        return Expected(302, location="/accounts/login/")
    if not _let_through(role, rule, place, params):
        return Expected(404)
    mismatched = place is Place.MIXED and "case_id" in params and params & SUB_OBJECTS
    if mismatched:
        return Expected(404)  # OUT's object under IN's case id: no such thing here
    if place is Place.MIXED and name == "volunteers:away_remove":
        return Expected(302)  # someone else's away period under one's own id: untouched
    if method == "get":
        return Expected(rule.get)
    return Expected(rule.post, writes=rule.post_writes)


# ------------------------------------------------------------------ the world


@dataclass
class World:
    org: Organisation
    people: dict[str, Persona | None]  # role name → persona (None: anonymous)
    clients: dict[str, Client] = field(default_factory=dict)
    values: dict[Place, dict[str, dict[str, str]]] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)
    stolen: Any = None  # what the revoked account could have copied before revocation
    # case ("in"/"out") → what would show it: its codename, the applicant's name
    markers: dict[str, list[str]] = field(default_factory=dict)


def _caseworker(org: Organisation, username: str, alias: str, teams: list[str]) -> Persona:
    from tropa.accounts.models import Team
    from tropa.accounts.services import staff_team_add

    persona = make_persona(username, alias, "caseworker", [])
    coordinator = keychain_of(org.coordinator)
    for kind in teams:
        staff_team_add(staff=persona.staff, team=Team.objects.get(kind=kind), keychain=coordinator)
    return persona


def _case(org: Organisation, *, service: str, chat: str) -> Any:
    """A verified case with a web chat, needing one service."""
    from tropa.cases.models import Case
    from tropa.cases.services import IntakeKeys, case_seal, service_add
    from tropa.intake.services import conversation_for_chat

    case = case_seal(
        keys=IntakeKeys.load(),
        identity={"name": f"Synthetic Applicant {chat}"},
        answers=["I need help"],
        urgency=70,
        language="en",
        region="volga",
        category="mobilised",
        channel="web",
    )
    Case.objects.filter(pk=case.pk).update(verified_at=timezone.now(), status="in_progress")
    service_add(case=case, kind=service, keychain=keychain_of(org.coordinator))
    conversation = conversation_for_chat(channel="web", chat_id=chat)
    conversation.case = case
    conversation.expires_at = None
    conversation.save()
    return Case.objects.get(pk=case.pk)


def _furnish(case: Any, *, keychain: Any) -> dict[str, str]:
    """A document, an application, a plan and a journey in the case."""
    from tropa.applications.services import application_add
    from tropa.documents.services import document_receive
    from tropa.journeys.services import journey_start
    from tropa.routes.services import plan_create

    photo = io.BytesIO()
    Image.new("RGB", (400, 300), (1, 2, 3)).save(photo, format="JPEG")
    document = document_receive(case=case, data=photo.getvalue(), kind="summons", source="web")
    application = application_add(case=case, keychain=keychain, kind="asylum", country="DE")
    plan = plan_create(
        case=case,
        keychain=keychain,
        start="north-city",
        documents=["internal_passport"],
        risk_aversion="balanced",
    )
    journey = journey_start(
        route_plan=plan,
        keychain=keychain,
        route_index=0,
        departed_at=timezone.now(),
        grace_minutes=30,
    )
    return {
        "case_id": str(case.pk),
        "document_id": str(document.pk),
        "application_id": str(application.pk),
        "plan_id": str(plan.pk),
        "journey_id": str(journey.pk),
        "check_in_id": str(journey.check_ins.first().pk),
    }


def _unvetted(org: Organisation) -> Persona:
    """A volunteer who redeemed an invitation and is not vetted yet."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.conftest import PASSWORD
    from tropa.volunteers.services import invite_create, invite_redeem

    _invite, token = invite_create(by=org.coordinator.staff, alias="Kestrel", teams=["legal"])
    staff = invite_redeem(token=token, username="kestrel", password=PASSWORD)
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    return Persona(staff, device)


def _alarm_and_deadline(case: Any) -> None:
    """A missed check-in (an alarm on every staff page of those who may see it)
    and an application deadline in two days (at the top of their queue)."""
    from datetime import timedelta

    from tropa.applications.models import Application
    from tropa.journeys.models import CheckIn

    now = timezone.now()
    first = CheckIn.objects.filter(journey__case=case).order_by("due_at", "pk").first()
    CheckIn.objects.filter(pk=first.pk).update(missed_at=now, alarm_at=now)
    Application.objects.filter(case=case).update(deadline=timezone.localdate() + timedelta(days=2))


def _assign_service(case: Any, kind: str, staff: Any, *, keychain: Any) -> None:
    from tropa.cases.models import CaseService
    from tropa.cases.services import service_update

    service = CaseService.objects.get(case=case, kind=kind)
    service_update(service=service, keychain=keychain, status="in_progress", assignee=staff)


def _cases(org: Organisation, people: dict[str, Persona], world: World) -> None:
    """Case IN (evacuation and visa, Heron on visa) and case OUT (psychological, Dora)."""
    from tropa.cases.services import service_add

    coordinator = keychain_of(org.coordinator)
    inside = _case(org, service="evacuation", chat="web-inside")
    service_add(case=inside, kind="visa", keychain=coordinator)
    _assign_service(inside, "visa", people["assigned"].staff, keychain=coordinator)
    outside = _case(org, service="psychological", chat="web-outside")
    _assign_service(outside, "psychological", people["dora"].staff, keychain=coordinator)
    world.cases = {"in": inside.pk, "out": outside.pk}
    world.markers = {
        "in": [inside.codename, "Synthetic Applicant web-inside"],
        "out": [outside.codename, "Synthetic Applicant web-outside"],
    }
    world.values[Place.INSIDE] = {
        "*": _furnish(inside, keychain=keychain_of(people["team_member"]))
    }
    world.values[Place.OUTSIDE] = {"*": _furnish(outside, keychain=coordinator)}
    _alarm_and_deadline(inside)
    _alarm_and_deadline(outside)


def _aways(org: Organisation, people: dict[str, Persona]) -> dict[str, tuple[int, int]]:
    """A profile and an away period today for each caseworker: name → (staff id, away id)."""
    from tests.volunteers.conftest import active_volunteer
    from tropa.volunteers.models import VettingStatus
    from tropa.volunteers.services import away_add

    profiles = {
        name: active_volunteer(org, people[name])
        for name in ("assigned", "team_member", "other_team", "dora")
    }
    assert people["unvetted"].staff.profile.status == VettingStatus.INVITED
    profiles["unvetted"] = people["unvetted"].staff.profile
    today = timezone.localdate()
    return {
        name: (profile.staff_id, away_add(profile=profile, starts_on=today, ends_on=today).pk)
        for name, profile in profiles.items()
    }


def _revoke(org: Organisation, charlie: Persona, *, inside: int) -> tuple[Client, Any]:
    """Charlie (visa) was assigned to case IN and signed in; then revoked. Returns
    his dead browser session and the keys he could have copied before."""
    from tropa.cases.models import Case
    from tropa.cases.services import case_assign
    from tropa.volunteers.services import volunteer_revoke

    coordinator = keychain_of(org.coordinator)
    case_assign(case=Case.objects.get(pk=inside), keychain=coordinator, staff=charlie.staff)
    client = sign_in(Client(), charlie)
    stolen = keychain_of(charlie)
    stolen_teams = [stolen.team_private_key(key) for key in stolen.held_team_keys()]
    volunteer_revoke(staff=charlie.staff, by=org.coordinator.staff, keychain=coordinator)
    return client, (stolen, stolen_teams)


def _values(world: World, aways: dict[str, tuple[int, int]], common: dict[str, str]) -> None:
    """URL values per place and role. A role's own profile is "inside" (Dora's for
    those without one); Dora's is "outside"; MIXED puts OUT's objects (and
    someone else's away period) under IN's case id (and one's own staff id)."""
    in_values, out_values = world.values[Place.INSIDE]["*"], world.values[Place.OUTSIDE]["*"]
    revoked = world.people["revoked"]
    assert revoked is not None
    for role in ROLES:
        own = role.name if role.name in aways else "dora"
        own_staff, own_away = aways[own]
        if role.name == "revoked":
            own_staff = revoked.staff.pk
        other_away = aways["assigned" if own == "dora" else "dora"][1]
        staff = {"staff_id": str(own_staff)}
        world.values[Place.INSIDE][role.name] = {
            **common,
            **in_values,
            **staff,
            "away_id": str(own_away),
        }
        world.values[Place.OUTSIDE][role.name] = {
            **common,
            **out_values,
            "staff_id": str(aways["dora"][0]),
            "away_id": str(aways["dora"][1]),
        }
        world.values[Place.MIXED][role.name] = {
            **common,
            **out_values,
            **staff,
            "case_id": in_values["case_id"],
            "away_id": str(other_away),
        }


@pytest.fixture
def world(org: Organisation, settings: Any, tmp_path: Path) -> World:
    from tropa.matching.services import proposal_create
    from tropa.routes.services import knowledge_load_sample

    settings.MEDIA_ROOT = str(tmp_path)
    knowledge_load_sample(keychain=keychain_of(org.coordinator))
    people: dict[str, Persona] = {
        "coordinator": org.coordinator,
        "assigned": _caseworker(org, "heron", "Heron", ["evacuation", "visa"]),
        "team_member": _caseworker(org, "falcon", "Falcon", ["evacuation", "visa"]),
        "other_team": org.caseworker,
        "unvetted": _unvetted(org),
        "revoked": org.other_caseworker,
        "dora": _caseworker(org, "dora", "Ermine", ["psychological"]),
    }
    world = World(org=org, people=dict(people) | {"anonymous": None})
    world.values = {Place.MIXED: {}}
    _cases(org, people, world)
    aways = _aways(org, people)
    revoked_client, world.stolen = _revoke(org, people["revoked"], inside=world.cases["in"])
    world.clients = {
        name: sign_in(Client(), people[name])
        for name in ("coordinator", "assigned", "team_member", "other_team", "unvetted")
    }
    world.clients |= {"revoked": revoked_client, "anonymous": Client()}
    proposal = proposal_create(by=org.coordinator.staff)
    common = {"proposal_id": str(proposal.pk), "leg_id": "L01", "token": "not-a-real-token"}
    _values(world, aways, common)
    return world


# ------------------------------------------------------------ measuring a request

# Rows that a request may add without changing anything of the world: the audit
# chain records reads and refused sessions by design; sessions are the browser's.
UNWATCHED = {"audit_auditevent", "audit_audithead", "django_session", "accounts_loginfailure"}


def _tables() -> list[str]:
    return sorted(set(connection.introspection.table_names()) - UNWATCHED)


def _fingerprint(tables: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored byte of the watched tables (ciphertext included)."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows[table] = sorted(
                (tuple(bytes(v) if isinstance(v, memoryview) else v for v in row))
                for row in cursor.fetchall()
            )
    return rows


@dataclass(frozen=True)
class Outcome:
    status: int
    writes: bool
    location: str
    shows: tuple[str, ...] = ()  # markers of cases found in the body


def _request(
    client: Client, method: str, url: str, *, tables: list[str], before: Any, markers: list[str]
) -> Outcome:
    """One request in a savepoint that is rolled back; the client's cookies too."""
    cookies = SimpleCookie(client.cookies.output(header="", sep="\n"))
    with transaction.atomic():
        response = getattr(client, method)(url, PAYLOAD)
        writes = _fingerprint(tables) != before
        transaction.set_rollback(True)
    client.cookies = cookies
    body = b"" if response.streaming else response.content
    shows = tuple(marker for marker in markers if marker.encode() in body)
    return Outcome(response.status_code, writes, response.get("Location", ""), shows)


def _unseen(world: World, role: Role) -> list[str]:
    """What must never appear in a page this role gets: the cases it cannot hold."""
    if role.coordinator:
        return []
    return world.markers["out"] + ([] if role.holds_in else world.markers["in"])


def _sweep(world: World, role: Role, place: Place) -> tuple[list[str], int]:
    import re

    client = world.clients[role.name]
    tables = _tables()
    before = _fingerprint(tables)
    failures: list[str] = []
    checked = 0
    for route, name in _routes():
        if name in PUBLIC:
            continue
        assert name in RULES, f"add {name} to the table in test_access_roles.py"
        params = set(re.findall(r"<(?:\w+:)?(\w+)>", route))
        if place is Place.MIXED and not params & SUB_OBJECTS:
            continue
        url = _url(route, world.values[place][role.name])
        for method in ("get", "post"):
            want = expected(role, name, params, method, place)
            got = _request(
                client, method, url, tables=tables, before=before, markers=_unseen(world, role)
            )
            checked += 1
            if (
                got.status != want.status
                or got.writes != want.writes
                or (want.location and not got.location.startswith(want.location))
                or got.shows
            ):
                failures.append(f"{method.upper()} {url} ({name}): expected {want}, got {got}")
    assert _fingerprint(tables) == before
    return failures, checked


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.name)
def test_every_url_answers_each_role_as_the_table_says(world: World, role: Role) -> None:
    """Inside, outside and mixed objects in one world (building it is the slow part)."""
    failures: list[str] = []
    for place in Place:
        found, checked = _sweep(world, role, place)
        failures += found
        assert checked >= (8 if place is Place.MIXED else 80)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", [r for r in ROLES if r.signed_in], ids=lambda r: r.name)
def test_the_queue_and_the_alarms_show_exactly_the_cases_a_role_holds(
    world: World, role: Role
) -> None:
    """The other side of the markers check in the sweep: they do show where allowed."""
    from tests.conftest import in_english

    held = {"in", "out"} if role.coordinator else ({"in"} if role.holds_in else set())
    client = in_english(world.clients[role.name])
    queue = client.get("/cases/").content.decode()
    for codename, _name in world.markers.values():
        assert (codename in queue) == (codename in {world.markers[w][0] for w in held})
    # Every staff page counts the alarms (one missed check-in per case) in its header.
    home = client.get("/accounts/home/").content.decode()
    alarms = len(held) if role.coordinator or "evacuation" in role.teams else 0
    for count in (1, 2):
        shown = f"{count} alarm" in home
        assert shown == (count == alarms), (role.name, count)


def test_the_table_names_every_url_the_outsider_test_checks() -> None:
    names = {name for _route, name in _routes() if name not in PUBLIC}
    assert names == set(RULES)


# ------------------------------------------------------------------ crypto side


def _every_wrap_fails(private_keys: list[bytes], case_id: int) -> None:
    """With the database and these private keys, no wrap of the case opens."""
    from tropa.vault import crypto
    from tropa.vault import services as vault
    from tropa.vault.models import CaseKeyWrap

    wraps = list(CaseKeyWrap.objects.filter(case_id=case_id))
    assert wraps
    for private in private_keys:
        for wrap in wraps:
            with pytest.raises(crypto.DecryptionError):
                crypto.unwrap_key(private, bytes(wrap.wrapped), context=vault.case_context(case_id))


def _keys_of(keychain: Any) -> list[bytes]:
    return [keychain.private_key] + [
        keychain.team_private_key(k) for k in keychain.held_team_keys()
    ]


CRYPTO_READS = {  # role → the cases its password opens
    "coordinator": {"in", "out"},
    "assigned": {"in"},
    "team_member": {"in"},
    "other_team": set(),
    "unvetted": set(),
}


@pytest.mark.parametrize("role", sorted(CRYPTO_READS))
def test_with_the_database_and_a_password_only_assigned_cases_open(world: World, role: str) -> None:
    from tropa.vault import crypto
    from tropa.vault import services as vault

    persona = world.people[role]
    assert persona is not None
    keychain = keychain_of(persona)
    for which, case_id in world.cases.items():
        if which in CRYPTO_READS[role]:
            assert len(vault.case_key_unwrap(case_id=case_id, keychain=keychain)) == 32
            continue
        with pytest.raises(crypto.MissingWrap):
            vault.case_key_unwrap(case_id=case_id, keychain=keychain)
        _every_wrap_fails(_keys_of(keychain), case_id)


def test_the_revoked_account_opens_nothing_even_with_keys_copied_before(world: World) -> None:
    from tropa.vault import crypto
    from tropa.vault import services as vault

    persona = world.people["revoked"]
    assert persona is not None
    with pytest.raises(crypto.MissingWrap):  # its key pair is gone
        vault.keychain_unlock(staff=persona.staff, password=persona.password)
    stolen, stolen_teams = world.stolen
    for case_id in world.cases.values():
        _every_wrap_fails([stolen.private_key, *stolen_teams], case_id)


def test_unassigning_the_team_closes_the_case_to_its_members_but_not_the_assignee(
    world: World,
) -> None:
    """The assigned caseworker's own wrap is what is left when the team's goes."""
    from tropa.accounts.models import Team
    from tropa.cases.models import Case
    from tropa.cases.services import case_unassign
    from tropa.vault import crypto
    from tropa.vault import services as vault

    inside = world.cases["in"]
    case = Case.objects.get(pk=inside)
    for kind in ("evacuation", "visa"):
        case_unassign(case=case, by=world.org.coordinator.staff, team=Team.objects.get(kind=kind))
    falcon, heron = world.people["team_member"], world.people["assigned"]
    assert falcon is not None and heron is not None
    assert world.clients["team_member"].get(f"/cases/{inside}/").status_code == 404
    assert world.clients["assigned"].get(f"/cases/{inside}/").status_code == 200
    with pytest.raises(crypto.MissingWrap):
        vault.case_key_unwrap(case_id=inside, keychain=keychain_of(falcon))
    _every_wrap_fails(_keys_of(keychain_of(falcon)), inside)
    assert vault.case_key_unwrap(case_id=inside, keychain=keychain_of(heron))
