"""Reads for the proposal page: rows with their case metadata, reasons as sentences."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from tropa.accounts.models import Staff
from tropa.cases.models import CaseService
from tropa.matching.models import Proposal, ProposedAssignment

# The solver's reason codes (tropa.matching.solver), as coordinators read them.
REASONS = {
    "team": _("in the team"),
    "language": _("speaks the applicant's language"),
    "region": _("knows the region"),
    "region_unknown": _("does not know the region"),
    "continuity": _("worked on this case before"),
    "load": _("current load"),
    "no_team_member": _("nobody active in this team"),
    "no_common_language": _("nobody in the team speaks the applicant's language"),
    "no_available_volunteer": _("everyone who could is away or paused"),
    "only_excluded": _("the only possible volunteer flagged this case"),
    "no_capacity": _("everyone who could is at capacity (more urgent cases went first)"),
    "frozen": _("flagged as possibly compromised: coordinators only"),
}


def reason_text(code: str) -> str:
    """'language:ru' → 'speaks the applicant's language (ru)'; unknown codes as they are."""
    name, _sep, value = code.partition(":")
    label = REASONS.get(name)
    if label is None:
        return code
    return f"{label} ({value})" if value else str(label)


@dataclass
class Row:
    row: ProposedAssignment
    service: CaseService
    reasons: list[str]
    choices: list[Staff]


@dataclass
class Waiting:
    service: CaseService | None
    reasons: list[str]


def proposal_rows(proposal: Proposal, eligible: dict[int, list[int]]) -> list[Row]:
    rows = list(proposal.rows.select_related("service__case", "volunteer"))
    staff_ids = {staff_id for ids in eligible.values() for staff_id in ids}
    staff = {member.pk: member for member in Staff.objects.filter(pk__in=staff_ids)}
    return [
        Row(
            row=row,
            service=row.service,
            reasons=[reason_text(code) for code in row.reasons],
            choices=[staff[i] for i in eligible.get(row.service_id, []) if i in staff],
        )
        for row in rows
    ]


def unassignable(proposal: Proposal) -> list[Waiting]:
    ids = [item["service_id"] for item in proposal.unassigned]
    services = CaseService.objects.select_related("case").in_bulk(ids)
    return [
        Waiting(
            service=services.get(item["service_id"]),
            reasons=[reason_text(code) for code in item["reasons"]],
        )
        for item in proposal.unassigned
    ]
