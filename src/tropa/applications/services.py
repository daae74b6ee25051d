"""Writes on applications: open one, move it through its stages, keep its deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction

from tropa.accounts.models import Staff, TeamKind
from tropa.applications.models import Application, Decision, Stage
from tropa.audit.models import Action
from tropa.audit.services import audit_record
from tropa.cases.models import Case, CaseEntry, EntryKind
from tropa.cases.services import TransitionRefused, case_unlock
from tropa.vault import services as vault

# Which stage may follow which (staying in a stage to update dates is always fine).
STAGE_MOVES: dict[str, frozenset[str]] = {
    Stage.PREPARING: frozenset({Stage.SUBMITTED}),
    Stage.SUBMITTED: frozenset({Stage.INTERVIEW, Stage.DECIDED}),
    Stage.INTERVIEW: frozenset({Stage.DECIDED}),
    Stage.DECIDED: frozenset({Stage.APPEALED}),
    Stage.APPEALED: frozenset({Stage.INTERVIEW, Stage.DECIDED}),
}


def may_work_on_applications(staff: Staff) -> bool:
    """Coordinators and the visa team."""
    return staff.is_coordinator or staff.teams.filter(kind=TeamKind.VISA).exists()


@dataclass(frozen=True)
class ApplicationChange:
    stage: str
    decision: str
    submitted_on: date | None
    interview_on: date | None
    decided_on: date | None
    deadline: date | None
    deadline_kind: str
    notes: str
    documents: list[str]


def _entry(case: Case, staff: Staff, text: str) -> None:
    entry = CaseEntry(case=case, kind=EntryKind.APPLICATION, author=staff)
    entry.body = text
    entry.save()
    audit_record(action=Action.APPLICATION_CHANGED, actor_id=staff.pk, case_id=case.pk)


@transaction.atomic
def application_add(
    *, case: Case, keychain: vault.Keychain, kind: str, country: str, notes: str = ""
) -> Application:
    staff = Staff.objects.get(pk=keychain.staff_id)
    if not may_work_on_applications(staff):
        raise TransitionRefused("visa_team_only")
    case_unlock(case=case, keychain=keychain)
    application = Application(case=case, kind=kind, country=country.upper(), created_by=staff)
    application.notes = notes
    application.documents = []
    application.save()
    _entry(case, staff, f"application opened: {kind} ({application.country})")
    return application


@transaction.atomic
def application_update(
    *, application: Application, keychain: vault.Keychain, change: ApplicationChange
) -> None:
    staff = Staff.objects.get(pk=keychain.staff_id)
    if not may_work_on_applications(staff):
        raise TransitionRefused("visa_team_only")
    current = Application.objects.select_for_update().get(pk=application.pk)
    if change.stage != current.stage and change.stage not in STAGE_MOVES[current.stage]:
        raise TransitionRefused("not_allowed")
    if change.stage == Stage.DECIDED and change.decision not in Decision.values:
        raise TransitionRefused("decision_required")
    case = case_unlock(case=application.case, keychain=keychain)
    current.case = case
    current.stage = change.stage
    current.decision = change.decision if change.stage == Stage.DECIDED else ""
    current.submitted_on = change.submitted_on
    current.interview_on = change.interview_on
    current.decided_on = change.decided_on
    current.deadline = change.deadline
    current.deadline_kind = change.deadline_kind if change.deadline else ""
    current.notes = change.notes
    current.documents = change.documents
    current.save()
    summary = f"application {current.kind} ({current.country}): {current.stage}"
    if current.decision:
        summary += f", {current.decision}"
    if current.deadline:
        summary += f"; next deadline {current.deadline.isoformat()} ({current.deadline_kind})"
    _entry(case, staff, summary)
