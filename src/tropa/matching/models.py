"""A matcher run: the proposal coordinators review, edit and accept.

Rows name services and staff by id, reasons by stable codes: nothing here
identifies an applicant.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Proposal(models.Model):
    created_by = models.ForeignKey(
        "accounts.Staff", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        "accounts.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The services it was asked about (empty: everything waiting).
    scope = models.JSONField(default=list, blank=True)
    # [{"service_id": 12, "reasons": ["no_common_language"]}, ...]
    unassigned = models.JSONField(default=list, blank=True)
    total_cost = models.FloatField(default=0)
    greedy_cost = models.FloatField(default=0)
    greedy_served = models.PositiveIntegerField(default=0)
    solve_ms = models.FloatField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"proposal {self.pk}"

    @property
    def is_accepted(self) -> bool:
        return self.accepted_at is not None


class RowOutcome(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    ASSIGNED = "assigned", _("assigned")
    SKIPPED = "skipped", _("left unassigned")
    STALE = "stale", _("no longer possible")


class ProposedAssignment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="rows")
    service = models.ForeignKey("cases.CaseService", on_delete=models.CASCADE, related_name="+")
    volunteer = models.ForeignKey("accounts.Staff", on_delete=models.CASCADE, related_name="+")
    cost = models.FloatField()
    reasons = models.JSONField(default=list)
    outcome = models.CharField(
        max_length=16, choices=RowOutcome.choices, default=RowOutcome.PROPOSED
    )

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"service {self.service_id} → staff {self.volunteer_id}"
