"""The vault's key hierarchy, for the rest of Tropa.

    staff password ──Argon2id──▶ staff private key ──▶ team private keys
                                        │                     │
                                        └──────▶ case keys ◀──┘ (sealed boxes)
    offline recovery key ──▶ team keys and case keys (for `tropa keys recover`)

A `Keychain` is what one person has unlocked for one request: their private
key and, opened on demand, the private keys of the teams they hold. It lives
in memory only. Intake holds no keychain at all, only public keys
(`intake_public_keys`), so it can seal new cases but open none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from tropa.accounts.models import Role, Staff, Team, TeamKind
from tropa.vault import crypto
from tropa.vault.models import CaseKeyWrap, OrganisationKey, StaffKey, TeamKey, TeamKeyWrap


def kdf_params() -> crypto.KdfParams:
    return (
        crypto.KdfParams.for_tests()
        if settings.VAULT_KDF == "test"
        else crypto.KdfParams.interactive()
    )


def server_keyring() -> dict[int, bytes]:
    """Server-held keys for fields that are not per-case; outside the database."""
    return settings.VAULT_FIELD_KEYS


def blind_index(value: str, *, kind: str) -> str:
    """Exact-match lookup token (same passport number, same Telegram id) without the value."""
    return crypto.blind_index(settings.BLIND_INDEX_KEY.encode(), value, kind=kind)


def team_context(team_key: TeamKey) -> bytes:
    return f"tropa.team:{team_key.team_id}:v{team_key.version}".encode()


def recovery_public_key() -> bytes:
    key = OrganisationKey.objects.filter(pk=1).first()
    if key is None:
        raise crypto.MissingWrap("no organisation recovery key: run `tropa keys init` first")
    return bytes(key.recovery_public_key)


# ----------------------------------------------------------------- keychains


@dataclass
class Keychain:
    """One person's unlocked keys for one request. Never stored, never logged."""

    staff_id: int
    private_key: bytes = field(repr=False)
    _teams: dict[int, bytes] = field(default_factory=dict, repr=False)

    def team_private_key(self, team_key: TeamKey) -> bytes:
        """The private key of a team this person holds a wrap for, or MissingWrap."""
        if team_key.pk not in self._teams:
            wrap = TeamKeyWrap.objects.filter(team_key=team_key, staff_id=self.staff_id).first()
            if wrap is None:
                raise crypto.MissingWrap(f"no key of team {team_key.team_id} for this account")
            self._teams[team_key.pk] = crypto.unwrap_key(
                self.private_key, bytes(wrap.wrapped), context=team_context(team_key)
            )
        return self._teams[team_key.pk]

    def held_team_keys(self) -> list[TeamKey]:
        return list(TeamKey.objects.filter(wraps__staff_id=self.staff_id).select_related("team"))


def held_team_keys_of(staff: Staff) -> list[TeamKey]:
    return list(TeamKey.objects.filter(wraps__staff=staff).select_related("team"))


def keychain_unlock(*, staff: Staff, password: str) -> Keychain:
    """Open a staff private key with the password (WrongPassword otherwise)."""
    key = StaffKey.objects.filter(staff=staff).first()
    if key is None:
        raise crypto.MissingWrap("this account has no key pair")
    private = crypto.password_unprotect(bytes(key.protected_private), password)
    return Keychain(staff_id=staff.pk, private_key=private)


def keychain_from_private(*, staff_id: int, private_key: bytes) -> Keychain:
    return Keychain(staff_id=staff_id, private_key=private_key)


# ---------------------------------------------------------------- staff keys


def staff_keys_create(*, staff: Staff, password: str) -> StaffKey:
    pair = crypto.keypair_generate()
    return StaffKey.objects.create(
        staff=staff,
        public_key=pair.public,
        protected_private=crypto.password_protect(pair.private, password, params=kdf_params()),
    )


@transaction.atomic
def staff_password_change(*, staff: Staff, old_password: str, new_password: str) -> None:
    """Re-wrap the private key under the new password; the key itself stays."""
    keychain = keychain_unlock(staff=staff, password=old_password)
    StaffKey.objects.filter(staff=staff).update(
        protected_private=crypto.password_protect(
            keychain.private_key, new_password, params=kdf_params()
        )
    )
    staff.set_password(new_password)
    staff.save(update_fields=["password"])


def staff_public_key(staff: Staff) -> bytes:
    key = StaffKey.objects.filter(staff=staff).first()
    if key is None:
        raise crypto.MissingWrap(f"staff {staff.pk} has no key pair")
    return bytes(key.public_key)


# ----------------------------------------------------------------- team keys


def _team_holders(team: Team) -> list[Staff]:
    """Who gets a team's private key: its members and every coordinator."""
    holders = Staff.objects.filter(revoked_at=None, key__isnull=False).filter(
        Q(teams=team) | Q(role=Role.COORDINATOR)
    )
    return list(holders.distinct())


def _wrap_team_private(team_key: TeamKey, private: bytes, holders: list[Staff]) -> None:
    context = team_context(team_key)
    TeamKeyWrap.objects.bulk_create(
        [
            TeamKeyWrap(
                team_key=team_key,
                staff=holder,
                wrapped=crypto.wrap_key(staff_public_key(holder), private, context=context),
            )
            for holder in holders
        ]
    )
    recovery = OrganisationKey.objects.filter(pk=1).first()
    if recovery is not None:
        TeamKeyWrap.objects.create(
            team_key=team_key,
            staff=None,
            wrapped=crypto.wrap_key(bytes(recovery.recovery_public_key), private, context=context),
        )


@transaction.atomic
def team_keys_ensure() -> list[Team]:
    """Give every team without a key pair a new one, wrapped for its holders.

    Only at creation does the server hold a team private key, for the length
    of this call; afterwards it exists only inside wraps.
    """
    created = []
    for team in Team.objects.filter(key__isnull=True):
        pair = crypto.keypair_generate()
        team_key = TeamKey.objects.create(team=team, public_key=pair.public)
        _wrap_team_private(team_key, pair.private, _team_holders(team))
        created.append(team)
    return created


def team_key(team: Team) -> TeamKey:
    key = TeamKey.objects.filter(team=team).first()
    if key is None:
        raise crypto.MissingWrap(f"team {team.pk} has no key pair yet")
    return key


def coordinators_team() -> Team:
    team, _ = Team.objects.get_or_create(kind=TeamKind.COORDINATORS)
    return team


@transaction.atomic
def team_holder_add(*, team: Team, staff: Staff, by: Keychain) -> None:
    """Wrap a team key for a new member or coordinator; `by` must hold it."""
    current = team_key(team)
    private = by.team_private_key(current)
    TeamKeyWrap.objects.filter(team_key=current, staff=staff).delete()
    TeamKeyWrap.objects.create(
        team_key=current,
        staff=staff,
        wrapped=crypto.wrap_key(staff_public_key(staff), private, context=team_context(current)),
    )


# ------------------------------------------------- keys of other apps' records
# A record with a key of its own (a volunteer profile, the route book) keeps
# that key wrapped for some teams' public keys and the recovery key.


def team_public_key(kind: str) -> bytes:
    return bytes(team_key(Team.objects.get(kind=kind)).public_key)


def recovery_public_key_or_none() -> bytes | None:
    """The recovery key, or None before `tropa keys init` (then no recovery wrap)."""
    key = OrganisationKey.objects.filter(pk=1).first()
    return bytes(key.recovery_public_key) if key is not None else None


def key_unwrap_through_teams(
    keychain: Keychain, wraps: Mapping[str, bytes], *, context: bytes
) -> bytes:
    """A key wrapped for several teams (kind → wrap), opened through the first
    of them this person holds; MissingWrap if none."""
    held = {key.team.kind: key for key in keychain.held_team_keys()}
    for kind, wrapped in wraps.items():
        if kind in held:
            private = keychain.team_private_key(held[kind])
            return crypto.unwrap_key(private, bytes(wrapped), context=context)
    raise crypto.MissingWrap(f"needs the key of one of: {', '.join(wraps)}")


def key_rewrap(wrapped: bytes, old_private: bytes, new_public: bytes, *, context: bytes) -> bytes:
    """The same key, from a rotated team key's old private half to its new public half."""
    key = crypto.unwrap_key(old_private, bytes(wrapped), context=context)
    return crypto.wrap_key(new_public, key, context=context)


# Other apps that wrap their own keys for a team's public key (volunteer
# profiles for the coordinators) re-wrap them when the team key rotates.
TeamRewrapper = Callable[[Team, bytes, bytes], None]
_team_rewrappers: list[TeamRewrapper] = []


def team_rewrapper_register(rewrap: TeamRewrapper) -> None:
    """`rewrap(team, old_private, new_public)` runs inside every team key rotation."""
    if rewrap not in _team_rewrappers:
        _team_rewrappers.append(rewrap)


@transaction.atomic
def team_key_rotate(*, team: Team, by: Keychain) -> TeamKey:
    """New team key pair after someone left: re-wrap every case key the team held.

    Whoever left may have copied the old team private key; after rotation no
    current or future wrap is made for it, and its own wraps are gone.
    """
    old = team_key(team)
    old_private = by.team_private_key(old)
    pair = crypto.keypair_generate()
    old.wraps.all().delete()
    TeamKey.objects.filter(pk=old.pk).update(version=old.version + 1, public_key=pair.public)
    old.refresh_from_db()
    _wrap_team_private(old, pair.private, _team_holders(team))
    for wrap in CaseKeyWrap.objects.filter(team=team):
        case_key = crypto.unwrap_key(
            old_private, bytes(wrap.wrapped), context=case_context(wrap.case_id)
        )
        wrap.wrapped = crypto.wrap_key(pair.public, case_key, context=case_context(wrap.case_id))
        wrap.save(update_fields=["wrapped"])
    for rewrap in _team_rewrappers:
        rewrap(team, old_private, pair.public)
    return old


# ------------------------------------------------------------ recovery key


@transaction.atomic
def organisation_key_init() -> crypto.KeyPair:
    """Create the recovery key pair; the caller prints the private half and forgets it."""
    if OrganisationKey.objects.filter(pk=1).exists():
        raise crypto.VaultError("the organisation recovery key exists already")
    pair = crypto.keypair_generate()
    OrganisationKey.objects.create(pk=1, recovery_public_key=pair.public)
    # Teams created before the recovery key existed get a recovery wrap now;
    # nothing can produce their private keys here, so only new teams are covered.
    return pair


def intake_public_keys() -> dict[str, bytes]:
    """All the intake process may hold: public keys, which open nothing."""
    return {
        "coordinators": bytes(team_key(coordinators_team()).public_key),
        "recovery": recovery_public_key(),
    }


# ----------------------------------------------------------------- case keys


def case_context(case_id: int) -> bytes:
    return f"tropa.case:{case_id}".encode()


def case_key_unwrap(*, case_id: int, keychain: Keychain) -> bytes:
    """The case key through a wrap this person holds, directly or via a team."""
    context = case_context(case_id)
    own = CaseKeyWrap.objects.filter(case_id=case_id, staff_id=keychain.staff_id).first()
    if own is not None:
        return crypto.unwrap_key(keychain.private_key, bytes(own.wrapped), context=context)
    held = {key.team_id: key for key in keychain.held_team_keys()}
    for wrap in CaseKeyWrap.objects.filter(case_id=case_id, team_id__in=held):
        team_private = keychain.team_private_key(held[wrap.team_id])
        return crypto.unwrap_key(team_private, bytes(wrap.wrapped), context=context)
    raise crypto.MissingWrap(f"no key of case {case_id} for this account")


def case_key_wrap(
    *,
    case_id: int,
    case_key: bytes,
    staff: Staff | None = None,
    team: Team | None = None,
    assigned_by: Staff | None = None,
) -> CaseKeyWrap:
    """Seal a case key for one staff member, one team, or (neither) the recovery key."""
    if staff is not None:
        public = staff_public_key(staff)
    elif team is not None:
        public = bytes(team_key(team).public_key)
    else:
        public = recovery_public_key()
    wrapped = crypto.wrap_key(public, case_key, context=case_context(case_id))
    wrap, _ = CaseKeyWrap.objects.update_or_create(
        case_id=case_id,
        staff=staff,
        team=team,
        defaults={"wrapped": wrapped, "assigned_by": assigned_by},
    )
    return wrap


def case_key_unwrap_with_recovery(*, case_id: int, recovery_private: bytes) -> bytes:
    wrap = CaseKeyWrap.objects.filter(case_id=case_id, staff=None, team=None).first()
    if wrap is None:
        raise crypto.MissingWrap(f"case {case_id} has no recovery wrap")
    return crypto.unwrap_key(recovery_private, bytes(wrap.wrapped), context=case_context(case_id))


@transaction.atomic
def staff_keys_destroy(*, staff: Staff) -> None:
    """Everything that let this account open anything: gone."""
    CaseKeyWrap.objects.filter(staff=staff).delete()
    TeamKeyWrap.objects.filter(staff=staff).delete()
    StaffKey.objects.filter(staff=staff).delete()
