"""Writes on the volunteer network: invitations, profiles, vetting, revocation.

A volunteer joins through a single-use link, sets a password (which makes
their key pair) and an authenticator at first login, and fills in a profile.
Until a coordinator vets them they hold no team key, so they can open no case;
vetting wraps their teams' keys for them, activation lets the matcher use them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tropa.accounts.models import Role, Staff, Team, TeamKind
from tropa.accounts.services import staff_create, staff_revoke, staff_team_add
from tropa.audit.models import Action
from tropa.audit.services import audit_record
from tropa.cases.models import OPEN_SERVICE_STATUSES, CaseService, ServiceStatus
from tropa.vault import crypto
from tropa.vault import services as vault
from tropa.volunteers.models import AwayPeriod, Invite, VettingStatus, VolunteerProfile

# Which status may follow which; revocation is its own action and always allowed.
STATUS_MOVES: dict[str, frozenset[str]] = {
    VettingStatus.INVITED: frozenset({VettingStatus.VETTED}),
    VettingStatus.VETTED: frozenset({VettingStatus.ACTIVE, VettingStatus.PAUSED}),
    VettingStatus.ACTIVE: frozenset({VettingStatus.PAUSED}),
    VettingStatus.PAUSED: frozenset({VettingStatus.ACTIVE}),
    VettingStatus.REVOKED: frozenset(),
}
PERSONAL_FIELDS = ("name", "contact", "notes")
SERVICE_TEAMS = tuple(kind for kind in TeamKind.values if kind != TeamKind.COORDINATORS)


class VolunteerError(Exception):
    """A refused action; `code` is stable, the view turns it into a sentence."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# ------------------------------------------------------------------ invitations


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invite_create(*, by: Staff, alias: str, teams: list[str]) -> tuple[Invite, str]:
    """A new single-use link; the token is returned once and only its digest kept."""
    if (
        Staff.objects.filter(alias=alias).exists()
        or Invite.objects.filter(alias=alias, used_at=None, expires_at__gt=timezone.now()).exists()
    ):
        raise VolunteerError("alias_taken")
    token = secrets.token_urlsafe(32)
    invite = Invite.objects.create(
        token_digest=_digest(token),
        alias=alias,
        teams=[kind for kind in teams if kind in SERVICE_TEAMS],
        created_by=by,
        expires_at=timezone.now() + timedelta(hours=settings.VOLUNTEER_INVITE_HOURS),
    )
    audit_record(action=Action.VOLUNTEER_INVITED, actor_id=by.pk, detail={"invite_id": invite.pk})
    return invite, token


def invite_check(token: str) -> Invite:
    """The invite behind a token if it can still be used, VolunteerError otherwise."""
    invite = Invite.objects.filter(token_digest=_digest(token)).first()
    if invite is None:
        raise VolunteerError("invite_unknown")
    if invite.used_at is not None:
        raise VolunteerError("invite_used")
    if invite.expires_at <= timezone.now():
        raise VolunteerError("invite_expired")
    return invite


@transaction.atomic
def invite_redeem(*, token: str, username: str, password: str) -> Staff:
    """Create the account the invite was for. The row lock makes a second,
    simultaneous use of the same link fail instead of making two accounts."""
    invite = invite_check(token)
    invite = Invite.objects.select_for_update().get(pk=invite.pk)
    if invite.used_at is not None:
        raise VolunteerError("invite_used")
    if Staff.objects.filter(username=username).exists():
        raise VolunteerError("username_taken")
    try:
        with transaction.atomic():
            staff = staff_create(
                username=username, alias=invite.alias, role=Role.CASEWORKER, password=password
            )
    except IntegrityError as error:
        raise VolunteerError("alias_taken") from error
    profile_create(staff=staff)
    Invite.objects.filter(pk=invite.pk).update(used_at=timezone.now(), staff=staff)
    audit_record(
        action=Action.VOLUNTEER_JOINED,
        actor_id=staff.pk,
        detail={"invite_id": invite.pk, "staff_id": staff.pk},
    )
    return staff


# --------------------------------------------------------------------- profiles


def profile_create(*, staff: Staff) -> VolunteerProfile:
    """An empty profile whose key only the volunteer, the coordinators' team and
    the recovery key can open. Needs public keys only: no one's keychain."""
    key = crypto.random_key()
    profile = VolunteerProfile(staff=staff)
    context = profile.profile_context()
    profile.key_for_self = crypto.wrap_key(vault.staff_public_key(staff), key, context=context)
    profile.key_for_coordinators = crypto.wrap_key(
        vault.team_public_key(TeamKind.COORDINATORS), key, context=context
    )
    recovery = vault.recovery_public_key_or_none()
    if recovery is not None:
        profile.key_for_recovery = crypto.wrap_key(recovery, key, context=context)
    profile.vault_unlock(key)
    profile.personal = {}
    profile.save()
    return profile


def profile_unlock(*, profile: VolunteerProfile, keychain: vault.Keychain) -> VolunteerProfile:
    """Open the personal details: the volunteer's own key or the coordinators' team key."""
    context = profile.profile_context()
    if keychain.staff_id == profile.staff_id:
        key = crypto.unwrap_key(keychain.private_key, bytes(profile.key_for_self), context=context)
    else:
        key = vault.key_unwrap_through_teams(
            keychain, {TeamKind.COORDINATORS: profile.key_for_coordinators}, context=context
        )
    profile.vault_unlock(key)
    return profile


def profile_open(*, profile: VolunteerProfile, keychain: vault.Keychain) -> VolunteerProfile:
    """Unlock someone else's personal details for reading, with an audit row."""
    profile_unlock(profile=profile, keychain=keychain)
    if keychain.staff_id != profile.staff_id:
        audit_record(
            action=Action.VOLUNTEER_PROFILE_OPENED,
            actor_id=keychain.staff_id,
            detail={"staff_id": profile.staff_id},
        )
    return profile


def profile_keys_rewrap(team: Team, old_private: bytes, new_public: bytes) -> None:
    """Team key rotation hook: profile keys follow the coordinators' new key."""
    if team.kind != TeamKind.COORDINATORS:
        return
    for profile in VolunteerProfile.objects.all():
        rewrapped = vault.key_rewrap(
            profile.key_for_coordinators,
            old_private,
            new_public,
            context=profile.profile_context(),
        )
        VolunteerProfile.objects.filter(pk=profile.pk).update(key_for_coordinators=rewrapped)


@dataclass(frozen=True)
class ProfileChange:
    languages: list[str]
    regions: list[str]
    skills: list[str]
    capacity: int
    time_zone: str
    personal: dict[str, str]


@transaction.atomic
def profile_update(
    *, profile: VolunteerProfile, keychain: vault.Keychain, change: ProfileChange
) -> None:
    profile_unlock(profile=profile, keychain=keychain)
    profile.languages = sorted(set(change.languages))
    profile.regions = sorted(set(change.regions))
    profile.skills = sorted(set(change.skills))
    profile.capacity = change.capacity
    profile.time_zone = change.time_zone
    profile.personal = {name: change.personal.get(name, "") for name in PERSONAL_FIELDS}
    profile.save()


def away_add(*, profile: VolunteerProfile, starts_on: date, ends_on: date) -> AwayPeriod:
    if ends_on < starts_on:
        raise VolunteerError("away_backwards")
    return AwayPeriod.objects.create(profile=profile, starts_on=starts_on, ends_on=ends_on)


def away_remove(*, profile: VolunteerProfile, away_id: int) -> None:
    AwayPeriod.objects.filter(profile=profile, pk=away_id).delete()


# ------------------------------------------------------------ vetting, status


@transaction.atomic
def volunteer_vet(*, profile: VolunteerProfile, keychain: vault.Keychain, teams: list[str]) -> None:
    """A coordinator vouches for the volunteer: their teams' keys are wrapped for them."""
    _status_move(profile, VettingStatus.VETTED)
    by = Staff.objects.get(pk=keychain.staff_id)
    for team in Team.objects.filter(kind__in=[kind for kind in teams if kind in SERVICE_TEAMS]):
        staff_team_add(staff=profile.staff, team=team, keychain=keychain)
    VolunteerProfile.objects.filter(pk=profile.pk).update(
        status=VettingStatus.VETTED, vetted_at=timezone.now(), vetted_by=by
    )
    audit_record(
        action=Action.VOLUNTEER_STATUS,
        actor_id=by.pk,
        detail={"staff_id": profile.staff_id, "status": VettingStatus.VETTED.value},
    )


@transaction.atomic
def volunteer_status_set(*, profile: VolunteerProfile, status: str, by: Staff) -> None:
    """Activate (the matcher may use them), pause, resume."""
    if status == VettingStatus.VETTED:
        raise VolunteerError("vetting_needs_teams")
    _status_move(profile, status)
    VolunteerProfile.objects.filter(pk=profile.pk).update(status=status)
    audit_record(
        action=Action.VOLUNTEER_STATUS,
        actor_id=by.pk,
        detail={"staff_id": profile.staff_id, "status": status},
    )


def _status_move(profile: VolunteerProfile, target: str) -> None:
    if target not in STATUS_MOVES.get(profile.status, frozenset()):
        raise VolunteerError("status_move_refused")


@transaction.atomic
def volunteer_revoke(*, staff: Staff, by: Staff, keychain: vault.Keychain) -> list[int]:
    """One action: sessions killed, every wrap and the key pair deleted, the team
    keys they held rotated, removed from every team and case. Returns the ids
    of the services they had, now waiting again, for the matcher to reassign."""
    if staff.pk == by.pk:
        raise VolunteerError("revoke_self")
    staff_revoke(staff=staff, by=by, keychain=keychain)
    staff.teams.clear()
    VolunteerProfile.objects.filter(staff=staff).update(status=VettingStatus.REVOKED)
    open_services = CaseService.objects.filter(assignee=staff, status__in=OPEN_SERVICE_STATUSES)
    freed = list(open_services.values_list("pk", flat=True))
    open_services.update(assignee=None, status=ServiceStatus.REQUESTED)
    return freed
