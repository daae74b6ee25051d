"""Writes for staff accounts: creation, the two-step login, revocation."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.plugins.otp_totp.models import TOTPDevice

from tropa.accounts.models import LoginFailure, Staff, StaffSession, Team, TeamKind
from tropa.audit.models import Action
from tropa.audit.services import audit_record
from tropa.vault import services as vault


class PasswordOutcome(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class PasswordCheck:
    outcome: PasswordOutcome
    staff: Staff | None = None


class OtpOutcome(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    THROTTLED = "throttled"


@transaction.atomic
def staff_create(
    *,
    username: str,
    alias: str,
    role: str,
    password: str,
    teams: list[str] | None = None,
    created_by: Staff | None = None,
    keychain: vault.Keychain | None = None,
) -> Staff:
    """A new account with its own key pair (private half under the password).

    With the creator's keychain, the keys of the new member's teams (all teams
    for a coordinator) are wrapped for them now; without one (bootstrap, demo),
    `vault.team_keys_ensure()` wraps team keys when it creates them.
    """
    staff = Staff.objects.create_user(username=username, password=password, alias=alias, role=role)
    if teams:
        staff.teams.set(Team.objects.filter(kind__in=teams))
    vault.staff_keys_create(staff=staff, password=password)
    if keychain is not None:
        held = Team.objects.all() if staff.is_coordinator else staff.teams.all()
        for team in held.filter(key__isnull=False):
            vault.team_holder_add(team=team, staff=staff, by=keychain)
    audit_record(
        action=Action.STAFF_CREATED,
        actor_id=created_by.pk if created_by else None,
        detail={"staff_id": staff.pk, "role": role},
    )
    return staff


def teams_ensure() -> None:
    for kind in TeamKind.values:
        Team.objects.get_or_create(kind=kind)


def _username_mac(username: str) -> str:
    # People type passwords into the username field; store neither.
    return salted_hmac("tropa.login.username", username.strip().casefold()).hexdigest()


def failures_recent(key: str, *, within: timedelta) -> int:
    """Failed attempts under this keyed name (never the name itself) lately."""
    since = timezone.now() - within
    return LoginFailure.objects.filter(username_mac=key, at__gte=since).count()


def failure_record(key: str) -> None:
    """One more failed attempt under this keyed name; rows past an hour are dropped."""
    LoginFailure.objects.create(username_mac=key, at=timezone.now())
    LoginFailure.objects.filter(at__lt=timezone.now() - timedelta(hours=1)).delete()


def login_check_password(*, username: str, password: str) -> PasswordCheck:
    """First login step. Wrong name, wrong password and revoked account look alike."""
    mac = _username_mac(username)
    staff = Staff.objects.filter(username=username).first()
    actor = staff.pk if staff else None
    if failures_recent(mac, within=timedelta(minutes=1)) >= settings.LOGIN_FAILURES_PER_MINUTE:
        audit_record(action=Action.LOGIN_THROTTLED, actor_id=actor)
        return PasswordCheck(PasswordOutcome.THROTTLED)
    if staff is None:
        Staff().set_password(password)  # same work as a real check: no timing oracle
        return _password_failed(mac, actor)
    if not staff.check_password(password):
        return _password_failed(mac, actor)
    if staff.is_revoked or not staff.is_active:
        audit_record(action=Action.LOGIN_REVOKED_ACCOUNT, actor_id=actor)
        return PasswordCheck(PasswordOutcome.WRONG)
    return PasswordCheck(PasswordOutcome.OK, staff)


def _password_failed(mac: str, actor: int | None) -> PasswordCheck:
    failure_record(mac)
    audit_record(action=Action.LOGIN_FAILED, actor_id=actor)
    return PasswordCheck(PasswordOutcome.WRONG)


def otp_confirmed_device(staff: Staff) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=staff, confirmed=True).first()


def otp_enrolment_device(staff: Staff) -> TOTPDevice:
    """The unconfirmed authenticator a staff member is enrolling, created on first need."""
    device = TOTPDevice.objects.filter(user=staff, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=staff, name="authenticator", confirmed=False)


@transaction.atomic
def otp_verify(*, staff: Staff, device: TOTPDevice, code: str) -> OtpOutcome:
    """Check a one-time code. django-otp refuses a code at or before the last used step;
    the row lock makes that hold when two requests race with the same code."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        audit_record(action=Action.OTP_FAILED, actor_id=staff.pk, detail={"throttled": True})
        return OtpOutcome.THROTTLED
    if not device.verify_token(code.replace(" ", "")):
        audit_record(action=Action.OTP_FAILED, actor_id=staff.pk)
        return OtpOutcome.WRONG
    if not device.confirmed:
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        audit_record(action=Action.OTP_ENROLLED, actor_id=staff.pk)
    return OtpOutcome.OK


def session_register(*, staff: Staff, session_key: str) -> None:
    StaffSession.objects.update_or_create(session_key=session_key, defaults={"staff": staff})
    audit_record(action=Action.LOGIN, actor_id=staff.pk)


def session_forget(*, staff: Staff, session_key: str | None) -> None:
    if session_key:
        StaffSession.objects.filter(session_key=session_key).delete()
    audit_record(action=Action.LOGOUT, actor_id=staff.pk)


@transaction.atomic
def staff_revoke(*, staff: Staff, by: Staff, keychain: vault.Keychain | None = None) -> list[Team]:
    """Lock a (possibly compromised) account out now.

    Every session dies at once; every wrap made for the account and its key
    pair are deleted; with the revoker's keychain, every team key it held is
    rotated (and each case key wrapped for those teams re-wrapped), so a copy
    of an old team key opens nothing new. Returns the rotated teams.
    """
    if staff.pk == by.pk:
        raise ValueError("a coordinator cannot revoke their own account")
    held_teams = [key.team for key in vault.held_team_keys_of(staff)]
    Staff.objects.filter(pk=staff.pk).update(
        is_active=False,
        revoked_at=timezone.now(),
        revoked_by=by,
        session_epoch=F("session_epoch") + 1,
    )
    keys = list(StaffSession.objects.filter(staff=staff).values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    StaffSession.objects.filter(staff=staff).delete()
    TOTPDevice.objects.filter(user=staff).delete()
    vault.staff_keys_destroy(staff=staff)
    audit_record(action=Action.STAFF_REVOKED, actor_id=by.pk, detail={"staff_id": staff.pk})
    rotated = []
    if keychain is not None:
        for team in held_teams:
            vault.team_key_rotate(team=team, by=keychain)
            audit_record(
                action=Action.TEAM_KEY_ROTATED, actor_id=by.pk, detail={"team_id": team.pk}
            )
            rotated.append(team)
    staff.refresh_from_db()
    return rotated


@transaction.atomic
def staff_team_add(*, staff: Staff, team: Team, keychain: vault.Keychain) -> None:
    """Make someone a member: the team key is wrapped for them by someone who holds it."""
    staff.teams.add(team)
    vault.team_holder_add(team=team, staff=staff, by=keychain)
    audit_record(
        action=Action.STAFF_TEAM_ADDED,
        actor_id=keychain.staff_id,
        detail={"staff_id": staff.pk, "team_id": team.pk},
    )


@transaction.atomic
def staff_team_remove(*, staff: Staff, team: Team, keychain: vault.Keychain) -> None:
    """Remove a member and rotate the team key, so what they may have kept opens nothing new."""
    staff.teams.remove(team)
    vault.team_key_rotate(team=team, by=keychain)
    audit_record(
        action=Action.STAFF_TEAM_REMOVED,
        actor_id=keychain.staff_id,
        detail={"staff_id": staff.pk, "team_id": team.pk},
    )
    audit_record(
        action=Action.TEAM_KEY_ROTATED, actor_id=keychain.staff_id, detail={"team_id": team.pk}
    )
