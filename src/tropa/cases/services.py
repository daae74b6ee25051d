"""Writes on cases. Sealing and appending need only public keys (intake);
everything else needs a keychain that can unwrap the case key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from tropa.accounts.models import Staff, Team
from tropa.audit.models import Action
from tropa.audit.services import audit_record
from tropa.cases.codenames import codename_generate
from tropa.cases.models import (
    Case,
    CaseEntry,
    CaseIndex,
    CaseService,
    EntryKind,
    Outcome,
    ServiceSession,
    ServiceStatus,
    Status,
    Verification,
)
from tropa.cases.notify import applicant_notify
from tropa.vault import crypto
from tropa.vault import services as vault
from tropa.vault.models import CaseKeyWrap

# Identity values that get a blind index, for duplicate detection.
INDEXED_IDENTITY_KINDS = ("passport_number", "foreign_passport_number", "telegram_id", "phone")
# A document number seen in another case flags the new one (duplicate or infiltrator).
DOCUMENT_KINDS = ("passport_number", "foreign_passport_number")


@dataclass(frozen=True)
class IntakeKeys:
    """What the internet-facing intake process holds: public keys only."""

    coordinators_public: bytes
    recovery_public: bytes

    @classmethod
    def load(cls) -> IntakeKeys:
        keys = vault.intake_public_keys()
        return cls(coordinators_public=keys["coordinators"], recovery_public=keys["recovery"])


@transaction.atomic
def case_seal(
    *,
    keys: IntakeKeys,
    identity: dict[str, str],
    answers: list[str],
    category: str = "",
    urgency: int = 0,
    language: str = "",
    region: str = "",
    channel: str = "",
    codename: str | None = None,
) -> Case:
    """Create a case the intake process itself cannot open once this returns.

    The case key exists in memory only for this call: it encrypts the identity
    and the answers, is sealed for the coordinators' team and the recovery key,
    and is then dropped.
    """
    case_key = crypto.random_key()
    pair = crypto.keypair_generate()
    case = Case(
        codename=codename or codename_generate(),
        category=category,
        urgency=urgency,
        language=language,
        region=region,
        channel=channel,
        public_key=pair.public,
    )
    case.vault_unlock(case_key)
    case.private_key = pair.private
    case.identity = identity
    _save_with_unique_codename(case)
    for text in answers:
        entry = CaseEntry(case=case, kind=EntryKind.ANSWER)
        entry.body = text
        entry.save()
    context = vault.case_context(case.pk)
    CaseKeyWrap.objects.bulk_create(
        [
            CaseKeyWrap(
                case=case,
                team=vault.coordinators_team(),
                wrapped=crypto.wrap_key(keys.coordinators_public, case_key, context=context),
            ),
            CaseKeyWrap(
                case=case, wrapped=crypto.wrap_key(keys.recovery_public, case_key, context=context)
            ),
        ]
    )
    _index_identity(case, identity)
    case.vault_lock()
    return case


def _save_with_unique_codename(case: Case) -> None:
    for attempt in range(1, 25):
        try:
            with transaction.atomic():
                case.save()
            return
        except IntegrityError:
            case.codename = codename_generate(attempt=attempt)
    raise RuntimeError("could not find a free codename")


def _index_digest(kind: str, value: str) -> str:
    # Document numbers are written with and without spaces; both are one number.
    if kind in DOCUMENT_KINDS:
        value = "".join(value.split())
    return vault.blind_index(value, kind=kind)


def _index_identity(case: Case, identity: dict[str, str]) -> None:
    indexes = [
        CaseIndex(case=case, kind=kind, digest=_index_digest(kind, identity[kind]))
        for kind in INDEXED_IDENTITY_KINDS
        if identity.get(kind)
    ]
    CaseIndex.objects.bulk_create(indexes)
    for index in (i for i in indexes if i.kind in DOCUMENT_KINDS):
        if (
            CaseIndex.objects.filter(kind=index.kind, digest=index.digest)
            .exclude(case=case)
            .exists()
        ):
            case_flag_compromised(case_id=case.pk, reason="duplicate_documents")
            break


def document_number_index(
    *, case: Case, kind: str, value: str, by_id: int | None = None
) -> list[int]:
    """Index a document number read later (from an MRZ) like intake's: the other
    cases holding it are returned and this one is flagged for the coordinators."""
    digest = _index_digest(kind, value)
    CaseIndex.objects.get_or_create(case=case, kind=kind, digest=digest)
    others = list(
        CaseIndex.objects.filter(kind=kind, digest=digest)
        .exclude(case=case)
        .values_list("case_id", flat=True)
    )
    if others:
        case_flag_compromised(case_id=case.pk, reason="duplicate_documents", by_id=by_id)
    return others


def sensitive_allowed(case: Case) -> str | None:
    """Why routes, plans or contacts may not go to or be shown for this case, or None.

    Only a case a coordinator verified, and that is not flagged as possibly
    compromised, gets anything sensitive: an infiltrator posing as a deserter
    must learn nothing."""
    if case.compromised_at is not None:
        return "frozen"
    if case.verified_at is None:
        return "needs_verification"
    return None


def case_flag_compromised(*, case_id: int, reason: str, by_id: int | None = None) -> None:
    """Mark a case as possibly compromised (the duress PIN, duplicate documents,
    a caseworker's doubt): it is frozen for everyone but the coordinators."""
    Case.objects.filter(pk=case_id, compromised_at=None).update(
        compromised_at=timezone.now(), compromised_reason=reason, flagged_by_id=by_id
    )
    audit_record(
        action=Action.CASE_FLAGGED, actor_id=by_id, case_id=case_id, detail={"reason": reason}
    )


def case_append_inbound(*, case: Case, text: str, kind: str = EntryKind.MESSAGE_IN) -> CaseEntry:
    """Append a message using only the case public key: write-only, like intake."""
    entry_key = crypto.random_key()
    entry = CaseEntry(case=case, kind=kind)
    entry.entry_key_wrapped = crypto.wrap_key(
        bytes(case.public_key), entry_key, context=entry.entry_context()
    )
    entry.__dict__["_entry_key"] = entry_key
    entry.body = text
    entry.save()
    entry.__dict__.pop("_entry_key")
    Case.objects.filter(pk=case.pk).update(last_inbound_at=entry.created_at)
    return entry


def case_unlock(*, case: Case, keychain: vault.Keychain) -> Case:
    """Unwrap the case key for this request; MissingWrap if the person has no access."""
    if not case.is_unlocked:
        case.vault_unlock(vault.case_key_unwrap(case_id=case.pk, keychain=keychain))
    return case


def case_open(*, case: Case, keychain: vault.Keychain) -> Case:
    """Unlock a case file for reading, and record that it was opened."""
    case_unlock(case=case, keychain=keychain)
    audit_record(action=Action.CASE_OPENED, actor_id=keychain.staff_id, case_id=case.pk)
    return case


@transaction.atomic
def case_note_add(*, case: Case, keychain: vault.Keychain, text: str) -> CaseEntry:
    case_unlock(case=case, keychain=keychain)
    entry = CaseEntry(case=case, kind=EntryKind.NOTE, author_id=keychain.staff_id)
    entry.body = text
    entry.save()
    return entry


@transaction.atomic
def case_assign(
    *, case: Case, keychain: vault.Keychain, staff: Staff | None = None, team: Team | None = None
) -> None:
    """Give a person or a team access: wrap the case key for them."""
    if (staff is None) == (team is None):
        raise ValueError("assign to exactly one staff member or one team")
    case_unlock(case=case, keychain=keychain)
    vault.case_key_wrap(
        case_id=case.pk,
        case_key=case.vault_keyring()[1],
        staff=staff,
        team=team,
        assigned_by=Staff.objects.get(pk=keychain.staff_id),
    )
    entry = CaseEntry(case=case, kind=EntryKind.ASSIGNMENT, author_id=keychain.staff_id)
    entry.body = f"→ {staff.alias}" if staff is not None else f"→ {team}"
    entry.save()
    audit_record(
        action=Action.CASE_ASSIGNED,
        actor_id=keychain.staff_id,
        case_id=case.pk,
        detail=_holder(staff, team),
    )


def _holder(staff: Staff | None, team: Team | None) -> dict[str, int]:
    """Who a wrap is for, as the audit log records it: ids only."""
    if staff is not None:
        return {"staff_id": staff.pk}
    return {"team_id": team.pk} if team is not None else {}


@transaction.atomic
def case_unassign(
    *, case: Case, by: Staff, staff: Staff | None = None, team: Team | None = None
) -> None:
    """Take access away: the wrap is deleted, so the key no longer reaches them."""
    if (staff is None) == (team is None):
        raise ValueError("unassign exactly one staff member or one team")
    CaseKeyWrap.objects.filter(case=case, staff=staff, team=team).delete()
    audit_record(
        action=Action.CASE_UNASSIGNED,
        actor_id=by.pk,
        case_id=case.pk,
        detail=_holder(staff, team),
    )


@transaction.atomic
def case_close(*, case: Case, by: Staff, outcome: str) -> None:
    """Close without the workflow (retention tests, imports); the outcome is still required."""
    if outcome not in Outcome.values:
        raise TransitionRefused("outcome_required")
    Case.objects.filter(pk=case.pk).update(
        status=Status.CLOSED, closed_at=timezone.now(), outcome=outcome
    )
    audit_record(action=Action.CASE_CLOSED, actor_id=by.pk, case_id=case.pk)


@transaction.atomic
def case_shred(*, case_id: int, by: Staff | None = None, reason: str = "deleted") -> None:
    """Crypto-shredding: every wrap of the case key goes, then every ciphertext.

    Without a wrap nothing can recover the case key, so a backup taken after
    this holds only ciphertext no key in the store opens. SQLite overwrites the
    freed pages (secure_delete); PostgreSQL leaves dead tuples until VACUUM,
    which is why the wraps matter more than the rows.
    """
    CaseKeyWrap.objects.filter(case_id=case_id).delete()
    CaseIndex.objects.filter(case_id=case_id).delete()
    CaseEntry.objects.filter(case_id=case_id).delete()
    Case.objects.filter(pk=case_id).delete()
    audit_record(
        action=Action.CASE_SHREDDED,
        actor_id=by.pk if by else None,
        case_id=case_id,
        detail={"reason": reason},
    )


def retention_due(*, now: datetime | None = None) -> list[int]:
    """Closed cases whose retention period, set per outcome, has passed."""
    now = now or timezone.now()
    days = settings.RETENTION_DAYS
    due = []
    for case_id, outcome, closed_at in Case.objects.filter(closed_at__isnull=False).values_list(
        "pk", "outcome", "closed_at"
    ):
        keep = days.get(outcome, days["*"])
        if closed_at + timedelta(days=keep) <= now:
            due.append(case_id)
    return due


def retention_run(*, now: datetime | None = None) -> int:
    """Shred every case past retention; returns how many."""
    due = retention_due(now=now)
    for case_id in due:
        case_shred(case_id=case_id, reason="retention")
    return len(due)


def duplicates_of(*, kind: str, value: str) -> list[int]:
    """Ids of cases holding the same identifying value, found through the blind index."""
    digest = _index_digest(kind, value)
    return list(
        CaseIndex.objects.filter(kind=kind, digest=digest).values_list("case_id", flat=True)
    )


@transaction.atomic
def case_recover(
    *, case: Case, recovery_private: bytes, staff: Staff | None = None, team: Team | None = None
) -> None:
    """Re-grant access with the offline recovery key (e.g. the only assignee was revoked)."""
    case_key = vault.case_key_unwrap_with_recovery(
        case_id=case.pk, recovery_private=recovery_private
    )
    vault.case_key_wrap(case_id=case.pk, case_key=case_key, staff=staff, team=team)
    audit_record(
        action=Action.CASE_RECOVERED,
        case_id=case.pk,
        detail=_holder(staff, team),
    )


# ------------------------------------------------------------------ workflow

# What the applicant is told when his case moves, in his language. Moves that
# would say something sensitive (going on the move) are left to the caseworker.
APPLICANT_NOTICES = {
    Status.VERIFICATION: gettext_lazy(
        "To help you safely, we first need to confirm who you are. "
        "A volunteer will explain here how we do it."
    ),
    Status.IN_PROGRESS: gettext_lazy(
        "A volunteer is now working on your request and will write here."
    ),
    Status.CLOSED: gettext_lazy("Your request is closed. If you need help again, just write here."),
}


class TransitionRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@transaction.atomic
def case_transition(
    *, case: Case, target: str, keychain: vault.Keychain, outcome: str = ""
) -> None:
    """Move a case along the workflow, record it, and tell the applicant what concerns him.

    Closing needs an outcome from the fixed list (`Outcome`): the public figures
    and the retention period depend on it. Reopening clears it."""
    from tropa.cases import workflow

    case = Case.objects.select_for_update().get(pk=case.pk)
    staff = Staff.objects.get(pk=keychain.staff_id)
    refusal = workflow.transition_check(
        workflow.State(case.status),
        workflow.State(target),
        verified=case.verified_at is not None,
        coordinator=staff.is_coordinator,
        frozen=case.compromised_at is not None,
    )
    if refusal is not None:
        raise TransitionRefused(refusal.reason)
    closing = target == Status.CLOSED
    if closing and outcome not in Outcome.values:
        raise TransitionRefused("outcome_required")
    case_unlock(case=case, keychain=keychain)
    previous = case.status
    Case.objects.filter(pk=case.pk).update(
        status=target,
        closed_at=timezone.now() if closing else None,
        outcome=outcome if closing else "",
    )
    entry = CaseEntry(case=case, kind=EntryKind.STATUS, author=staff)
    entry.body = f"{previous} → {target}" + (f" ({outcome})" if closing else "")
    entry.save()
    audit_record(
        action=Action.CASE_STATUS,
        actor_id=staff.pk,
        case_id=case.pk,
        detail={"from": previous, "to": target},
    )
    notice = APPLICANT_NOTICES.get(Status(target))
    if notice is not None:
        with translation.override(case.language or settings.LANGUAGE_CODE):
            applicant_notify(case, str(notice))


@transaction.atomic
def verification_update(
    *,
    case: Case,
    keychain: vault.Keychain,
    documents_checked: bool,
    call_at: datetime | None,
    call_link: str,
    call_done: bool,
) -> Verification:
    """The caseworker's part of the checklist; the link is kept under the case key."""
    case_unlock(case=case, keychain=keychain)
    check, _ = Verification.objects.get_or_create(case=case)
    check.case = case
    check.documents_checked = documents_checked
    check.call_at = call_at
    check.call_link = call_link
    check.call_done = call_done
    check.save()
    return check


@transaction.atomic
def verification_decide(
    *, case: Case, keychain: vault.Keychain, verified: bool, reason: str
) -> None:
    """A coordinator's decision; only it unlocks routes, plans and contacts."""
    staff = Staff.objects.get(pk=keychain.staff_id)
    if not staff.is_coordinator:
        raise TransitionRefused("coordinator_only")
    case_unlock(case=case, keychain=keychain)
    check, _ = Verification.objects.get_or_create(case=case)
    check.case = case
    check.decision = Verification.Decision.VERIFIED if verified else Verification.Decision.REJECTED
    check.reason = reason
    check.decided_by = staff
    check.decided_at = timezone.now()
    check.save()
    Case.objects.filter(pk=case.pk).update(verified_at=check.decided_at if verified else None)
    entry = CaseEntry(case=case, kind=EntryKind.VERIFICATION, author=staff)
    entry.body = f"{check.decision}: {reason}"
    entry.save()
    audit_record(
        action=Action.CASE_VERIFIED if verified else Action.CASE_REJECTED,
        actor_id=staff.pk,
        case_id=case.pk,
    )


# ------------------------------------------------------------------ services


@transaction.atomic
def service_add(*, case: Case, kind: str, keychain: vault.Keychain) -> CaseService:
    """The case needs this service: its team gets the case key and a sub-task."""
    from tropa.accounts.models import Team, TeamKind

    if kind not in TeamKind.values or kind == TeamKind.COORDINATORS:
        raise TransitionRefused("unknown_service")
    case_unlock(case=case, keychain=keychain)
    team = Team.objects.get(kind=kind)
    service, created = CaseService.objects.get_or_create(case=case, kind=kind)
    if created:
        if not CaseKeyWrap.objects.filter(case=case, team=team).exists():
            case_assign(case=case, keychain=keychain, team=team)
        _service_entry(case, keychain, f"+ {kind}")
    return service


@transaction.atomic
def service_update(
    *, service: CaseService, keychain: vault.Keychain, status: str, assignee: Staff | None
) -> None:
    case = case_unlock(case=service.case, keychain=keychain)
    if assignee is not None and not CaseKeyWrap.objects.filter(case=case, staff=assignee).exists():
        case_assign(case=case, keychain=keychain, staff=assignee)
    finished = status in (ServiceStatus.DONE, ServiceStatus.CANCELLED)
    CaseService.objects.filter(pk=service.pk).update(
        status=status,
        assignee=assignee,
        finished_at=(service.finished_at or timezone.now()) if finished else None,
    )
    _service_entry(case, keychain, f"{service.kind}: {status}")


@transaction.atomic
def service_session_log(
    *, service: CaseService, keychain: vault.Keychain, held_at: datetime, minutes: int, note: str
) -> ServiceSession:
    case = case_unlock(case=service.case, keychain=keychain)
    service.case = case
    session = ServiceSession(
        service=service, held_at=held_at, duration_minutes=minutes, author_id=keychain.staff_id
    )
    session.note = note
    session.save()
    return session


def _service_entry(case: Case, keychain: vault.Keychain, text: str) -> None:
    entry = CaseEntry(case=case, kind=EntryKind.SERVICE, author_id=keychain.staff_id)
    entry.body = text
    entry.save()
    audit_record(action=Action.CASE_SERVICE, actor_id=keychain.staff_id, case_id=case.pk)
